import PrnKernel

extension Commands {
    /// Session commands: help, the workspace, and settings.
    static let workspace: [Command] = [
        Command("help", summary: "List the commands, or describe one command, statement or variable.",
                parameters: [
                    .positional("topic", .topic, default: .absent, help: "a command, a statement keyword, or a variable"),
                    .positional("form", .form, default: .absent, help: "one form of the command, as `rand` in `help tensor rand`"),
                ],
                example: "help tensor") { args, interpreter in
            let topic = try args.optionalSymbol("topic"), form = try args.optionalSymbol("form")
            guard let topic else {
                interpreter.emit(interpreter.commands.overview)
                return .none
            }
            if let text = interpreter.help(topic: topic, form: form) {
                interpreter.emit(text)
                return .none
            }
            if let form, interpreter.commands.isCommand(topic) {
                throw args.error(Suggest.message("'\(topic)' has no form '\(form)'", for: form,
                                                 in: interpreter.commands.forms(of: topic)), at: "form")
            }
            throw args.error(Suggest.message("no help for '\(topic)'", for: topic,
                                             in: interpreter.helpTopics), at: "topic")
        },
        Command("vars", summary: "List the workspace: each name with its type and size.",
                example: "vars") { _, interpreter in
            interpreter.emit(interpreter.workspace.listing)
            return .none
        },
        Command("del", summary: "Remove a name from the workspace.",
                parameters: [.positional("name", .word, help: "the name to remove")],
                example: "del a") { args, interpreter in
            let name = try args.symbol("name")
            guard interpreter.unbind(name) else {
                throw args.error(Suggest.message("unknown name '\(name)'", for: name, in: interpreter.workspace.names),
                                 at: "name")
            }
            return .none
        },
        Command("run", summary: "Run another script in this workspace: it sees and binds the same names.",
                parameters: [.positional("file", .string, help: "the script; a relative path starts from the running script's folder")],
                example: "run \"setup.prn\"") { args, interpreter in
            try interpreter.runFile(try args.string("file"), call: args.call)
            return .none
        },
        Command("set seed", summary: "Set the global seed that random commands without `seed=` derive theirs from.",
                parameters: [.positional("seed", .seed, help: "the global seed (default 0)")],
                example: "set seed 42") { args, interpreter in
            interpreter.globalSeed = UInt64(try args.int("seed"))
            return .none
        },
        Command("set threads", summary: "Set the number of worker threads for tensor operations.",
                parameters: [.positional("n", .int(1...256), help: "threads, from 1 to 256")],
                example: "set threads 2") { args, _ in
            Parallel.threads = try args.int("n")
            return .none
        },
    ]
}
