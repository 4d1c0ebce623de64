import XCTest
import PrnNotebook

/// The nbformat 4.5 writer without Jupyter's tools (notebook_test.py validates with them).
final class IpynbTests: XCTestCase {
    private let notebook = Notebook(title: "t.prn", provenance: [("seed", "0")], cells: [
        NotebookCell(code: "print 1\nprint 2", outputs: [.text("1"), .text("2")]),
        NotebookCell(code: "show t", outputs: [.table(Table(columns: ["a"], rows: [[.int(1)]])), .text("after")]),
        NotebookCell(code: "x = nope", outputs: [.error("t.prn:3:5: error: unknown name 'nope'\nx = nope\n    ^")]),
    ])

    func testCellsOutputsAndMetadata() throws {
        let json = try JSON.parse(notebook.ipynb.indented)
        XCTAssertEqual(json["nbformat"], .int(4))
        XCTAssertEqual(json["nbformat_minor"], .int(5))
        XCTAssertEqual(json["metadata"]?["kernelspec"]?["name"], .string("prn"))
        guard case .array(let cells)? = json["cells"] else { return XCTFail("no cells") }
        XCTAssertEqual(cells.map { $0["cell_type"]?.string }, ["markdown", "code", "code", "code"])
        XCTAssertEqual(Set(cells.compactMap { $0["id"]?.string }).count, 4, "cell ids are unique")
        XCTAssertEqual(cells[1]["source"], .array([.string("print 1\n"), .string("print 2")]))
        XCTAssertEqual(cells[1]["outputs"], .array([.object([
            ("output_type", .string("stream")), ("name", .string("stdout")), ("text", .array([.string("1\n"), .string("2\n")])),
        ])]), "consecutive text is one stream")
        guard case .array(let shown)? = cells[2]["outputs"] else { return XCTFail("no outputs") }
        XCTAssertEqual(shown.map { $0["output_type"]?.string }, ["display_data", "stream"])
        XCTAssertEqual(shown[0]["data"]?["text/markdown"], .array([.string("| a |\n"), .string("| ---: |\n"), .string("| 1 |\n")]))
        let error = cells[3]["outputs"].flatMap { if case .array(let items) = $0 { return items.first } else { return nil } }
        XCTAssertEqual(error?["ename"], .string("Error"))
        XCTAssertEqual(error?["evalue"], .string("unknown name 'nope'"))
        XCTAssertEqual(error?["traceback"], .array(["t.prn:3:5: error: unknown name 'nope'", "x = nope", "    ^"].map(JSON.string)))
    }

    func testCodeSourceReadsBackTheCodeCells() throws {
        XCTAssertEqual(try Notebook.codeSource(ipynb: notebook.ipynb.indented), "print 1\nprint 2\n\nshow t\n\nx = nope")
        XCTAssertThrowsError(try Notebook.codeSource(ipynb: "{\"cells\": []}"), "no nbformat")
        XCTAssertThrowsError(try Notebook.codeSource(ipynb: "not json"))
    }

    func testWriteChoosesTheFormatByExtension() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-ipynb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try notebook.write(to: folder.appendingPathComponent("a.ipynb").path)
        try notebook.write(to: folder.appendingPathComponent("a.md").path)
        let ipynb = try String(contentsOf: folder.appendingPathComponent("a.ipynb"), encoding: .utf8)
        let markdown = try String(contentsOf: folder.appendingPathComponent("a.md"), encoding: .utf8)
        XCTAssertEqual(try JSON.parse(ipynb)["nbformat"], .int(4))
        XCTAssertTrue(markdown.hasPrefix("# t.prn\n"), markdown)
    }
}
