import XCTest
@testable import PrnLang
import PrnKernel

final class InterpreterTests: XCTestCase {
    func testFailedStatementBindsNothing() {
        let session = Session()
        session.run("x = 1")
        XCTAssertEqual(session.run("x = tensor zeros [2, -1]").outcome, .failed)
        XCTAssertEqual(session.run("print x").stdout, ["1"])
        XCTAssertEqual(session.run("y = (tensor ones [2]) @ (tensor ones [3])").outcome, .failed)
        XCTAssertEqual(session.run("vars").stdout, ["name  type  size", "x     int   1"])
    }

    func testRuntimeErrorStopsTheRun() {
        let result = Session().run("print 1\nprint nope\nprint 2")
        XCTAssertEqual(result.stdout, ["1"])
        XCTAssertEqual(result.outcome, .failed)
    }

    func testDiagnosticFormat() {
        let result = Session().run("a = 1\nb = a + nope", file: "<-e>")
        XCTAssertEqual(result.stderr, ["<-e>:2:9: error: unknown name 'nope'", "b = a + nope", "        ^"])
    }

    func testLineOffsetNumbersLinesAcrossCells() {
        let result = Session().run("nope", file: "<repl>", lineOffset: 6)
        XCTAssertEqual(result.stderr.first, "<repl>:7:1: error: unknown name 'nope'")
    }

    func testUsageNoteFollowsTheCaret() {
        let result = Session().run("tensor rand")
        XCTAssertEqual(result.stderr, ["<test>:1:1: error: missing argument 'shape' for 'tensor rand'", "tensor rand", "^",
                                       "usage: tensor rand SHAPE [low=0.0] [high=1.0] [seed=INT]"])
    }

    func testDerivedSeedsDependOnPositionAndGlobalSeed() throws {
        func draw(_ source: String, seed: UInt64 = 0) throws -> [Float] {
            let session = Session()
            session.interpreter.globalSeed = seed
            session.run(source)
            guard case .tensor(let t)? = session.interpreter.workspace["a"] else {
                XCTFail("\(source) made no tensor: \(session.capture.stderr.joined(separator: "\n"))")
                return []
            }
            return t.scalars
        }
        let base = try draw("a = tensor rand [4]")
        XCTAssertEqual(try draw("a = tensor rand [4]"), base)
        XCTAssertNotEqual(try draw("\na = tensor rand [4]"), base)
        XCTAssertNotEqual(try draw("a  = tensor rand [4]"), base)
        XCTAssertNotEqual(try draw("a = tensor rand [4]", seed: 1), base)
        XCTAssertEqual(try draw("a = tensor rand [4] seed=5"), Tensor.rand([4], seed: 5).scalars)
    }

    func testSetThreads() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        XCTAssertEqual(Session().run("set threads 1").outcome, .ok)
        XCTAssertEqual(Parallel.threads, 1)
        XCTAssertEqual(Session().run("set threads 0").stderr.first,
                       "<test>:1:13: error: 'n' expects an integer from 1 to 256, got 0")
    }

    func testSinkReceivesBareExpressionsAsValues() {
        var shown: [String] = []
        var texts: [String] = []
        let interpreter = Interpreter { event in
            switch event {
            case .value(let value): shown.append(value.description)
            case .text(let text): texts.append(text)
            default: break
            }
        }
        interpreter.run(source: "x = 2\nx\nprint x\nvars", file: "<test>")
        XCTAssertEqual(shown, ["2"])
        XCTAssertEqual(texts.first, "2")
    }

    func testInterruptStopsBeforeTheNextStatement() {
        let session = Session()
        Interrupt.request()
        defer { Interrupt.clear() }
        XCTAssertEqual(session.run("print 1").outcome, .interrupted)
        XCTAssertEqual(session.capture.stdout, [])
    }

    func testCompletion() {
        let session = Session()
        session.run("alpha = tensor zeros [2]\nbeta = 1")
        let i = session.interpreter
        XCTAssertEqual(i.completions(before: "", word: "te"), ["tensor"])
        XCTAssertEqual(i.completions(before: "", word: "al"), ["alpha"])
        XCTAssertEqual(i.completions(before: "", word: "pri"), ["print"])
        XCTAssertEqual(i.completions(before: "x = tensor ", word: "ra"), ["rand", "randn"])
        XCTAssertEqual(i.completions(before: "tensor rand [2] ", word: "s"), ["seed="])
        XCTAssertEqual(i.completions(before: "tensor rand [2] seed=1 ", word: ""), ["high=", "low="])
        XCTAssertEqual(i.completions(before: "set ", word: ""), CommandTable.standard.forms(of: "set").sorted())
        XCTAssertEqual(i.completions(before: "del ", word: ""), ["alpha", "beta"])
        XCTAssertEqual(i.completions(before: "help ", word: "te"), ["tensor"])
        XCTAssertEqual(i.completions(before: "help tensor ", word: "a"), ["arange"])
        XCTAssertEqual(i.completions(before: "help tensor rand ", word: ""), [])
        XCTAssertEqual(i.completions(before: "tensor randn [2, 3] ", word: ""), ["mean=", "seed=", "std="])
        XCTAssertEqual(i.completions(before: "tensor randn ", word: ""), ["alpha", "beta", "mean=", "seed=", "std="])
        XCTAssertEqual(i.completions(before: "tensor rand shape=[2] ", word: "h"), ["high="])
        XCTAssertEqual(i.completions(before: "print ", word: "alpha.s"), ["alpha.shape"])
        XCTAssertEqual(i.completions(before: "y = alpha + ", word: "b"), ["beta"])
    }

    func testHelpDerivesFromDeclarations() {
        let session = Session()
        let overview = session.run("help").stdout
        XCTAssertEqual(overview.first, "Commands:")
        for command in CommandTable.standard.commands {
            XCTAssertTrue(overview.contains { $0.hasPrefix("  \(command.name) ") && $0.hasSuffix(command.summary) }, command.name)
        }
        let rand = session.run("help tensor rand").stdout
        XCTAssertEqual(rand.first, "tensor rand SHAPE [low=0.0] [high=1.0] [seed=INT]")
        XCTAssertEqual(rand.last, "  example: tensor rand [2, 3] seed=1")
    }
}

