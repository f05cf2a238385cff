import Foundation
import LaForgeCore

extension ConformanceRun {
    func checkSecretBackend(_ configs: Configs, log: inout ConformanceLog) {
        let capability = PluginCapability.secretBackend
        guard
            let backend = createInstance(
                capability, log: &log,
                { name, context throws(PluginLoadError) in
                    try SecretBackendInstance(name: name, library: library, configJSON: configs.first, context: context)
                })
        else { return }
        defer { backend.close() }
        // Random, so it cannot exist in any real store the kit is pointed at.
        let missingName = "laforge-check-missing-\(randomBytes(12).hexString)"

        if backend.supportsGetSecret {
            checkMissingSecret(backend, missingName, log: &log)
            checkNamedSecret(backend, log: &log)
        } else {
            log.skip(capability, "missing-secret", "get_secret is NULL: the backend offers only key operations")
        }
        if backend.supportsEncryption {
            checkEncryption(backend, log: &log)
        } else {
            log.skip(capability, "round-trip", "encrypt and decrypt are NULL: the backend offers no key operations")
        }
        checkConcurrentReads(backend, missingName, log: &log)

        backend.close()
        if backend.supportsGetSecret {
            judgeCallAfterClose(
                capability, "get_secret", Result { () throws(PluginCallError) in try backend.getSecret(missingName) },
                log: &log)
        } else {
            judgeCallAfterClose(
                capability, "encrypt",
                Result { () throws(PluginCallError) in try backend.encrypt(keyID: nil, plaintext: [], context: []) },
                log: &log)
        }
    }

    private func checkMissingSecret(_ backend: SecretBackendInstance, _ missingName: String, log: inout ConformanceLog)
    {
        let capability = PluginCapability.secretBackend
        do throws(PluginCallError) {
            let value = try backend.getSecret(missingName)
            log.fail(
                capability, "missing-secret",
                "get_secret returned OK (a \(value.count)-byte value) for the random name \(missingName), which cannot exist; it must return LAFORGE_NOT_FOUND"
            )
        } catch {
            switch error.kind {
            case .failed(let status):
                if error.message.isEmpty {
                    log.warn(
                        capability, "missing-secret",
                        "get_secret of a name that does not exist returned \(status) but left last_error empty, so the user is told no reason"
                    )
                } else if status == .notFound || status == .accessDenied {
                    log.pass(
                        capability, "missing-secret",
                        "get_secret of a name that does not exist returned \(status): \(error.message)")
                } else {
                    log.warn(
                        capability, "missing-secret",
                        "get_secret of a name that does not exist returned \(status) rather than NOT_FOUND, so the host cannot tell a missing secret from a broken backend: \(error.message)"
                    )
                }
            case .protocolViolation, .closed:
                log.fail(
                    capability, "missing-secret",
                    "get_secret of a name that does not exist broke the contract: \(error.message)")
            }
        }
    }

    /// Reports only the length: the value is a secret and never leaves `SecretValue`.
    private func checkNamedSecret(_ backend: SecretBackendInstance, log: inout ConformanceLog) {
        let capability = PluginCapability.secretBackend
        guard let secretName = kit.secretName else {
            log.skip(
                capability, "named-secret",
                "no secret name was given (--secret NAME), so reading an existing secret was not checked")
            return
        }
        do throws(PluginCallError) {
            let value = try backend.getSecret(secretName)
            log.pass(
                capability, "named-secret", "get_secret returned OK for \(secretName) with a \(value.count)-byte value")
        } catch {
            log.fail(capability, "named-secret", "get_secret of \(secretName) failed: \(error)")
        }
    }

