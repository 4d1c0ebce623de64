import CLibEdit
import Foundation
import PrnLang

/// Signals that stop prn. The first SIGINT (Ctrl-C) sets `Interrupt.requested`: long commands
/// stop at their next check, the REPL clears its line. In run mode SIGTERM (Slurm's time limit)
/// and SIGHUP do the same, so the notebook and results so far are written before exiting with
/// 128 + the signal's number. A second signal before the flag is cleared exits at once, so a
/// stuck computation can always be killed.
enum Signals {
    static func install() {
        Interrupt.clear()   // initializes the flag outside the handler
        _ = prn_install_signal(SIGINT, handler)
    }

    /// SIGTERM and SIGHUP stop a script cleanly instead of killing it (`prn run`, `prn -e`).
    static func installForRuns() {
        _ = prn_install_signal(SIGTERM, handler)
        _ = prn_install_signal(SIGHUP, handler)
    }

    private static let handler: @convention(c) (Int32) -> Void = { signal in
        if Interrupt.requested { _exit(128 + signal) }
        Interrupt.request(signal: signal)
    }

    /// The exit status for a run stopped by `signal`: 128 + its number (130 for SIGINT).
    static func exitStatus(_ signal: Int32) -> Int32 { 128 + (signal == 0 ? SIGINT : signal) }

    /// The signal's name as `kill -l` spells it, e.g. "SIGTERM".
    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "SIGINT"
        }
    }
}
