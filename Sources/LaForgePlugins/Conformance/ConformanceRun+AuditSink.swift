import Foundation

extension ConformanceRun {
    /// How often, and how far apart, the kit re-sends a batch a sink answered RETRY to.
    static let retryAttempts = 5
    static let retryPauseMicroseconds: UInt32 = 100_000

    func checkAuditSink(_ configs: Configs, log: inout ConformanceLog) {
        let capability = PluginCapability.auditSink
        guard
            let sink = createInstance(
                capability, log: &log,
                { name, context throws(PluginLoadError) in
                    try AuditSinkInstance(name: name, library: library, configJSON: configs.first, context: context)
                })
        else { return }
        defer { sink.close() }
        var lastErrorCalls: [String] = []
        var lastErrorFailures: [String] = []
        func probeLastError(after call: String) {
            switch readLastError(sink.handle) {
            case .success: lastErrorCalls.append(call)
            case .failure(let error): lastErrorFailures.append("after \(call): \(error)")
            }
        }

        let empty = AuditBatch(chainID: "laforge-check-\(randomBytes(8).hexString)", records: [])
        switch write(sink, empty) {
        case .success(.stored):
            log.pass(capability, "empty-batch", "write returned OK for an empty batch")
        case .success(let outcome):
            log.fail(
                capability, "empty-batch",
                "write returned \(describe(outcome, count: 0)) for an empty batch; an empty batch must succeed")
        case .failure(let error):
            log.fail(capability, "empty-batch", "write of an empty batch broke the contract: \(error.message)")
        }
        probeLastError(after: "the empty batch")

        var chain = SyntheticAuditChain(chainID: "laforge-check-\(randomBytes(8).hexString)")
        let batch = AuditBatch(chainID: chain.chainID, records: chain.entries(5) + [chain.checkpoint()])
        let batchText = "a batch of 5 entries and a checkpoint"
        var firstWriteStored = false
        switch write(sink, batch) {
        case .success(.stored):
            firstWriteStored = true
            log.pass(capability, "batch", "write returned OK for \(batchText)")
        case .success(let outcome):
            if case .retry = outcome {
                // As the host would: send it again a few times. A sink that never stores a
                // well-formed batch never delivers anything, however politely it says RETRY.
                let attempts = Self.retryAttempts
                var storedAfter: Int?
                for attempt in 1...attempts {
                    usleep(Self.retryPauseMicroseconds)
                    if case .success(.stored) = write(sink, batch) {
                        storedAfter = attempt
                        break
                    }
                }
                if let storedAfter {
                    firstWriteStored = true
                    log.pass(
                        capability, "batch",
                        "write returned \(describe(outcome, count: batch.count)) for \(batchText), then OK on re-send \(storedAfter)")
                } else {
                    log.fail(
                        capability, "batch",
                        "write returned \(describe(outcome, count: batch.count)) for \(batchText) and still did not store it after \(attempts) more attempts: a sink that answers RETRY to well-formed records delivers nothing (return OK once they are durable)"
                    )
                }
            } else {
                log.fail(
                    capability, "batch",
                    "write returned \(describe(outcome, count: batch.count)) for \(batchText) of well-formed records")
            }
        case .failure(let error):
            log.fail(capability, "batch", "write of \(batchText) broke the contract: \(error.message)")
        }
        probeLastError(after: "the batch")

        switch write(sink, batch) {
        case .success(.stored):
            log.pass(
                capability, "idempotent-resend",
                "write returned OK when the same batch was sent again, as after a RETRY or a crash")
        case .success(let outcome):
            if case .retry = outcome, !firstWriteStored {
                log.skip(
                    capability, "idempotent-resend",
                    "the batch was never stored (see batch), so idempotent re-delivery could not be tried")
            } else {
                log.fail(
                    capability, "idempotent-resend",
                    "write returned \(describe(outcome, count: batch.count)) when the same batch was sent again; storing a record twice must have the effect of storing it once"
                )
            }
        case .failure(let error):
            log.fail(capability, "idempotent-resend", "re-sending the same batch broke the contract: \(error.message)")
        }
        probeLastError(after: "the re-sent batch")

        let vtable = library.descriptor.auditSink!
        if vtable.flush == nil {
            log.skip(capability, "flush", "flush is NULL: the plugin declares write durable on its own")
        } else {
            checkOKCall(capability, "flush", log: &log) { () throws(PluginCallError) in try sink.flush() }
            probeLastError(after: "flush")
        }
        if vtable.health == nil {
            log.skip(capability, "health", "health is NULL: the host cannot probe this sink's liveness")
        } else {
            checkOKCall(capability, "health", log: &log) { () throws(PluginCallError) in try sink.health() }
            probeLastError(after: "health")
        }

        checkReadBack(sink, batch: batch, stored: firstWriteStored, log: &log)

        if lastErrorFailures.isEmpty {
            log.pass(
                capability, "last-error",
                "last_error answered after each of \(lastErrorCalls.count) calls (\(lastErrorCalls.joined(separator: ", ")))"
            )
        } else {
            log.fail(
                capability, "last-error", "last_error could not be read " + lastErrorFailures.joined(separator: "; "))
        }

        checkConcurrentWrites(sink, log: &log)
        checkIndependentInstances(first: sink, firstBatch: batch, chain: chain, configs: configs, log: &log)

        // The first instance is closed now: the host, not the plugin, must refuse the call.
        judgeCallAfterClose(capability, "write", write(sink, empty), log: &log)
        checkRestartOnTheSameStorage(batch: batch, stored: firstWriteStored, configs: configs, log: &log)
    }

