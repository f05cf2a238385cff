import Foundation

/// `laforge-bench ingest`: durable ingest of N ~600-byte audit events, in one run on one disk:
///   raw  — `bench/fsync-limit.c syncN:1000` (1000 × write(600 B) then one fdatasync) and
///          `batchw:1000` (the same group as one write): the disk's group-commit limit;
///   peer — `bench/peer-syslog-ng.sh … fsync`: syslog-ng, TCP on loopback → file with fsync;
///   ours — `laforge audit emit --stdin` into the journal (group commit) and on to a FileSink
///          file (fsync per batch), end to end until the process exits; and split into
///          recording alone (`--flush-timeout 0`) and a separate `laforge audit deliver`;
///          medians of `--rounds` runs, raw measured before and after them.
/// Goals: recording ≥ 70 % of raw syncN:1000; end to end ≥ 2× the peer.
struct IngestBenchmark {
    var events = 200_000
    var rawSeconds = 5
    var peerSeconds = 10
    var rounds = 3

    init(arguments: [String]) {
        let options = integerOptions(arguments, known: ["--events", "--raw-seconds", "--peer-seconds", "--rounds"])
        events = options["--events"].map { $0 } ?? events
        rawSeconds = options["--raw-seconds"].map { $0 } ?? rawSeconds
        peerSeconds = options["--peer-seconds"].map { $0 } ?? peerSeconds
        rounds = options["--rounds"].map { max(1, $0) } ?? rounds
    }

