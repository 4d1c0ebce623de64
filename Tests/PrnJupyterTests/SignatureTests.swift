import XCTest
import PrnNotebook
import PrnTestSupport
@testable import PrnJupyter

/// SHA-256 and HMAC-SHA256 against python3's hashlib/hmac and RFC 4231; signing and framing of
/// Jupyter messages.
final class SignatureTests: XCTestCase {
    /// Deterministic inputs of every length around the block boundaries, plus long ones.
    private func inputs() -> [(key: [UInt8], message: [UInt8])] {
        var state: UInt64 = 0x9E3779B97F4A7C15
        func byte() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let lengths = Array(0...130) + [183, 191, 192, 255, 256, 1000, 4096, 10_000]
        let keyLengths = [0, 1, 20, 32, 63, 64, 65, 131, 200]
        return lengths.enumerated().map { i, n in
            ((0..<keyLengths[i % keyLengths.count]).map { _ in byte() }, (0..<n).map { _ in byte() })
        }
    }

    func testSHA256AndHMACMatchPythonsHashlibAndHmac() throws {
        let cases = inputs()
        let payload = cases.map { Signer.hex($0.key) + " " + Signer.hex($0.message) }.joined(separator: "\n")
        let program = """
            import sys, hashlib, hmac
            for line in sys.stdin.read().split("\\n"):
                key, message = (bytes.fromhex(part) for part in line.split(" "))
                print(hashlib.sha256(message).hexdigest(), hmac.new(key, message, hashlib.sha256).hexdigest())
            """
        let expected = try Python.run(program, input: payload).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(expected.count, cases.count)
        for (i, (reference, input)) in zip(expected, cases).enumerated() {
            var mac = HMAC(key: input.key)
            mac.update(input.message)
            XCTAssertEqual(Signer.hex(SHA256.hash(input.message)), reference[0], "sha256 of input \(i) (\(input.message.count) bytes)")
            XCTAssertEqual(Signer.hex(mac.finalize()), reference[1], "hmac of input \(i) (key \(input.key.count) bytes)")
        }
    }

