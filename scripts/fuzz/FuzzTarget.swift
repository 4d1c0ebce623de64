// libFuzzer entry point: feeds each input to the sandboxed interpreter (`FuzzHarness`), which
// lexes, parses and runs it with a step budget, small limits and no file access.
//
// Build and run (grammar.md, "Fuzzing"):
//
//     bash Fuzz/build.sh
//     mkdir -p fuzz-corpus && cp Tests/Scripts/*/*.prn fuzz-corpus/
//     .build-fuzz/prn-fuzz fuzz-corpus -max_len=4096 -timeout=5
import PrnLang

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzHarness.run(bytes: UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