    func run() {
        let workspace = BenchWorkspace(name: "ingest")
        defer { workspace.remove() }
        workspace.printHeader()

        let eventsPath = workspace.path("events.ndjson")
        let entryBytes = BenchEvents.write(count: events, to: eventsPath)
        let inputBytes = (try? FileManager.default.attributesOfItem(atPath: eventsPath)[.size] as? Int) ?? 0
        print("\(events) events, input \(megabytes(inputBytes)), chained entry ≈ \(entryBytes) B\n")

        // raw: the disk's group-commit limit, before and after ours (the machine is noisy).
        let fsyncLimit = workspace.path("fsync-limit")
        ProcessRun.run("/usr/bin/cc", ["-O2", "-o", fsyncLimit, workspace.packageRoot + "/bench/fsync-limit.c"])
            .checked("cc bench/fsync-limit.c")
        func raw(_ mode: String) -> Double {
            let run = ProcessRun.run(fsyncLimit, [workspace.scratch, mode, String(rawSeconds)]).checked("fsync-limit \(mode)")
            print("  " + run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
            guard let value = number(after: ": ", in: run.standardOutput) else { fail("cannot read fsync-limit output: \(run.standardOutput)") }
            return value
        }
        print("raw (bench/fsync-limit.c, \(rawSeconds) s each):")
        let rawBefore = raw("syncN:1000")
        let rawOneWrite = raw("batchw:1000")

        // peer: syslog-ng needs syslog-ng-core (syslog-ng, loggen) and the script needs bc.
        ensureCommands(["syslog-ng": "syslog-ng-core", "loggen": "syslog-ng-core", "bc": "bc"])
        let peerRun = ProcessRun.run("/bin/bash", [workspace.packageRoot + "/bench/peer-syslog-ng.sh", eventsPath, String(peerSeconds), "1", "fsync"])
            .checked("bench/peer-syslog-ng.sh")
        let peerLine = peerRun.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let peer = number(after: "lines_per_s=", in: peerLine) else { fail("cannot read the peer's output: \(peerRun.standardOutput)") }
        print("\npeer (bench/peer-syslog-ng.sh, \(peerSeconds) s of loggen, 1 connection, fsync):\n  \(peerLine)")

        // ours, `rounds` times on fresh state directories; medians (the machine is noisy).
        var endToEndSeconds: [Double] = [], recordSeconds: [Double] = [], deliverSeconds: [Double] = []
        var endToEndDelivered = 0, splitDelivered = 0, deliveredDuringRecord = 0
        let sinkAudit = "  sinks:\n    - name: file\n      library: libFileSink.so\n      config: { path: \(workspace.path("STATE/audit.ndjson")) }"
        print("\nours, \(events) events per run:")
        for round in 1...rounds {
            // End to end: emit records, then delivers everything before it exits.
            let endToEndState = "end-to-end-\(round)"
            let endToEndConfig = workspace.writeConfig(
                endToEndState + ".yaml", stateName: endToEndState, audit: sinkAudit.replacingOccurrences(of: "STATE", with: endToEndState))
            let endToEnd = ProcessRun.run(
                workspace.laforge, ["audit", "emit", "--stdin", "--config", endToEndConfig, "--flush-timeout", "3600"], input: eventsPath
            ).checked("laforge audit emit --stdin")
            endToEndSeconds.append(endToEnd.seconds)
            endToEndDelivered = fileSinkEntryCount(workspace.path(endToEndState + "/audit.ndjson"))
            try? FileManager.default.removeItem(atPath: workspace.path(endToEndState))

            // Split: recording alone, then delivery alone.
            let splitState = "split-\(round)"
            let splitConfig = workspace.writeConfig(
                splitState + ".yaml", stateName: splitState, audit: sinkAudit.replacingOccurrences(of: "STATE", with: splitState))
            let record = ProcessRun.run(
                workspace.laforge, ["audit", "emit", "--stdin", "--config", splitConfig, "--flush-timeout", "0"], input: eventsPath
            ).checked("laforge audit emit --stdin --flush-timeout 0")
            recordSeconds.append(record.seconds)
            deliveredDuringRecord = fileSinkEntryCount(workspace.path(splitState + "/audit.ndjson"))
            let deliver = ProcessRun.run(workspace.laforge, ["audit", "deliver", "--config", splitConfig]).checked("laforge audit deliver")
            deliverSeconds.append(deliver.seconds)
            splitDelivered = fileSinkEntryCount(workspace.path(splitState + "/audit.ndjson"))
            try? FileManager.default.removeItem(atPath: workspace.path(splitState))
            print("  ours, round \(round): end to end \(format(endToEnd.seconds, 2)) s, recording \(format(record.seconds, 2)) s, delivery \(format(deliver.seconds, 2)) s")
        }

        print("\nraw again after ours:")
        let rawAfter = raw("syncN:1000")

        let endToEndRate = Double(events) / median(endToEndSeconds)
        let recordRate = Double(events) / median(recordSeconds)
        let deliverRate = Double(events - deliveredDuringRecord) / median(deliverSeconds)
        let rawMean = (rawBefore + rawAfter) / 2
        print("\nours (laforge audit emit --stdin, journal fsync group → FileSink fsync batch), median of \(rounds) rounds:")
        print("  end to end (emit → journal → FileSink, until exit)  \(format(median(endToEndSeconds), 2)) s  \(format(endToEndRate, 0)) events/s  (\(endToEndDelivered)/\(events) in the file)")
        print("  recording only (emit --flush-timeout 0)            \(format(median(recordSeconds), 2)) s  \(format(recordRate, 0)) events/s")
        print("  delivery only (audit deliver)                      \(format(median(deliverSeconds), 2)) s  \(format(deliverRate, 0)) events/s  (\(splitDelivered)/\(events) in the file; \(deliveredDuringRecord) delivered by emit)")
        print("\nratios (raw syncN:1000 = mean of before/after: \(format(rawMean, 0)) events/s):")
        print("  recording / raw syncN:1000     \(percent(recordRate / rawMean))  (goal ≥ 70 %: \(recordRate / rawMean >= 0.7 ? "met" : "NOT met"))")
        print("  recording / raw batchw:1000    \(percent(recordRate / rawOneWrite))")
        print("  end to end / raw syncN:1000    \(percent(endToEndRate / rawMean))")
        print("  end to end / peer              \(format(endToEndRate / peer, 2))×  (goal ≥ 2×: \(endToEndRate / peer >= 2 ? "met" : "NOT met"))")
        print("  recording / peer               \(format(recordRate / peer, 2))×")
        if endToEndDelivered != events || splitDelivered != events {
            print("WARNING: not every event reached the FileSink file (\(endToEndDelivered), \(splitDelivered) of \(events))")
        }
    }

    /// Installs the Debian packages providing missing commands (the benchmark runs as root).
    private func ensureCommands(_ commands: [String: String]) {
        let missing = Set(commands.filter { ProcessRun.shell("command -v \($0.key)").status != 0 }.map(\.value))
        guard !missing.isEmpty else { return }
        print("installing \(missing.sorted().joined(separator: " ")) with apt-get")
        let packages = missing.sorted().joined(separator: " ")
        ProcessRun.shell(
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \(packages) || "
                + "{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \(packages); }"
        ).checked("apt-get install \(packages)")
    }
}
