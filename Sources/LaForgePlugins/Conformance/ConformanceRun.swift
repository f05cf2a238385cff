import Foundation
import LaForgeCore
import PluginABI

/// One run of the kit over one loaded library: the checks every capability shares (schema,
/// configuration, create), then the capability's own.
struct ConformanceRun {
    let kit: PluginConformanceKit
    let library: PluginLibrary
    let scratch: String
    let metrics: MetricsRegistry

    init(kit: PluginConformanceKit, library: PluginLibrary, scratch: String) {
        self.kit = kit
        self.library = library
        self.scratch = scratch
        metrics = MetricsRegistry(logger: kit.logger)
    }

    /// The normalized configurations for the instance under test and for a second one beside it.
    struct Configs {
        var first: PluginConfigJSON
        var second: PluginConfigJSON
    }

    func context(_ instanceName: String) -> PluginHostContext {
        // The kit checks plugins as development mode sees them (production only adds refusals).
        PluginHostContext(
            instanceName: instanceName, logger: kit.logger, metrics: metrics, secrets: nil, mode: .development)
    }

    func instanceName(_ capability: PluginCapability, _ role: String) -> String {
        "check-\(capability.rawValue)-\(role)"
    }

    func checkCapability(_ capability: PluginCapability, log: inout ConformanceLog) {
        let schemaText = library.descriptor.configSchemaText(for: capability)
        let schemaCheck: PluginSchemaCheck
        do {
            schemaCheck = try PluginSchemaCheck(schemaText: schemaText, library: library.path)
        } catch {
            log.fail(capability, "schema", error.message)
            log.skip(capability, "instance", "no instance was created because the config schema is unusable")
            return
        }
        // PluginSchemaCheck parsed it already; a nil schema means the host's strict `{}` schema.
        let schemaJSON = schemaText.flatMap { try? JSONParser.parse($0) }
        if let schemaJSON {
            log.pass(
                capability, "schema", "the config schema parses and uses only the JSON Schema subset the host supports")
            if schemaJSON["additionalProperties"] == .bool(false) {
                log.pass(
                    capability, "strict-schema",
                    "the config schema sets \"additionalProperties\": false, so a misspelt key is reported to the user")
            } else {
                log.warn(
                    capability, "strict-schema",
                    "the config schema lacks \"additionalProperties\": false at the top level, so a misspelt key (\"pth\" for \"path\") passes validation silently"
                )
            }
        } else {
            log.pass(capability, "schema", "config_schema is NULL, so the host accepts only an empty configuration {}")
        }

        guard let configs = chooseConfigs(capability, schemaCheck: schemaCheck, schemaJSON: schemaJSON, log: &log)
        else {
            log.skip(
                capability, "instance",
                "no instance was created because there is no valid configuration to create it with")
            return
        }
        if schemaJSON == nil {
            // docs/ABI.md: without a schema the host passes only {}, so the plugin may ignore
            // its configuration; refusing anything else is not required.
            log.skip(capability, "malformed-config", "config_schema is NULL: the host passes only {}, which the plugin may ignore")
        } else {
            probeMalformedConfig(capability, log: &log)
        }
        probeMissingRequiredKeys(capability, schemaCheck: schemaCheck, log: &log)

        switch capability {
        case .auditSink: checkAuditSink(configs, log: &log)
        case .secretBackend: checkSecretBackend(configs, log: &log)
        case .idpConnector:
            log.skip(
                capability, "tokens",
                "IdP connectors need a live identity provider; their token checks run in Tests/OIDCConnectorTests/Identity")
        }
    }

    // MARK: Configuration

