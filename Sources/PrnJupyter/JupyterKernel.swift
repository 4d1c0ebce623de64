import CZmq
import Foundation
import PrnLang
import PrnNotebook

/// A Jupyter kernel (messaging protocol 5.3) running prn cells in one `Interpreter`, as the REPL
/// does.
///
/// Five sockets, bound exactly where the connection file says: shell (ROUTER; requests, answered
/// on the calling thread, one at a time), control (ROUTER; shutdown and interrupt, on its own
/// thread so they are heard while a cell runs), iopub (PUB; status, streams, results), stdin
/// (ROUTER; prn never asks for input) and heartbeat (REP; echoes). Every incoming message must
/// carry the HMAC-SHA256 of its dicts under the connection key: one that does not, or that
/// cannot be read, is logged to standard error and dropped, never answered or run.
///
/// ```swift
/// let kernel = try JupyterKernel(connection: try ConnectionInfo.read(path: "kernel-1.json"))
/// kernel.serve()   // never returns: a shutdown_request ends the process
/// ```
///
/// Threads: the interpreter and the execution state belong to the shell thread; the control
/// thread answers only requests that do not read them; iopub is shared under a lock.
public final class JupyterKernel: @unchecked Sendable {
    let connection: ConnectionInfo
    let signer: Signer
    /// This kernel's session id, in the header of every message it sends.
    let session = UUID().uuidString.lowercased()
    let interpreter: Interpreter
    /// Where dropped messages and failures are reported (standard error).
    let log: (String) -> Void

    private let context: UnsafeMutableRawPointer
    let shell: ZmqSocket
    private let control: ZmqSocket
    private let iopub: ZmqSocket
    private let stdin: ZmqSocket
    private let heartbeat: ZmqSocket
    /// iopub is written by the shell and control threads.
    private let iopubLock = NSLock()
    private let replays = ReplayGuard()

    /// The number of the last cell run with `store_history`.
    var executionCount = 0
    /// Lines run so far: cells continue the line numbers, as in the REPL, so errors name a line
    /// of the session and derived seeds differ from cell to cell.
    var linesRun = 0
    /// Cells run, oldest first, for `history_request`.
    var history: [String] = []

    public init(connection: ConnectionInfo, interpreter: Interpreter = Interpreter(),
                log: @escaping (String) -> Void = { Interpreter.writeStandardError("prn kernel: " + $0) }) throws {
        try connection.check()
        self.connection = connection
        self.signer = Signer(key: connection.key)
        self.interpreter = interpreter
        self.log = log
        guard let context = zmq_ctx_new() else { throw KernelError("cannot start ZeroMQ: \(ZmqSocket.lastError)") }
        self.context = context
        shell = try ZmqSocket(context: context, type: ZMQ_ROUTER, name: "shell")
        control = try ZmqSocket(context: context, type: ZMQ_ROUTER, name: "control")
        iopub = try ZmqSocket(context: context, type: ZMQ_PUB, name: "iopub")
        stdin = try ZmqSocket(context: context, type: ZMQ_ROUTER, name: "stdin")
        heartbeat = try ZmqSocket(context: context, type: ZMQ_REP, name: "heartbeat")
        let ports = [(shell, connection.shellPort), (control, connection.controlPort), (iopub, connection.iopubPort),
                     (stdin, connection.stdinPort), (heartbeat, connection.hbPort)]
        for (socket, port) in ports {
            if connection.isIPv6 { try socket.setOption(ZMQ_IPV6, Int32(1)) }
            try socket.bind(connection.endpoint(port: port))
        }
        if !signer.isSigning { log("warning: the connection file has no key, so messages are not authenticated") }
    }

    /// Serves until a `shutdown_request` ends the process (or the process that started the
    /// kernel ends): heartbeat and control on their own threads, shell on this one.
    public func serve() {
        startThread(name: "prn-heartbeat") { [heartbeat] in
            while let frames = try? heartbeat.receive() { try? heartbeat.send(frames) }
        }
        startThread(name: "prn-control") { [self] in serveRequests(on: control, channel: .control) }
        let parent = getppid()
        startThread(name: "prn-parent") { [self] in
            // Jupyter may die without sending shutdown_request: then this process is adopted
            // by another, and a kernel nobody can reach should not linger.
            while getppid() == parent { Thread.sleep(forTimeInterval: 1) }
            log("the process that started the kernel has gone; exiting")
            exit(0)
        }
        publish("status", content: .object([("execution_state", .string("starting"))]), parent: nil)
        serveRequests(on: shell, channel: .shell)
    }

    private func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    /// Reads, checks and answers requests until shutdown.
    private func serveRequests(on socket: ZmqSocket, channel: Channel) {
        while true {
            let frames: [[UInt8]]
            do { frames = try socket.receive() } catch {
                log("\(error)")
                return
            }
            guard let request = accept(frames, channel: channel) else { continue }
            handle(request, on: socket, channel: channel)
        }
    }