    private func checkEncryption(_ backend: SecretBackendInstance, log: inout ConformanceLog) {
        let capability = PluginCapability.secretBackend
        let context = JSONCanonicalizer.canonicalize(["tenant": "check"])
        let otherContext = JSONCanonicalizer.canonicalize(["tenant": "other"])
        var sample: [UInt8]?
        for size in [0, 1, 4096] {
            let check = "round-trip-\(size)"
            let plaintext = randomBytes(size)
            do throws(PluginCallError) {
                let ciphertext = try backend.encrypt(keyID: nil, plaintext: plaintext, context: context)
                let decrypted = try backend.decrypt(keyID: nil, ciphertext: ciphertext, context: context)
                let matches = decrypted.withUnsafeBytes { Array($0) == plaintext }
                if !matches {
                    log.fail(
                        capability, check,
                        "decrypt(encrypt(x)) returned \(decrypted.count) bytes that differ from the \(size) bytes encrypted"
                    )
                } else if size >= 16 && contains(ciphertext, plaintext) {
                    // Only for plaintexts long enough that a random ciphertext cannot contain
                    // them by chance (a 1-byte plaintext appears in a 17-byte blob 6 % of the time).
                    log.fail(
                        capability, check,
                        "encrypt returned a \(ciphertext.count)-byte blob that contains the \(size)-byte plaintext in the clear"
                    )
                } else {
                    log.pass(
                        capability, check,
                        "\(size) bytes encrypted under context {\"tenant\":\"check\"} to a \(ciphertext.count)-byte blob and decrypted back unchanged"
                    )
                    if size == 4096 { sample = ciphertext }
                }
            } catch {
                log.fail(capability, check, "round-trip of \(size) bytes failed: \(error)")
            }
        }

        if let sample {
            expectDecryptRefused(
                backend, ciphertext: sample, context: otherContext, check: "wrong-context",
                input: "a ciphertext with the context {\"tenant\":\"other\"} instead of the one it was encrypted under",
                log: &log)
            var flipped = sample
            flipped[flipped.count / 2] ^= 0x01
            expectDecryptRefused(
                backend, ciphertext: flipped, context: context, check: "tampered-ciphertext",
                input: "a ciphertext with one bit flipped at byte \(flipped.count / 2) of \(flipped.count)", log: &log)
        } else {
            log.skip(capability, "wrong-context", "needs a successful 4096-byte round-trip")
            log.skip(capability, "tampered-ciphertext", "needs a successful 4096-byte round-trip")
        }

        do throws(PluginCallError) {
            guard let (key, wrapped) = try backend.generateDataKey(keyID: nil, length: 32, context: context) else {
                log.skip(
                    capability, "data-key",
                    "generate_data_key is NULL: the host generates data keys and wraps them with encrypt")
                return
            }
            let unwrapped = try backend.decrypt(keyID: nil, ciphertext: wrapped, context: context)
            let same = key.withUnsafeBytes { plain in unwrapped.withUnsafeBytes { Array(plain) == Array($0) } }
            if same {
                log.pass(
                    capability, "data-key",
                    "generate_data_key returned a 32-byte key whose \(wrapped.count)-byte wrapped form decrypts to the same key"
                )
            } else {
                log.fail(
                    capability, "data-key",
                    "decrypting the wrapped data key gave \(unwrapped.count) bytes that differ from the 32-byte plaintext key"
                )
            }
        } catch {
            log.fail(capability, "data-key", "generate_data_key(32) or decrypting its wrapped key failed: \(error)")
        }
    }

    private func expectDecryptRefused(
        _ backend: SecretBackendInstance, ciphertext: [UInt8], context: [UInt8], check: String, input: String,
        log: inout ConformanceLog
    ) {
        let capability = PluginCapability.secretBackend
        do throws(PluginCallError) {
            let value = try backend.decrypt(keyID: nil, ciphertext: ciphertext, context: context)
            log.fail(
                capability, check,
                "decrypt returned OK (\(value.count) bytes) for \(input); it must authenticate both and refuse")
        } catch {
            switch error.kind {
            case .failed(let status):
                log.pass(capability, check, "decrypt refused \(input) with \(status)")
            case .protocolViolation, .closed:
                log.fail(capability, check, "decrypt of \(input) broke the contract: \(error.message)")
            }
        }
    }

    private func checkConcurrentReads(
        _ backend: SecretBackendInstance, _ missingName: String, log: inout ConformanceLog
    ) {
        let capability = PluginCapability.secretBackend
        guard library.descriptor.isConcurrent(capability) else {
            log.skip(
                capability, "concurrent",
                "threading is SERIAL: the host never calls one instance from two threads, so no concurrent calls were made"
            )
            return
        }
        guard backend.supportsGetSecret else {
            log.skip(capability, "concurrent", "get_secret is NULL, so concurrent reads were not checked")
            return
        }
        checkConcurrentCalls(capability, describing: "get_secret calls for a missing name", log: &log) { _, _ in
            do throws(PluginCallError) {
                let value = try backend.getSecret(missingName)
                return "get_secret returned OK (a \(value.count)-byte value) for a name that does not exist"
            } catch {
                if case .failed = error.kind { return nil }
                return error.message
            }
        }
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
