import PrnKernel
import PrnNN

extension Commands {
    /// Session commands: help, the workspace, and settings.
    static let workspace: [Command] = [
        Command("help", summary: "List the commands, or describe one command, statement or variable.",
                example: "help tensor") { p in
            let topic = p.positional("topic", String?.self, type: .topic, help: "a command, a statement keyword, or a variable")
            let form = p.positional("form", String?.self, type: .form, help: "one form of the command, as `rand` in `help tensor rand`")
            return { args, interpreter in
                guard let subject = args[topic] else {
                    interpreter.emit(interpreter.commands.overview)
                    return .none
                }
                if let text = interpreter.help(topic: subject, form: args[form]) {
                    interpreter.emit(text)
                    return .none
                }
                if let name = args[form], interpreter.commands.isCommand(subject) {
                    throw args.error(Suggest.message("'\(subject)' has no form '\(name)'", for: name,
                                                     in: interpreter.commands.forms(of: subject)), at: form)
                }
                throw args.error(Suggest.message("no help for '\(subject)'", for: subject,
                                                 in: interpreter.helpTopics), at: topic)
            }
        },
        Command("vars", summary: "List the workspace: each name with its type and size.",
                example: "vars") { _ in
            return { _, interpreter in
                interpreter.emit(interpreter.workspace.listing)
                return .none
            }
        },
        Command("del", summary: "Remove a name from the workspace.",
                example: "del a") { p in
            let name = p.positional("name", String.self, type: .word, help: "the name to remove")
            return { args, interpreter in
                guard interpreter.unbind(args[name]) else {
                    throw args.error(Suggest.message("unknown name '\(args[name])'", for: args[name], in: interpreter.workspace.names),
                                     at: name)
                }
                return .none
            }
        },
        Command("run", summary: "Run another script in this workspace: it sees and binds the same names.",
                example: "run \"setup.prn\"") { p in
            let file = p.positional("file", String.self, help: "the script; a relative path starts from the running script's folder")
            return { args, interpreter in
                try interpreter.runFile(args[file], call: args.call)
                return .none
            }
        },
        Command("set seed", summary: "Set the global seed that random commands without `seed=` derive theirs from.",
                example: "set seed 42") { p in
            let seed = p.positional("seed", Seed.self, help: "the global seed (default 0)")
            return { args, interpreter in
                interpreter.globalSeed = args[seed].value
                return .none
            }
        },
        Command("set threads", summary: "Set the number of worker threads for tensor operations.",
                example: "set threads 2") { p in
            let n = p.positional("n", Int.self, type: .int(1...256), help: "threads, from 1 to 256")
            return { args, _ in
                Parallel.threads = args[n]
                return .none
            }
        },
        Command("set sparse", summary: "Choose how masked layers compute: auto (sparse kernels below a density), on or off.",
                example: "set sparse off") { p in
            let mode = p.positional("mode", SparseMode.self, help: "auto (default), on or off; results are the same, only the time differs")
            return { args, _ in
                SparseMode.current = args[mode]
                return .none
            }
        },
    ]
}