    private func write(_ sink: AuditSinkInstance, _ batch: AuditBatch) -> Result<SinkWriteOutcome, PluginCallError> {
        Result { () throws(PluginCallError) -> SinkWriteOutcome in try sink.write(batch) }
    }

    private func describe(_ outcome: SinkWriteOutcome, count: Int) -> String {
        let records = "\(count) record\(count == 1 ? "" : "s")"
        switch outcome {
        case .stored:
            return "OK"
        case .retry(let stored, let message):
            return "RETRY with stored=\(stored) of \(records)" + (message.isEmpty ? "" : " (\(message))")
        case .permanentError(let stored, let message):
            return "PERMANENT_ERROR at record \(stored) of \(records)" + (message.isEmpty ? "" : " (\(message))")
        case .refused(let stored, let message):
            return "ACCESS_DENIED with stored=\(stored) of \(records)" + (message.isEmpty ? "" : " (\(message))")
        }
    }

    /// flush and health: OK passes, RETRY (degraded, transient) warns, anything else fails.
    func checkOKCall(
        _ capability: PluginCapability, _ function: String, log: inout ConformanceLog,
        _ call: () throws(PluginCallError) -> Void
    ) {
        do throws(PluginCallError) {
            try call()
            log.pass(capability, function, "\(function) returned OK")
        } catch  where error.status == .retry {
            log.warn(
                capability, function,
                "\(function) returned RETRY: \(error.message.isEmpty ? "no reason in last_error" : error.message)")
        } catch {
            log.fail(capability, function, "\(function) did not return OK: \(error)")
        }
    }

    private func checkConcurrentWrites(_ sink: AuditSinkInstance, log: inout ConformanceLog) {
        let capability = PluginCapability.auditSink
        guard library.descriptor.isConcurrent(capability) else {
            log.skip(
                capability, "concurrent",
                "threading is SERIAL: the host never calls one instance from two threads, so no concurrent writes were made"
            )
            return
        }
        let chainID = "laforge-check-\(randomBytes(8).hexString)"
        checkConcurrentCalls(capability, describing: "writes of 2-record batches", log: &log) { thread, iteration in
            // One chain per thread keeps each chain's seq ascending, as the host guarantees.
            var chain = SyntheticAuditChain(chainID: "\(chainID)-\(thread)")
            _ = chain.entries(iteration * 2)
            let batch = AuditBatch(chainID: chain.chainID, records: chain.entries(2))
            do throws(PluginCallError) {
                switch try sink.write(batch) {
                case .stored, .retry: return nil
                case .permanentError(let stored, let message):
                    return "PERMANENT_ERROR at record \(stored) of 2 (\(message))"
                case .refused(_, let message):
                    return "ACCESS_DENIED (\(message))"
                }
            } catch {
                return error.message
            }
        }
    }

    /// Two instances side by side, then the second alone after the first is destroyed: a
    /// plugin with global state (one file, one connection) fails here.
    private func checkIndependentInstances(
        first: AuditSinkInstance, firstBatch: AuditBatch, chain: SyntheticAuditChain, configs: Configs,
        log: inout ConformanceLog
    ) {
        let capability = PluginCapability.auditSink
        let name = instanceName(capability, "second")
        let second: AuditSinkInstance
        do {
            second = try AuditSinkInstance(
                name: name, library: library, configJSON: configs.second, context: context(name))
        } catch {
            first.close()
            log.fail(
                capability, "independent-instances",
                "a second instance could not be created beside the first: \(error.message)")
            return
        }
        defer { second.close() }
        func accepted(_ result: Result<SinkWriteOutcome, PluginCallError>) -> String? {
            switch result {
            case .success(.stored), .success(.retry): return nil
            case .success(let outcome): return "returned " + describe(outcome, count: firstBatch.count)
            case .failure(let error): return error.message
            }
        }
        let side = (accepted(write(first, firstBatch)), accepted(write(second, firstBatch)))
        first.close()
        var chain = chain
        let later = AuditBatch(chainID: chain.chainID, records: chain.entries(3) + [chain.checkpoint()])
        let after = accepted(write(second, later))
        if let problem = side.0 ?? side.1 {
            log.fail(capability, "independent-instances", "with two instances open, a write \(problem)")
        } else if let problem = after {
            log.fail(
                capability, "independent-instances",
                "after the first instance was destroyed, the second's write \(problem); instances must keep no shared state"
            )
        } else {
            log.pass(
                capability, "independent-instances",
                "two instances wrote side by side, and the second still wrote after the first was destroyed")
        }
    }
}
