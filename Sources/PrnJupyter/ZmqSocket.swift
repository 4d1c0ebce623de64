import CZmq
import Foundation

/// A ZeroMQ socket that sends and receives multipart messages as arrays of frames. A socket is
/// used by one thread at a time (ZeroMQ's rule); the kernel gives each channel its own thread
/// and guards the shared iopub socket with a lock (hence `@unchecked Sendable`).
final class ZmqSocket: @unchecked Sendable {
    /// The largest frame accepted; bigger ones are dropped by ZeroMQ before they reach prn.
    static let maxFrameBytes: Int64 = 64 << 20
    /// Frames kept from one multipart message; the rest are read and discarded.
    static let maxFrames = 256

    private let handle: UnsafeMutableRawPointer
    let name: String

    init(context: UnsafeMutableRawPointer, type: Int32, name: String) throws {
        guard let handle = zmq_socket(context, type) else { throw KernelError("cannot make the \(name) socket: \(Self.lastError)") }
        self.handle = handle
        self.name = name
        try setOption(ZMQ_LINGER, Int32(1000))
        try setOption(ZMQ_MAXMSGSIZE, Self.maxFrameBytes)
    }

    deinit { zmq_close(handle) }

    func setOption<Value: FixedWidthInteger>(_ option: Int32, _ value: Value) throws {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Value>.size) == 0 else {
            throw KernelError("cannot set option \(option) on the \(name) socket: \(Self.lastError)")
        }
    }

    /// Binds to exactly `endpoint`, such as `tcp://127.0.0.1:53794`.
    func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else {
            throw KernelError("cannot bind the \(name) socket to \(endpoint): \(Self.lastError)")
        }
    }

    /// Waits for the next multipart message. Retries when a signal (Ctrl-C, an interrupt)
    /// breaks the wait; throws only when the context is shutting down.
    func receive() throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var more = true
        while more {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            guard zmq_msg_recv(&message, handle, 0) >= 0 else {
                let code = prn_zmq_errno()
                if code == EINTR || code == EAGAIN { continue }
                throw KernelError("receiving on the \(name) socket: \(Self.lastError)")
            }
            if frames.count < Self.maxFrames {
                let size = zmq_msg_size(&message)
                let data = zmq_msg_data(&message)
                frames.append(size == 0 || data == nil ? [] : Array(UnsafeRawBufferPointer(start: data, count: size)))
            }
            more = zmq_msg_more(&message) != 0
        }
        return frames
    }

    /// Sends the frames as one multipart message.
    func send(_ frames: [[UInt8]]) throws {
        for (i, frame) in frames.enumerated() {
            let flags = i + 1 < frames.count ? ZMQ_SNDMORE : 0
            while true {
                let sent = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if sent >= 0 { break }
                if prn_zmq_errno() == EINTR { continue }
                throw KernelError("sending on the \(name) socket: \(Self.lastError)")
            }
        }
    }

    static var lastError: String { String(cString: zmq_strerror(prn_zmq_errno())) }
}
