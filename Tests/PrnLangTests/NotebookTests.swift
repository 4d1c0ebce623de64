import XCTest
@testable import PrnLang
import PrnNotebook

/// Notebooks: one cell per top-level statement, outputs in order, tables as Markdown, plots
/// linked, a provenance header.
final class NotebookTests: XCTestCase {
    /// A stand-in for a plotting command: writes an SVG and reports it through the output channel.
    static let commands = CommandTable(Commands.all + [
        Command("fakeplot", summary: "Write an SVG.", example: "fakeplot \"x.svg\"") { p in
            let file = p.positional("path", String.self, help: "where")
            return { args, interpreter in
                let path = args[file]
                try "<svg xmlns=\"http://www.w3.org/2000/svg\"/>".write(toFile: path, atomically: true, encoding: .utf8)
                interpreter.emitPlot(svgPath: path, caption: "a plot")
                interpreter.addProvenance("data fake", "crc32 0badf00d")
                return .none
            }
        },
    ])

    private func record(_ source: String) -> (NotebookRecorder, Interpreter) {
        let recorder = NotebookRecorder()
        let interpreter = Interpreter(commands: Self.commands) { recorder.record($0) }
        interpreter.announcesCells = true
        recorder.start(interpreter)
        interpreter.run(source: source, file: "nb.prn")
        return (recorder, interpreter)
    }

    func testOneCellPerTopLevelStatementWithItsOutputs() {
        let (recorder, _) = record("""
            # make a table
            t = table

            for i in range(2) {
              row t i=i
              print i
            }
            show t; print "x"
            t.rows
            nope
            """)
        XCTAssertEqual(recorder.cells.map(\.code), [
            "# make a table\nt = table",
            "for i in range(2) {\n  row t i=i\n  print i\n}",
            "show t; print \"x\"",
            "t.rows",
            "nope",
        ])
        XCTAssertEqual(recorder.cells[1].outputs, [.text("0"), .text("1")])
        XCTAssertEqual(recorder.cells[2].outputs, [.table(Table(columns: ["i"], rows: [[.int(0)], [.int(1)]])), .text("x")])
        XCTAssertEqual(recorder.cells[3].outputs, [.text("2")])
        guard case .error(let message)? = recorder.cells[4].outputs.first else { return XCTFail("no error recorded") }
        XCTAssertTrue(message.hasPrefix("nb.prn:10:1: error: unknown name 'nope'"), message)
    }

    func testMarkdownHasProvenanceTablesAndLinkedPlots() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-nb-\(UUID().uuidString)")
        let elsewhere = folder.appendingPathComponent("plots")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let inside = elsewhere.appendingPathComponent("in.svg").path
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("prn-out-\(UUID().uuidString).svg").path
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let (recorder, interpreter) = record("""
            set seed 7
            t = table title="T"
            row t a=1 b="x|y"
            t
            fakeplot "\(inside)"
            fakeplot "\(outside)"
            """)
        let header = recorder.header(for: interpreter, directory: folder.path, extra: [("script", "nb.prn")])
        XCTAssertEqual(header.map(\.0), ["prn", "date", "seed", "threads", "CPU", "data fake", "script"])
        XCTAssertEqual(header[2].1, "0 (set to 7 by the script)")
        let path = folder.appendingPathComponent("out.md").path
        try recorder.notebook(title: "nb.prn", header: header).write(to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# nb.prn\n\n| | |\n| --- | --- |\n| prn | \(PrnVersion.current)"), text)
        XCTAssertTrue(text.contains("| data fake | crc32 0badf00d |"), text)
        XCTAssertTrue(text.contains("```prn\nrow t a=1 b=\"x|y\"\n```"), text)
        XCTAssertTrue(text.contains("**T**\n\n| a | b |\n| ---: | --- |\n| 1 | x\\|y |"), text)
        XCTAssertTrue(text.contains("![a plot](plots/in.svg)"), text)
        let copied = "out-" + URL(fileURLWithPath: outside).lastPathComponent
        XCTAssertTrue(text.contains("![a plot](\(copied))"), text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(copied).path))
    }

    func testFencesOutgrowBackticksInOutput() {
        let notebook = Notebook(title: "t", cells: [NotebookCell(code: "print \"```\"", outputs: [.text("```")])])
        XCTAssertTrue(notebook.markdown().contains("````prn\nprint \"```\"\n````"))
    }
}
