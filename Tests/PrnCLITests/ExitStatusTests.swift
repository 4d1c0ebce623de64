import Foundation
import XCTest

/// `prn`'s exit statuses (0 ok, 1 error, 2 usage, 130 interrupted) and the usage error of every
/// option, from the built executable.
final class ExitStatusTests: FolderTestCase {
    func testScriptThatRunsExitsZero() throws {
        try write("ok.prn", "x = 2\nprint x * 3\n")
        let result = try prn("run", "ok.prn")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdoutLines, ["6"])
        XCTAssertEqual(result.stderr, "")
    }

    func testScriptErrorExitsOneAndStopsThere() throws {
        try write("bad.prn", "alpha = 1\nprint alpha\nprint alpah\nprint 99\n")
        let result = try prn("run", "bad.prn")
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdoutLines, ["1"], "the script stops at its first error")
        XCTAssertEqual(result.stderrLines, ["bad.prn:3:7: error: unknown name 'alpah'; did you mean 'alpha'?",
                                            "print alpah", "      ^"])
    }

    /// `--set` on a script that does not parse reports the parse error, not a missing assignment.
    func testSetOnScriptWithSyntaxErrorReportsTheSyntaxError() throws {
        try write("broken.prn", "dir = \"/tmp\"\nprint \"ran\"\nprint (1 +\n")
        let result = try prn("run", "broken.prn", "--set", "dir=\"/var\"")
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("broken.prn:4:1: error: expected an expression"), result.stderr)
        XCTAssertFalse(result.stderr.contains("top-level assignment"), result.stderr)
        XCTAssertFalse(result.stdout.contains("ran"), "a script that does not parse runs nothing")
    }

    func testStatementsWithDashE() throws {
        XCTAssertEqual(try prn("-e", "print 1 + 1", "-e", "print 3").stdoutLines, ["2", "3"])
        let failed = try prn("-e", "print nothing")
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stderr.hasPrefix("<-e>:1:7: error: unknown name 'nothing'"), failed.stderr)
    }

    func testVersionAndHelpExitZero() throws {
        XCTAssertEqual(try prn("--version").status, 0)
        let help = try prn("run", "--help")
        XCTAssertEqual(help.status, 0)
        for option in ["--notebook", "--results", "--shard", "--resume", "--set"] {
            XCTAssertTrue(help.stdout.contains(option), "run --help lacks \(option)")
        }
    }

    /// Every usage error exits 2 with a message naming the problem, before running anything.
    func testUsageErrorsExitTwo() throws {
        try write("grid.prn", "epochs = 3\nprint \"ran\"\n")
        let cases: [(arguments: [String], message: String)] = [
            (["run"], "Missing expected argument '<file.prn>'"),
            (["run", "missing.prn"], "cannot read 'missing.prn'"),
            (["run", "grid.prn", "--shard", "2/2"], "--shard"),
            (["run", "grid.prn", "--shard", "1"], "--shard"),
            (["run", "grid.prn", "--shard", "a/b"], "--shard"),
            (["run", "grid.prn", "--shard", "0/0"], "--shard"),
            (["run", "grid.prn", "--shard", "-1/2"], "--shard"),
            (["run", "grid.prn", "--shard"], "--shard"),
            (["run", "grid.prn", "--set", "epochs"], "--set epochs: expected name=value"),
            (["run", "grid.prn", "--set", "epoch=1"], "--set epoch: grid.prn has no top-level assignment 'epoch = …'; did you mean 'epochs'?"),
            (["run", "grid.prn", "--set", "epochs=[1,"], "--set epochs=[1,"),
            (["run", "grid.prn", "--resume"], "--resume needs --results FILE"),
            (["run", "grid.prn", "--results"], "--results"),
            (["run", "grid.prn", "--notebook"], "--notebook"),
            (["run", "grid.prn", "--frobnicate"], "--frobnicate"),
            (["--frobnicate"], "--frobnicate"),
            (["frobnicate"], "frobnicate"),
            (["merge"], "Missing expected argument '<file.jsonl> ...'"),
            (["merge", "a.jsonl", "--notebook"], "--notebook"),
            (["bench", "everything"], "everything"),
        ]
        for (arguments, message) in cases {
            let result = try PrnBinary.run(arguments, in: folder)
            XCTAssertEqual(result.status, 2, "prn \(arguments.joined(separator: " ")): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "prn \(arguments.joined(separator: " ")): \(result.stderr)")
            XCTAssertFalse(result.stdout.contains("ran"), "prn \(arguments.joined(separator: " ")) ran the script")
        }
    }

    /// Ctrl-C (SIGINT) stops a long `train` at its next step; the script ends with status 130.
    func testInterruptExits130() throws {
        try write("long.prn", """
            set timing off
            d = data synthetic classes=3 shape=[8] train=96 test=48 seed=1
            m = model mlp widths=[16] data=d seed=2
            t = table
            row t started=1
            save t to "started.csv"
            r = train m data=d epochs=100000 batch=16
            print "after train"
            """)
        let running = try PrnBinary.start(["run", "long.prn"], in: folder)
        waitFor("started.csv")
        usleep(200_000)
        running.signal(SIGINT)
        let result = try running.finish()
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssertTrue(result.stdout.contains("training interrupted"), result.stdout)
        XCTAssertFalse(result.stdout.contains("after train"), "the script went on after Ctrl-C")
        XCTAssertTrue(result.stderr.contains("long.prn: interrupted"), result.stderr)
    }

    /// Scripts on standard input (`prn < file.prn`) run line by line; errors do not stop them, but
    /// the exit status says there was one.
    func testScriptOnStandardInput() throws {
        let ok = try prn(stdin: "x = 4\n\nprint x + 1\nfor i in range(2) {\n  print i\n}\n")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdoutLines, ["5", "0", "1"])
        XCTAssertFalse(ok.stdout.contains("In ["), "no prompts without a terminal")
        let failed = try prn(stdin: "x = 1\n\nprint y\nprint x\n")
        XCTAssertEqual(failed.status, 1)
        XCTAssertEqual(failed.stdoutLines, ["1"])
        XCTAssertTrue(failed.stderr.hasPrefix("<stdin>:3:7: error: unknown name 'y'"), failed.stderr)
    }
}
