import CLibEdit
import Foundation
import PrnLang

/// Ctrl-C handling: the first SIGINT sets `Interrupt.requested` (long commands stop at their next
/// check, the REPL clears its line); a second one before the flag is cleared exits with 130, so a
/// stuck computation can always be killed.
enum Signals {
    static func install() {
        Interrupt.clear()   // initializes the flag outside the handler
        _ = prn_install_sigint { _ in
            if Interrupt.requested { _exit(130) }
            Interrupt.request()
        }
    }
}