    /// The message in `frames` if it is well formed, correctly signed and not a replay; nil
    /// (after logging why) otherwise.
    func accept(_ frames: [[UInt8]], channel: Channel) -> Message? {
        do {
            let wire = try WireMessage(frames: frames)
            guard signer.verify(wire) else {
                log("dropped a message on \(channel) with a \(wire.signature.isEmpty ? "missing" : "wrong") signature")
                return nil
            }
            guard !signer.isSigning || replays.isFirst(wire.signature) else {
                log("dropped a replayed message on \(channel) (its signature was seen before)")
                return nil
            }
            return try Message(wire: wire)
        } catch {
            log("dropped a malformed message on \(channel): \(error)")
            return nil
        }
    }

    /// The sockets requests arrive on.
    enum Channel: String {
        case shell, control
    }

    /// The requests prn answers; others are logged and ignored.
    enum Request: String {
        case kernelInfo = "kernel_info_request", execute = "execute_request", complete = "complete_request"
        case inspect = "inspect_request", isComplete = "is_complete_request", history = "history_request"
        case commInfo = "comm_info_request", shutdown = "shutdown_request", interrupt = "interrupt_request"

        /// Requests answered on the control channel too: none reads the interpreter.
        var isControl: Bool { [.kernelInfo, .shutdown, .interrupt].contains(self) }
    }

    private func handle(_ request: Message, on socket: ZmqSocket, channel: Channel) {
        guard let kind = Request(rawValue: request.type) else {
            log("ignored a \(request.type) message on \(channel)")
            return
        }
        // The control thread runs beside a cell: it must not touch the interpreter.
        guard channel == .shell || kind.isControl else {
            log("ignored a \(request.type) message on \(channel) (it belongs on shell)")
            return
        }
        switch kind {
        case .execute:
            execute(request, on: socket)
            return
        case .shutdown:
            shutdown(request, on: socket)
            return
        case .interrupt:
            Interrupt.request()
            send(request.reply(session: session, content: .object([("status", .string("ok"))])), on: socket)
            return
        default:
            break
        }
        publish("status", content: .object([("execution_state", .string("busy"))]), parent: request)
        let content: JSON
        switch kind {
        case .kernelInfo: content = kernelInfo
        case .complete: content = complete(request.content)
        case .inspect: content = inspect(request.content)
        case .isComplete: content = isComplete(request.content)
        case .history: content = historyReply(request.content)
        case .commInfo: content = .object([("comms", .object([])), ("status", .string("ok"))])
        case .execute, .shutdown, .interrupt: return
        }
        send(request.reply(session: session, content: content), on: socket)
        publish("status", content: .object([("execution_state", .string("idle"))]), parent: request)
    }

    /// Answers, publishes `shutdown_reply` on iopub too (as the protocol asks), then ends the process.
    private func shutdown(_ request: Message, on socket: ZmqSocket) {
        let restart = request.content["restart"]?.bool ?? false
        let content = JSON.object([("status", .string("ok")), ("restart", .bool(restart))])
        send(request.reply(session: session, content: content), on: socket)
        publish("shutdown_reply", content: content, parent: request)
        // Give ZeroMQ's I/O thread a moment to deliver the reply, then leave (the shell thread
        // may be in the middle of a cell).
        Thread.sleep(forTimeInterval: 0.2)
        exit(0)
    }

    func send(_ message: Message, on socket: ZmqSocket) {
        do { try socket.send(message.wire(signer: signer).frames) } catch { log("\(error)") }
    }

    /// Sends a message on iopub; `parent` is the request it belongs to.
    func publish(_ type: String, content: JSON, parent: Message?) {
        var message = parent.map { $0.child(type, session: session, content: content) }
            ?? Message(header: Message.header(type: type, session: session), content: content)
        message.identities = [Array("kernel.\(session).\(type)".utf8)]
        iopubLock.lock()
        defer { iopubLock.unlock() }
        do { try iopub.send(message.wire(signer: signer).frames) } catch { log("\(error)") }
    }
}

/// Signatures seen recently, so a captured message cannot be sent again (as jupyter_client's
/// Session does). Bounded: the oldest are forgotten first.
final class ReplayGuard: @unchecked Sendable {
    private var seen = Set<[UInt8]>()
    private var order: [[UInt8]] = []
    private let capacity = 1 << 16
    private let lock = NSLock()

    /// True the first time a signature is offered.
    func isFirst(_ signature: [UInt8]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard seen.insert(signature).inserted else { return false }
        order.append(signature)
        if order.count > capacity {
            seen.remove(order.removeFirst())
        }
        return true
    }
}
