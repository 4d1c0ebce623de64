import Foundation

/// A Jupyter connection file: where the kernel's five sockets listen and the key that signs
/// messages. The client writes it and starts the kernel with its path (`prn kernel -f FILE`).
///
/// ```json
/// {"transport": "tcp", "ip": "127.0.0.1", "shell_port": 53794, "iopub_port": 53795,
///  "stdin_port": 53796, "control_port": 53797, "hb_port": 53798,
///  "key": "a0436f6c-…", "signature_scheme": "hmac-sha256"}
/// ```
public struct ConnectionInfo: Decodable, Equatable {
    public var transport: String
    public var ip: String
    public var shellPort: Int
    public var iopubPort: Int
    public var stdinPort: Int
    public var controlPort: Int
    public var hbPort: Int
    /// The HMAC key; empty means messages are neither signed nor checked.
    public var key: String
    public var signatureScheme: String

    enum CodingKeys: String, CodingKey {
        case transport, ip, key
        case shellPort = "shell_port", iopubPort = "iopub_port", stdinPort = "stdin_port"
        case controlPort = "control_port", hbPort = "hb_port", signatureScheme = "signature_scheme"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        transport = try c.decodeIfPresent(String.self, forKey: .transport) ?? "tcp"
        ip = try c.decodeIfPresent(String.self, forKey: .ip) ?? "127.0.0.1"
        shellPort = try c.decode(Int.self, forKey: .shellPort)
        iopubPort = try c.decode(Int.self, forKey: .iopubPort)
        stdinPort = try c.decode(Int.self, forKey: .stdinPort)
        controlPort = try c.decode(Int.self, forKey: .controlPort)
        hbPort = try c.decode(Int.self, forKey: .hbPort)
        key = try c.decodeIfPresent(String.self, forKey: .key) ?? ""
        signatureScheme = try c.decodeIfPresent(String.self, forKey: .signatureScheme) ?? "hmac-sha256"
    }

    /// Reads and checks a connection file; the error says what is wrong with it.
    public static func read(path: String) throws -> ConnectionInfo {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KernelError("cannot read the connection file '\(path)'")
        }
        let info: ConnectionInfo
        do {
            info = try JSONDecoder().decode(ConnectionInfo.self, from: data)
        } catch {
            throw KernelError("'\(path)' is not a connection file: \(error)")
        }
        try info.check()
        return info
    }

    /// Only what prn implements: tcp or ipc, and HMAC-SHA256 signatures.
    func check() throws {
        guard ["tcp", "ipc"].contains(transport) else { throw KernelError("unsupported transport '\(transport)' (tcp or ipc)") }
        guard signatureScheme == "hmac-sha256" else {
            throw KernelError("unsupported signature_scheme '\(signatureScheme)' (prn signs with hmac-sha256)")
        }
        for port in [shellPort, iopubPort, stdinPort, controlPort, hbPort] where !(0...65535).contains(port) {
            throw KernelError("port \(port) is out of range")
        }
    }

    /// The ZeroMQ endpoint for a port: `tcp://127.0.0.1:53794`, or `ipc://kernel-ipc-53794`.
    /// An IPv6 address is bracketed: `tcp://[::1]:53794`.
    public func endpoint(port: Int) -> String {
        if transport == "ipc" { return "ipc://\(ip)-\(port)" }
        return isIPv6 ? "tcp://[\(ip)]:\(port)" : "tcp://\(ip):\(port)"
    }

    /// Whether `ip` is an IPv6 address (sockets then need ZeroMQ's IPv6 option).
    public var isIPv6: Bool { transport == "tcp" && ip.contains(":") }
}

/// A kernel start-up failure (bad connection file, a port that cannot be bound).
public struct KernelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
