import XCTest
import Foundation
import PrnFiles

/// The next save to a path removes the `.NAME.tmp-PID` files interrupted saves to it left.
final class StaleTemporariesTests: XCTestCase {
    func testASaveRemovesTheTemporaryFilesOfDeadProcessesOnly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-tmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A process that has exited: its PID names a dead save.
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = ".m.safetensors.tmp-\(finished.processIdentifier)"
        let alive = ".m.safetensors.tmp-\(getppid())"      // a running process, maybe mid-save
        let other = ".other.safetensors.tmp-\(finished.processIdentifier)"   // another path's
        for name in [dead, alive, other] {
            XCTAssertTrue(FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data([1])))
        }
        try AtomicFile.write(Data([1, 2, 3]), to: folder.appendingPathComponent("m.safetensors").path)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        XCTAssertEqual(left, [alive, other, "m.safetensors"])
    }
}