    private func chooseConfigs(
        _ capability: PluginCapability, schemaCheck: PluginSchemaCheck, schemaJSON: JSONValue?,
        log: inout ConformanceLog
    ) -> Configs? {
        if let given = kit.configs[capability] {
            switch schemaCheck.normalize(given) {
            case .success(let normalized):
                log.pass(
                    capability, "config",
                    "the given configuration \(schemaCheck.schema.redacting(given)) passes the plugin's schema")
                return Configs(first: PluginConfigJSON(text: normalized), second: PluginConfigJSON(text: normalized))
            case .failure(let failure):
                log.fail(
                    capability, "config",
                    "the given configuration is rejected by the plugin's schema: "
                        + failure.violations.map(\.description).joined(separator: "; "))
                return nil
            }
        }

        func synthesize(suffix: String) -> ConformanceConfigSynthesizer.Synthesized {
            ConformanceConfigSynthesizer(
                schema: schemaJSON ?? .object([:]), capability: capability, scratchDirectory: scratch,
                scratchSuffix: suffix
            ).synthesize()
        }
        let first = synthesize(suffix: "")
        let second = synthesize(suffix: "-2")
        for file in first.scratchFiles + second.scratchFiles {
            guard FileManager.default.createFile(atPath: file, contents: Data()) else {
                log.fail(
                    capability, "config",
                    "could not create the scratch file \(file) for the synthesized configuration; pass --config")
                return nil
            }
        }
        let shown = schemaCheck.schema.redacting(first.config)
        let rejection: (SchemaViolations) -> String = { failure in
            "synthesized config \(shown) rejected: "
                + failure.violations.map(\.description).joined(separator: "; ") + "; pass --config"
        }
        let normalizedFirst: String
        switch schemaCheck.normalize(first.config) {
        case .success(let text): normalizedFirst = text
        case .failure(let failure):
            log.fail(capability, "config", rejection(failure))
            return nil
        }
        let normalizedSecond = (try? schemaCheck.normalize(second.config).get()) ?? normalizedFirst

        var detail = "no configuration given, so the kit synthesized \(shown) from the schema"
        if !first.sources.isEmpty { detail += " (" + first.sources.joined(separator: ", ") + ")" }
        if !first.scratchFiles.isEmpty {
            detail += "; strings without examples are given the path of an empty scratch file"
        }
        log.pass(capability, "config", detail)
        return Configs(first: PluginConfigJSON(text: normalizedFirst), second: PluginConfigJSON(text: normalizedSecond))
    }

    // MARK: create() probes

    /// What one create() call did, seen from outside the host's instance wrapper.
    enum CreateProbe {
        case created
        case refused(PluginInstanceHandle.FailedCreate)
    }

    /// Calls create() with `configJSON` as given (no validation), destroys whatever it hands out.
    func probeCreate(_ capability: PluginCapability, configJSON: String, role: String) -> CreateProbe {
        let create: CreateFunction
        let lastError: LastErrorFunction
        let destroy: DestroyFunction
        switch capability {
        case .auditSink:
            let vtable = library.descriptor.auditSink!
            (create, lastError, destroy) = (vtable.create!, vtable.last_error!, vtable.destroy!)
        case .secretBackend:
            let vtable = library.descriptor.secretBackend!
            (create, lastError, destroy) = (vtable.create!, vtable.last_error!, vtable.destroy!)
        case .idpConnector:
            let vtable = library.descriptor.idpConnector!
            (create, lastError, destroy) = (vtable.create!, vtable.last_error!, vtable.destroy!)
        }
        let name = instanceName(capability, role)
        var failure: PluginInstanceHandle.FailedCreate?
        do {
            let handle = try PluginInstanceHandle(
                name: name, library: library, configJSON: PluginConfigJSON(text: configJSON),
                concurrent: library.descriptor.isConcurrent(capability), context: context(name),
                create: create, lastError: lastError, destroy: destroy, onFailure: { failure = $0 })
            handle.close()
            return .created
        } catch {
            // onFailure runs on every path that throws; the fallback only keeps this total.
            return .refused(
                failure
                    ?? PluginInstanceHandle.FailedCreate(
                        status: .internalError, handedOutInstance: false, lastError: error.message))
        }
    }

    /// Judges a create() that must not succeed: not OK, a known status, and a reason in
    /// last_error when it handed out an instance.
    private func judgeRefusal(
        _ probe: CreateProbe, _ capability: PluginCapability, check: String, input: String,
        log: inout ConformanceLog
    ) {
        switch probe {
        case .created:
            log.fail(
                capability, check,
                "create returned OK for \(input); it must refuse it (LAFORGE_INVALID_ARGUMENT) instead of running with a configuration it did not understand"
            )
        case .refused(let failure):
            switch failure.status {
            case .ok:
                log.fail(
                    capability, check,
                    "create returned OK for \(input) but handed out no instance; it must refuse it (LAFORGE_INVALID_ARGUMENT)"
                )
            case .unknown(let value):
                log.fail(
                    capability, check,
                    "create returned unknown status \(value) for \(input); only the LAFORGE_* codes of the header are allowed"
                )
            default:
                if !failure.handedOutInstance {
                    log.pass(
                        capability, check, "create refused \(input) with \(failure.status) and handed out no instance")
                } else if failure.lastError.isEmpty {
                    log.warn(
                        capability, check,
                        "create refused \(input) with \(failure.status), but last_error is empty, so the user is told no reason"
                    )
                } else {
                    log.pass(capability, check, "create refused \(input) with \(failure.status): \(failure.lastError)")
                }
            }
        }
    }

