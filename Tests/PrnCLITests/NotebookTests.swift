import Foundation
import XCTest

/// `prn run file.prn --notebook out.md`: the run as a Markdown notebook.
final class NotebookTests: FolderTestCase {
    func testRunWritesTheNotebook() throws {
        try write("nb.prn", """
            n = 3
            t = table
            for i in range(n) {
              row t i=i sq=(i * i)
            }
            show t
            d = data synthetic classes=3 shape=[8] train=30 test=30 seed=1
            m = model mlp widths=[4] data=d seed=3
            plot hist m layer=fc1 to "plots/h.svg"
            print "done"
            """)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("out"), withIntermediateDirectories: true)
        let result = try prn("run", "nb.prn", "--notebook", "out/nb.md", "--set", "n=2")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdoutLines.last, "done")
        let notebook = try read("out/nb.md")
        // The header: version, seed, threads, the script and the --set values.
        for line in ["# nb.prn", "| prn | ", "| seed | ", "| threads | 1 |", "| script | nb.prn |", "| --set | n=2 |"] {
            XCTAssertTrue(notebook.contains(line), "no \(line.debugDescription) in\n\(notebook)")
        }
        // Code cells with their outputs: the loop as one cell, the table in Markdown (two rows:
        // --set n=2 took effect), the text output.
        XCTAssertTrue(notebook.contains("```prn\nfor i in range(n) {\n  row t i=i sq=(i * i)\n}\n```"), notebook)
        XCTAssertTrue(notebook.contains("| i | sq |\n| ---: | ---: |\n| 0 | 0 |\n| 1 | 1 |\n\n"), notebook)
        XCTAssertTrue(notebook.contains("```text\ndone\n```"), notebook)
        // The plot, outside the notebook's folder, is copied beside it and linked.
        XCTAssertTrue(notebook.contains("](nb-h.svg)"), notebook)
        XCTAssertTrue(try read("out/nb-h.svg").hasPrefix("<svg"))
    }

    /// A script that fails still writes its notebook, with the error in it, and exits 1.
    func testFailedRunWritesTheNotebookWithTheError() throws {
        try write("bad.prn", "print 1\nprint nothing\n")
        let result = try prn("run", "bad.prn", "--notebook", "bad.md")
        XCTAssertEqual(result.status, 1)
        let notebook = try read("bad.md")
        XCTAssertTrue(notebook.contains("unknown name 'nothing'"), notebook)
    }
}
