import Foundation
import PrnLang
import PrnNotebook

/// `execute_request`: run a cell and publish what it shows.
extension JupyterKernel {
    /// Runs the cell's code in the session's interpreter. Between iopub `busy` and `idle` it
    /// publishes `execute_input`, then each output as it happens — printed text as a `stdout`
    /// stream, a bare expression's value as `execute_result`, tables and plots as `display_data`
    /// (`MimeBundle`) — and, when the cell failed or was interrupted, one `error` with prn's
    /// diagnostic as the traceback. A `silent` cell publishes only its status.
    func execute(_ request: Message, on socket: ZmqSocket) {
        publish("status", content: .object([("execution_state", .string("busy"))]), parent: request)
        defer { publish("status", content: .object([("execution_state", .string("idle"))]), parent: request) }
        let code = request.content["code"]?.string ?? ""
        let silent = request.content["silent"]?.bool ?? false
        if !silent && (request.content["store_history"]?.bool ?? true) {
            executionCount += 1
            history.append(code)
        }
        let count = executionCount
        if !silent {
            publish("execute_input", content: .object([("code", .string(code)), ("execution_count", .int(count))]), parent: request)
        }

        var errors: [String] = []
        interpreter.sink = { [self] event in
            if case .error(let text) = event { errors.append(text) }
            guard !silent, let (type, content) = Self.output(event, executionCount: count) else { return }
            publish(type, content: content, parent: request)
        }
        Interrupt.clear()
        var outcome = interpreter.run(source: code, file: "<kernel>", lineOffset: linesRun)
        // An interrupted `train` returns its result, so a cell it ends can finish "ok": it was
        // still interrupted.
        if Interrupt.requested { outcome = .interrupted }
        Interrupt.clear()
        interpreter.sink = { _ in }
        linesRun += code.split(separator: "\n", omittingEmptySubsequences: false).count

        var reply: [(String, JSON)] = [("execution_count", .int(count))]
        let failure: (ename: String, evalue: String, traceback: [String])?
        switch outcome {
        case .ok: failure = nil
        case .failed: failure = MimeBundle.error(errors.joined(separator: "\n"))
        case .interrupted: failure = MimeBundle.error("interrupted", name: "Interrupted")
        }
        if let failure {
            let fields: [(String, JSON)] = [("ename", .string(failure.ename)), ("evalue", .string(failure.evalue)),
                                            ("traceback", .array(failure.traceback.map(JSON.string)))]
            if !silent { publish("error", content: .object(fields), parent: request) }
            reply = [("status", .string("error"))] + reply + fields
        } else {
            reply = [("status", .string("ok"))] + reply + [("user_expressions", .object([])), ("payload", .array([]))]
        }
        send(request.reply(session: session, content: .object(reply)), on: socket)
    }

    /// The iopub message for an output event; nil for events the kernel reports otherwise
    /// (cell boundaries, errors).
    static func output(_ event: OutputEvent, executionCount: Int) -> (String, JSON)? {
        func display(_ bundle: JSON) -> (String, JSON) {
            ("display_data", .object([("data", bundle), ("metadata", .object([])), ("transient", .object([]))]))
        }
        switch event {
        case .cell, .error:
            return nil
        case .text(let text):
            return ("stream", .object([("name", .string("stdout")), ("text", .string(text + "\n"))]))
        case .value(let value):
            let bundle = value.displayedTable.map(MimeBundle.table) ?? MimeBundle.text(value.description)
            return ("execute_result", .object([("execution_count", .int(executionCount)), ("data", bundle),
                                               ("metadata", .object([]))]))
        case .table(let table):
            return display(MimeBundle.table(table))
        case .plot(let path, let caption):
            return display(MimeBundle.plot(path: path, caption: caption))
        }
    }
}