    private func probeMalformedConfig(_ capability: PluginCapability, log: inout ConformanceLog) {
        let probe = probeCreate(capability, configJSON: PluginConformanceKit.malformedConfig, role: "malformed")
        judgeRefusal(
            probe, capability, check: "malformed-config",
            input: "the malformed JSON \"\(PluginConformanceKit.malformedConfig)\"", log: &log)
    }

    private func probeMissingRequiredKeys(
        _ capability: PluginCapability, schemaCheck: PluginSchemaCheck, log: inout ConformanceLog
    ) {
        let missing = schemaCheck.schema.validate(.object([:])).filter {
            $0.keyword == "required" && $0.instancePath.isEmpty
        }
        guard !missing.isEmpty else {
            log.skip(capability, "missing-required", "the schema requires no keys, so {} is a valid configuration")
            return
        }
        let probe = probeCreate(capability, configJSON: "{}", role: "empty")
        judgeRefusal(
            probe, capability, check: "missing-required",
            input: "{} (\(missing.map(\.message).joined(separator: "; ")))", log: &log)
    }

    // MARK: Shared helpers

    /// Creates the instance the capability's checks run on, recording `create`; nil (with the
    /// rest of the capability recorded as skipped) when the plugin refuses a valid configuration.
    func createInstance<Instance>(
        _ capability: PluginCapability, log: inout ConformanceLog,
        _ make: (_ name: String, _ context: PluginHostContext) throws(PluginLoadError) -> Instance
    ) -> Instance? {
        let name = instanceName(capability, "first")
        do {
            let instance = try make(name, context(name))
            log.pass(capability, "create", "create returned OK for the valid configuration")
            return instance
        } catch {
            log.fail(capability, "create", "create failed for the valid configuration: \(error.message)")
            log.skip(
                capability, "instance", "the remaining \(capability.rawValue) checks need an instance and were skipped")
            return nil
        }
    }

    /// A call on a destroyed instance must be refused by the host's gate, never reach the plugin.
    func judgeCallAfterClose<Value>(
        _ capability: PluginCapability, _ function: String, _ result: Result<Value, PluginCallError>,
        log: inout ConformanceLog
    ) {
        switch result {
        case .failure(let error) where error.kind == .closed:
            log.pass(
                capability, "lifecycle",
                "after destroy the host refused \(function) on the instance without calling the plugin")
        case .failure(let error):
            log.fail(
                capability, "lifecycle",
                "\(function) after destroy failed with \(error) instead of being refused by the host")
        case .success:
            log.fail(capability, "lifecycle", "\(function) after destroy reached the plugin; the host must refuse it")
        }
    }

    /// Runs `calls` × `threads` calls at once on a CONCURRENT instance; each returns nil when it
    /// behaved, else what went wrong.
    func checkConcurrentCalls(
        _ capability: PluginCapability, describing calls: String, log: inout ConformanceLog,
        _ call: @escaping @Sendable (_ thread: Int, _ iteration: Int) -> String?
    ) {
        let (threads, iterations) = (4, 50)
        let problems = runOnThreads(threads: threads, iterations: iterations, call).compactMap { $0 }
        let total = threads * iterations
        if problems.isEmpty {
            log.pass(capability, "concurrent", "\(total) \(calls) from \(threads) threads at once all behaved")
        } else {
            log.fail(
                capability, "concurrent",
                "\(problems.count) of \(total) \(calls) from \(threads) threads at once misbehaved; the first: \(problems[0])"
            )
        }
    }

    /// Reads last_error through the instance's gate, as the host does after a failure.
    func readLastError(_ handle: PluginInstanceHandle) -> Result<String, PluginCallError> {
        Result { () throws(PluginCallError) -> String in try handle.call("last_error") { handle.lastError() } }
    }
}