final class LimitsTests: XCTestCase {
    func testTensorsAboveTheCapFailCleanly() {
        let session = Session()
        let result = session.run("a = tensor zeros [4611686018427387904, 4]\nb = tensor arange 9223372036854775807")
        XCTAssertEqual(result.stderr.first,
                       "<test>:1:18: error: 'shape': shape [4611686018427387904, 4] is too large (limit \(Tensor.maxElements) elements)")
        let broadcast = session.run("a = tensor zeros [100000, 1]\nb = tensor zeros [1, 100000]\nc = a + b")
        XCTAssertEqual(broadcast.stderr.first,
                       "<test>:3:7: error: cannot apply '+' to tensors: shape [100000, 100000] is too large (limit \(Tensor.maxElements) elements)")
        let arange = session.run("tensor arange 9223372036854775807")
        XCTAssertEqual(arange.stderr.first,
                       "<test>:1:15: error: shape [9223372036854775807] is too large (limit \(Tensor.maxElements) elements)")
    }
}

/// How arguments find their parameters.
final class BindingTests: XCTestCase {
    /// `draw A [vs] [B] [to] [PATH]`: optional marker words, as `plot hist` declares them.
    static let commands = CommandTable(Commands.all + [
        Command("draw", summary: "Markers test.", example: "draw 1 vs 2 to \"x\"") { p in
            let a = p.positional("a", Int.self, help: "first")
            _ = p.positional("vs", Versus?.self, help: "the word vs")
            let b = p.positional("b", Int?.self, help: "second")
            _ = p.positional("to", Word?.self, help: "the word to")
            let path = p.positional("path", Value?.self, type: .string, help: "where")
            let extra = p.rest("extra", Value.self, type: .cell, help: "other name=value")
            return { args, interpreter in
                let rest = args[extra].map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                interpreter.emit("a=\(args[a]) b=\(args[b].map(String.init) ?? "-") "
                                 + "path=\(args[path]?.description ?? "-") extra=\(rest)")
                return .none
            }
        },
    ])

    func testMarkerWordsFindTheirParameters() {
        let session = Session(commands: Self.commands)
        XCTAssertEqual(session.run("draw 1 vs 2 to \"x\"").stdout, ["a=1 b=2 path=\"x\" extra="])
        XCTAssertEqual(session.run("draw 1 to \"x\"").stdout, ["a=1 b=- path=\"x\" extra="])
        XCTAssertEqual(session.run("draw 1 vs 2").stdout, ["a=1 b=2 path=- extra="])
        XCTAssertEqual(session.run("draw 1 k=snip j=2").stdout, ["a=1 b=- path=- extra=k=snip,j=2"])
        XCTAssertEqual(session.run("draw 1 k=1 k=2").stderr.first, "<test>:1:12: error: 'k' is given twice")
        XCTAssertEqual(session.run("draw 1 to \"x\" 3").stderr.first, "<test>:1:15: error: too many arguments for 'draw'")
    }
}
