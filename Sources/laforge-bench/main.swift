import Foundation
import LaForgeHost
import Logging

// laforge-bench: benchmarks whose output goes into docs/PERFORMANCE.md. Each prints the figure
// measured together with the raw limit and a peer from the same run, as ratios: on a noisy
// 2-core machine only ratios measured side by side mean anything.

// The host's lines at the level the CLI shows by default (warning): an unbootstrapped swift-log
// would print every info line, and the benchmark would time the terminal.
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}

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
case "postgres":
    PostgresBenchmark(arguments: Array(arguments.dropFirst())).run()
case "envelope":
    EnvelopeBenchmark(arguments: Array(arguments.dropFirst())).run()
case "webhook":
    WebhookBenchmark(arguments: Array(arguments.dropFirst())).run()
case "token":
    TokenBenchmark(arguments: Array(arguments.dropFirst())).run()
case "serve":
    ServeBenchmark(arguments: Array(arguments.dropFirst())).run()
default:
    FileHandle.standardError.write(Data("""
        usage: laforge-bench abi [--iterations N] [--batch N]
               laforge-bench ingest [--events N] [--rounds N] [--raw-seconds S] [--peer-seconds S]
               laforge-bench verify [--entries N] [--rounds N]
               laforge-bench sink-down [--events N] [--flush-timeout S]
               laforge-bench postgres [--entries N] [--single-rows N] [--batch N]
               laforge-bench envelope [--fields N] [--bytes N] [--rounds N]
               laforge-bench webhook [--events N] [--rounds N] [--down-seconds S]
               laforge-bench token [--validations N] [--rounds N]
               laforge-bench serve [--seconds S] [--clients N] [--raw-seconds S]
          abi        per-call cost of a batch write through the C ABI vs a direct C call and a Swift
                     protocol call; host start-up time with every plugin loaded
          ingest     durable ingest through `laforge audit emit --stdin` (journal, then FileSink) vs
                     the disk's group-commit limit (bench/fsync-limit.c) and syslog-ng with fsync
                     (bench/peer-syslog-ng.sh)
          verify     `laforge verify chain` over a journal and a FileSink file of 1M entries vs
                     SHA-256 of the same bytes (openssl dgst, an in-process loop)
          sink-down  RSS while a sink refuses every write for 1M events (the journal holds the
                     backlog)
          postgres   PostgresAudit's delivered rows/s vs raw psql \\copy of the same rows into the
                     same table and single-row INSERTs (server: $LAFORGE_PG_DSN, else a throwaway
                     cluster from scripts/services/postgres)
          envelope   field encryption through EnvelopeCipher (cached data keys, KMSSecrets on a local
                     moto) vs raw libsodium XChaCha20-Poly1305 on the same fields; KMS calls per 1M
          webhook    events/s the SIEMWebhook plugin delivers to a loopback HTTP receiver vs curl
                     POSTing the same bodies; RSS while the receiver is down
          token      bearer-token validations/s through the OIDC connector (warm JWKS cache) vs
                     raw RS256 verification of the same token with OpenSSL
          serve      durable single-event emits to `laforge serve` over its Unix socket (kept-alive
                     connections) at 1/16/64/256 clients: events/s, p50/p99/p99.9, server RSS, vs
                     the disk's group-commit limit at the same group size (bench/fsync-limit.c)
        Build first: swift build -c release, then .build/release/laforge-bench COMMAND.

        """.utf8))
    exit(64)
}
