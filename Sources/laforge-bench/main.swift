import Foundation
import LaForgeHost

// laforge-bench: benchmarks whose output goes into docs/PERFORMANCE.md. Each prints the figure
// measured together with the raw limit and a peer from the same run, as ratios: on a noisy
// 2-core machine only ratios measured side by side mean anything.

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "abi":
    ABIBenchmark(arguments: Array(arguments.dropFirst())).run()
case "ingest":
    IngestBenchmark(arguments: Array(arguments.dropFirst())).run()
case "verify":
    VerifyBenchmark(arguments: Array(arguments.dropFirst())).run()
case "sink-down":
    SinkDownBenchmark(arguments: Array(arguments.dropFirst())).run()
case "token":
    TokenBenchmark(arguments: Array(arguments.dropFirst())).run()
default:
    FileHandle.standardError.write(Data("""
        usage: laforge-bench abi [--iterations N] [--batch N]
               laforge-bench ingest [--events N] [--rounds N] [--raw-seconds S] [--peer-seconds S]
               laforge-bench verify [--entries N] [--rounds N]
               laforge-bench sink-down [--events N] [--flush-timeout S]
               laforge-bench token [--validations N] [--rounds N]
          abi        per-call cost of a batch write through the C ABI vs a direct C call and a Swift
                     protocol call; host start-up time with every plugin loaded
          ingest     durable ingest through `laforge audit emit --stdin` (journal, then FileSink) vs
                     the disk's group-commit limit (bench/fsync-limit.c) and syslog-ng with fsync
                     (bench/peer-syslog-ng.sh)
          verify     `laforge verify chain` over a journal and a FileSink file of 1M entries vs
                     SHA-256 of the same bytes (openssl dgst, an in-process loop)
          sink-down  RSS while a sink refuses every write for 1M events (the journal holds the
                     backlog)
          token      bearer-token validations/s through the OIDC connector (warm JWKS cache) vs
                     raw RS256 verification of the same token with OpenSSL
        Build first: swift build -c release, then .build/release/laforge-bench COMMAND.

        """.utf8))
    exit(64)
}
