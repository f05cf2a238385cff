import Foundation
import LaForgeHost

// laforge-bench: benchmarks whose output goes into docs/PERFORMANCE.md. Each prints the figure
// measured together with the raw limit and a peer from the same run, as ratios: on a noisy
// 2-core machine only ratios measured side by side mean anything.

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "abi":
    ABIBenchmark(arguments: Array(arguments.dropFirst())).run()
default:
    FileHandle.standardError.write(Data("""
        usage: laforge-bench abi [--iterations N] [--batch N]
          abi   per-call cost of a batch write through the C ABI vs a direct C call and a Swift
                protocol call; host start-up time with every plugin loaded

        """.utf8))
    exit(64)
}
