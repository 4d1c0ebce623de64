/// A Jupyter message as ZeroMQ frames, before any JSON is read:
///
///     identities… | <IDS|MSG> | signature | header | parent_header | metadata | content | buffers…
///
/// The signature is the hex HMAC of exactly the four dict frames, checked on these raw bytes
/// (re-serializing could change them). `Message` holds the same four dicts parsed.
public struct WireMessage: Equatable {
    /// The frame between the routing identities and the signature.
    public static let delimiter = Array("<IDS|MSG>".utf8)

    /// Routing frames: a ROUTER socket's peer identity, or an iopub topic.
    public var identities: [[UInt8]]
    /// Lowercase hex of the HMAC, or empty when the connection has no key.
    public var signature: [UInt8]
    /// header, parent_header, metadata, content: serialized JSON objects.
    public var dicts: [[UInt8]]
    /// Binary buffers after the content (not signed, per the protocol).
    public var buffers: [[UInt8]]

    public init(identities: [[UInt8]], signature: [UInt8], dicts: [[UInt8]], buffers: [[UInt8]] = []) {
        precondition(dicts.count == 4, "a message has four dicts")
        self.identities = identities
        self.signature = signature
        self.dicts = dicts
        self.buffers = buffers
    }

    /// Splits received frames; throws when there is no delimiter or fewer than four dicts after it.
    public init(frames: [[UInt8]]) throws {
        guard let d = frames.firstIndex(of: Self.delimiter) else { throw WireError("no <IDS|MSG> delimiter") }
        guard frames.count >= d + 6 else { throw WireError("\(frames.count - d - 1) frames after the delimiter, expected at least 5") }
        identities = Array(frames[..<d])
        signature = frames[d + 1]
        dicts = Array(frames[(d + 2)..<(d + 6)])
        buffers = Array(frames[(d + 6)...])
    }

    public var frames: [[UInt8]] { identities + [Self.delimiter, signature] + dicts + buffers }
}

/// A message that could not be read: it is dropped and logged, never answered.
public struct WireError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Signs outgoing and verifies incoming messages with the connection key (HMAC-SHA256).
public struct Signer {
    private let key: [UInt8]

    public init(key: String) { self.key = Array(key.utf8) }

    /// With an empty key messages are not signed and every signature is accepted.
    public var isSigning: Bool { !key.isEmpty }

    /// The lowercase hex HMAC of the four dicts; empty without a key.
    public func signature(of dicts: [[UInt8]]) -> [UInt8] {
        guard isSigning else { return [] }
        return Array(Self.hex(mac(dicts)).utf8)
    }

    /// Whether `message` carries the signature of its dicts, compared in constant time.
    public func verify(_ message: WireMessage) -> Bool {
        guard isSigning else { return true }
        guard let claimed = Self.bytes(hex: message.signature) else { return false }
        return HMAC.constantTimeEqual(claimed, mac(message.dicts))
    }

    private func mac(_ dicts: [[UInt8]]) -> [UInt8] {
        var hmac = HMAC(key: key)
        for dict in dicts { hmac.update(dict) }
        return hmac.finalize()
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase hex text, as Jupyter writes signatures; nil for odd lengths or other
    /// characters (accepting uppercase would let a copy of a message pass the replay check).
    static func bytes(hex: [UInt8]) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(hex.count / 2)
        for i in stride(from: 0, to: hex.count, by: 2) {
            guard let high = nibble(hex[i]), let low = nibble(hex[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }
}
