import Foundation
import XCTest

/// The REPL on a pseudo-terminal: prompts, multi-line cells, completion, history across
/// sessions, `:save`, and Ctrl-C. HOME is the test's folder, so history starts empty.
///
/// Keys are typed only once the prompt shows: libedit flushes input typed ahead of it.
final class REPLTests: FolderTestCase {
    private func repl() throws -> Terminal {
        let terminal = try Terminal(directory: folder, environment: ["HOME": folder.path])
        terminal.expect("In [1]: ")
        return terminal
    }

    func testCellsAreNumberedAndValuesShown() throws {
        let terminal = try repl()
        terminal.type("x = 20\r")
        terminal.expect("In [2]: ")
        terminal.type("x + 22\r")
        terminal.expect("Out[2]: 42")
        terminal.expect("In [3]: ")
        terminal.type("print nope\r")
        terminal.expect("<repl>:3:7: error: unknown name 'nope'")
        terminal.expect("In [4]: ", seconds: 10)
        terminal.type("\u{4}")
        XCTAssertEqual(terminal.waitForExit(), 0, "errors do not change the REPL's exit status")
    }

    func testMultiLineCellWaitsForTheClosingBrace() throws {
        let terminal = try repl()
        terminal.type("for i in range(3) {\r")
        terminal.expect("...: ")
        terminal.type("  print i * 10\r")
        terminal.expect("...: ")
        terminal.type("}\r")
        terminal.expect("0\r\n10\r\n20")
        terminal.expect("In [2]: ")
        terminal.type(":quit\r")
        XCTAssertEqual(terminal.waitForExit(), 0)
    }

    func testTabCompletesCommandsAndWorkspaceNames() throws {
        let terminal = try repl()
        terminal.type("learning_rate = 3\r")
        terminal.expect("In [2]: ")
        terminal.type("print learn\t\r")
        terminal.expect("3")
        terminal.expect("In [3]: ")
        terminal.type("tensor ara\t3\r")
        terminal.expect("Out[3]: [0., 1., 2.]")
        terminal.type("\u{4}")
        XCTAssertEqual(terminal.waitForExit(), 0)
    }

    /// History is written to ~/.prn_history and read back by the next session.
    func testHistoryPersistsAcrossSessions() throws {
        do {
            let first = try repl()
            first.type("y = 5\r")
            first.expect("In [2]: ")
            first.type("print y * 2\r")
            first.expect("10")
            first.expect("In [3]: ")
            first.type("\u{4}")
            XCTAssertEqual(first.waitForExit(), 0)
        }
        XCTAssertTrue(exists(".prn_history"))
        let second = try repl()
        second.type("y = 7\r")
        second.expect("In [2]: ")
        // Ctrl-P twice: back past `y = 7` to the last line of the first session.
        second.type("\u{10}\u{10}\r")
        second.expect("14")
        second.expect("In [3]: ")
        second.type(":history\r")
        second.expect("   1  y = 5\r\n   2  print y * 2\r\n   3  y = 7\r\n   4  print y * 2\r\n   5  :history")
        second.expect("In [3]: ")
        second.type("\u{4}")
        XCTAssertEqual(second.waitForExit(), 0)
    }

    func testSaveWritesTheSessionAsANotebook() throws {
        let terminal = try repl()
        terminal.type("t = table\r")
        terminal.expect("In [2]: ")
        terminal.type("row t method=snip acc=0.75\r")
        terminal.expect("In [3]: ")
        terminal.type("show t\r")
        terminal.expect("In [4]: ")
        terminal.type(":save session.md\r")
        terminal.expect("saved 3 cells to session.md")
        terminal.type(":save not-a-folder/x/session.md\r")
        terminal.expect("error: cannot write not-a-folder/x/session.md")
        terminal.expect("In [4]: ")
        terminal.type("\u{4}")
        XCTAssertEqual(terminal.waitForExit(), 0)
        let notebook = try read("session.md")
        XCTAssertTrue(notebook.contains("row t method=snip acc=0.75"), notebook)
        XCTAssertTrue(notebook.contains("| snip | 0.75"), notebook)
    }

    /// Ctrl-C during `train` stops it at the next step; the REPL goes on with the workspace.
    func testCtrlCStopsTrainAndKeepsTheWorkspace() throws {
        let terminal = try repl()
        terminal.type("set timing off\r")
        terminal.expect("In [2]: ")
        terminal.type("d = data synthetic classes=3 shape=[8] train=96 test=48 seed=1\r")
        terminal.expect("In [3]: ")
        terminal.type("m = model mlp widths=[16] data=d seed=2\r")
        terminal.expect("In [4]: ")
        terminal.type("r = train m data=d epochs=100000 batch=16\r")
        terminal.expect("epoch 1/100000")
        terminal.type("\u{3}", atPrompt: false)
        terminal.expect("training interrupted")
        terminal.expect("In [5]: ")
        terminal.type("print r.interrupted\r")
        terminal.expect("true")
        terminal.expect("In [6]: ")
        terminal.type("print m.name\r")
        terminal.expect("mlp")
        terminal.expect("In [7]: ")
        // Ctrl-C at the prompt drops the line being typed.
        terminal.type("print 12345\u{3}")
        terminal.expect("In [7]: ")
        terminal.type("print 6789\r")
        terminal.expect("6789")
        terminal.expect("In [8]: ")
        XCTAssertFalse(terminal.transcript.contains("\n12345"), "the dropped line ran")
        terminal.type("\u{4}")
        XCTAssertEqual(terminal.waitForExit(), 0)
    }
}
