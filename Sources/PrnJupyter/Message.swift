import Foundation
import PrnNotebook

/// A Jupyter message's four dicts, parsed (JSON objects keep their key order), plus the routing
/// identities a reply goes back to. `WireMessage` is the same message as frames.
public struct Message {
    public var identities: [[UInt8]] = []
    public var header: JSON
    public var parentHeader: JSON
    public var metadata: JSON
    public var content: JSON
    public var buffers: [[UInt8]] = []

    public init(identities: [[UInt8]] = [], header: JSON, parentHeader: JSON = .object([]),
                metadata: JSON = .object([]), content: JSON) {
        self.identities = identities
        self.header = header
        self.parentHeader = parentHeader
        self.metadata = metadata
        self.content = content
    }

    /// Reads the four dicts; each must be a JSON object, and the header must name its type.
    public init(wire: WireMessage) throws {
        func object(_ bytes: [UInt8], _ name: String) throws -> JSON {
            guard let text = String(bytes: bytes, encoding: .utf8) else { throw WireError("\(name) is not UTF-8") }
            let json: JSON
            do { json = try JSON.parse(text) } catch { throw WireError("\(name): \(error)") }
            guard case .object = json else { throw WireError("\(name) is not a JSON object") }
            return json
        }
        identities = wire.identities
        header = try object(wire.dicts[0], "header")
        parentHeader = try object(wire.dicts[1], "parent_header")
        metadata = try object(wire.dicts[2], "metadata")
        content = try object(wire.dicts[3], "content")
        buffers = wire.buffers
        guard header["msg_type"]?.string != nil else { throw WireError("the header has no msg_type") }
    }

    /// `execute_request`, `kernel_info_request`, ….
    public var type: String { header["msg_type"]?.string ?? "" }

    /// The message as frames, signed.
    public func wire(signer: Signer) -> WireMessage {
        let dicts = [header, parentHeader, metadata, content].map { Array($0.serialized.utf8) }
        return WireMessage(identities: identities, signature: signer.signature(of: dicts), dicts: dicts, buffers: buffers)
    }

    /// A new message of `type` caused by this one: its header becomes the parent header.
    /// Replies keep the identities, so a ROUTER socket sends them back to the asker.
    public func child(_ type: String, session: String, content: JSON) -> Message {
        Message(identities: identities, header: Self.header(type: type, session: session), parentHeader: header,
                content: content)
    }

    /// `kernel_info_request` → `kernel_info_reply`, with the same identities.
    public func reply(session: String, content: JSON) -> Message {
        let base = type.hasSuffix("_request") ? String(type.dropLast("_request".count)) : type
        return child(base + "_reply", session: session, content: content)
    }

    /// A fresh header: a new id, this session, the time in UTC, protocol 5.3.
    public static func header(type: String, session: String) -> JSON {
        .object([
            ("msg_id", .string(UUID().uuidString.lowercased())),
            ("session", .string(session)),
            ("username", .string("prn")),
            ("date", .string(Self.timestamp(Date()))),
            ("msg_type", .string(type)),
            ("version", .string(protocolVersion)),
        ])
    }

    public static let protocolVersion = "5.3"

    /// ISO 8601 in UTC with microseconds, as Jupyter writes dates: `2026-11-30T13:45:02.123456Z`.
    /// Formatted by hand: a `DateFormatter` per message costs more than the rest of a reply.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        let micro = min(999_999, Int((seconds - whole) * 1_000_000))
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "." + pad(Int32(micro), 6) + "Z"
    }
}

extension JSON {
    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// A JSON object from string keys and values, in order.
    static func strings(_ pairs: [(String, String)]) -> JSON { .object(pairs.map { ($0.0, .string($0.1)) }) }
}
