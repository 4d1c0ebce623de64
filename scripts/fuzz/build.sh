#!/usr/bin/env bash
# Builds prn-fuzz, a libFuzzer binary over the language (scripts/fuzz/FuzzTarget.swift), without touching
# Package.swift: the package's modules are compiled with coverage instrumentation into their own
# scratch folder, then linked with the target by swiftc.
#
#   bash scripts/fuzz/build.sh                      # writes .build-fuzz/prn-fuzz
#   mkdir -p fuzz-corpus && cp Tests/Scripts/*/*.prn fuzz-corpus/
#   .build-fuzz/prn-fuzz fuzz-corpus -max_len=4096 -timeout=5 -jobs=2
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch=.build-fuzz
swift build -c release --scratch-path "$scratch" --target PrnLang -Xswiftc -sanitize=fuzzer
b="$scratch/release"
objects=()
for module in PrnLang PrnNotebook PrnPrune PrnNN PrnData PrnAutograd PrnKernel; do
  objects+=("$b/$module.build/"*.o)
done
swiftc -O -parse-as-library -sanitize=fuzzer scripts/fuzz/FuzzTarget.swift -I "$b/Modules" \
  -Xcc -fmodule-map-file=Sources/CZlib/module.modulemap "${objects[@]}" -lz -o "$scratch/prn-fuzz"
echo "built $scratch/prn-fuzz"