    /// RFC 4231's test cases 1, 2, 3, 4, 6 and 7 (case 5 truncates the output).
    func testHMACMatchesRFC4231() {
        func bytes(_ hex: String) -> [UInt8] { Signer.bytes(hex: Array(hex.utf8))! }
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (bytes("0102030405060708090a0b0c0d0e0f10111213141516171819"), [UInt8](repeating: 0xcd, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xaa, count: 131),
             Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (i, c) in cases.enumerated() {
            var mac = HMAC(key: c.key)
            mac.update(c.data)
            XCTAssertEqual(Signer.hex(mac.finalize()), c.mac, "RFC 4231 case \(i + 1)")
        }
    }

    func testConstantTimeEqualityComparesEveryByte() {
        XCTAssertTrue(HMAC.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(HMAC.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(HMAC.constantTimeEqual([9, 2, 3], [1, 2, 3]))
        XCTAssertFalse(HMAC.constantTimeEqual([1, 2], [1, 2, 3]))
    }

    private func message(_ code: String) -> Message {
        Message(identities: [Array("client-1".utf8)], header: Message.header(type: "execute_request", session: "s"),
                content: .object([("code", .string(code))]))
    }

    func testSignedMessagesVerifyAndRoundTripThroughFrames() throws {
        let signer = Signer(key: "a0436f6c-1916-498b-8eb9-e81ab9368e84")
        let wire = message("print 1").wire(signer: signer)
        XCTAssertEqual(wire.signature.count, 64)
        XCTAssertTrue(signer.verify(wire))
        let frames = wire.frames + [[0xff, 0x00]]
        XCTAssertEqual(frames[1], WireMessage.delimiter)
        let back = try WireMessage(frames: frames)
        XCTAssertEqual(back.identities, [Array("client-1".utf8)])
        XCTAssertEqual(back.buffers, [[0xff, 0x00]])
        XCTAssertTrue(signer.verify(back), "buffers are not signed")
        let parsed = try Message(wire: back)
        XCTAssertEqual(parsed.type, "execute_request")
        XCTAssertEqual(parsed.content["code"]?.string, "print 1")
    }

    /// The signature is the HMAC of the four dict frames in order, as python's hmac computes it.
    func testTheSignatureCoversExactlyTheFourDicts() throws {
        let key = "k3y"
        let wire = message("x = 2").wire(signer: Signer(key: key))
        let program = """
            import sys, hmac, hashlib
            parts = [bytes.fromhex(p) for p in sys.stdin.read().split()]
            print(hmac.new(b"k3y", b"".join(parts), hashlib.sha256).hexdigest())
            """
        let reference = try Python.run(program, input: wire.dicts.map(Signer.hex).joined(separator: " "))
        XCTAssertEqual(String(decoding: wire.signature, as: UTF8.self), reference.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func testWrongOrMissingSignaturesAndTamperingAreRejected() {
        let signer = Signer(key: "right")
        var wire = message("print 1").wire(signer: signer)
        XCTAssertFalse(Signer(key: "wrong").verify(wire))
        var tampered = wire
        tampered.dicts[3] = Array(#"{"code":"print 2"}"#.utf8)
        XCTAssertFalse(signer.verify(tampered))
        var upper = wire
        upper.signature = Array(String(decoding: wire.signature, as: UTF8.self).uppercased().utf8)
        XCTAssertFalse(signer.verify(upper), "an uppercase copy would slip past the replay check")
        for bad in ["", "zz", "abc", String(repeating: "0", count: 64)] {
            wire.signature = Array(bad.utf8)
            XCTAssertFalse(signer.verify(wire), "signature '\(bad)'")
        }
        let unsigned = message("print 1").wire(signer: Signer(key: ""))
        XCTAssertEqual(unsigned.signature, [])
        XCTAssertTrue(Signer(key: "").verify(wire), "an empty key checks nothing")
    }

    func testMalformedFramesAreErrorsNotCrashes() {
        let d = WireMessage.delimiter
        let bad: [[[UInt8]]] = [
            [], [[1, 2]], [d], [d, [], [], [], []], [Array("id".utf8), d, Array("sig".utf8)],
        ]
        for frames in bad {
            XCTAssertThrowsError(try WireMessage(frames: frames), "\(frames)")
        }
        let notJSON = WireMessage(identities: [], signature: [], dicts: [[0xff], [], [], []])
        XCTAssertThrowsError(try Message(wire: notJSON))
        let notObject = WireMessage(identities: [], signature: [], dicts: [Array("[1]".utf8), Array("{}".utf8), Array("{}".utf8), Array("{}".utf8)])
        XCTAssertThrowsError(try Message(wire: notObject))
        let noType = WireMessage(identities: [], signature: [], dicts: Array(repeating: Array("{}".utf8), count: 4))
        XCTAssertThrowsError(try Message(wire: noType))
    }

    func testReplyKeepsIdentitiesAndMakesTheRequestItsParent() {
        let request = message("print 1")
        let reply = request.reply(session: "kernel", content: .object([("status", .string("ok"))]))
        XCTAssertEqual(reply.type, "execute_reply")
        XCTAssertEqual(reply.identities, request.identities)
        XCTAssertEqual(reply.parentHeader, request.header)
        XCTAssertEqual(reply.header["session"]?.string, "kernel")
        XCTAssertNotEqual(reply.header["msg_id"], request.header["msg_id"])
    }

    func testHeaderDatesAreISO8601InUTC() throws {
        let date = Date(timeIntervalSince1970: 1_796_000_000.25)
        let reference = try Python.run("""
            import datetime
            print(datetime.datetime.fromtimestamp(1796000000.25, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
            """, input: "")
        XCTAssertEqual(Message.timestamp(date), reference.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(Message.timestamp(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000000Z")
    }

    func testReplayGuardAcceptsASignatureOnce() {
        let guardian = ReplayGuard()
        XCTAssertTrue(guardian.isFirst([1, 2]))
        XCTAssertFalse(guardian.isFirst([1, 2]))
        XCTAssertTrue(guardian.isFirst([1, 3]))
    }
}
