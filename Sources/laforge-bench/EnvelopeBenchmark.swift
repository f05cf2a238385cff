import CSodium
import Foundation
import LaForgeHost

/// `laforge-bench envelope`: sealing fields through `EnvelopeCipher` (KMSSecrets on a local moto,
/// data keys cached with the default bounds) against raw libsodium XChaCha20-Poly1305 on the same
/// fields with one fixed key — the limit any envelope scheme over that AEAD can reach. Goal
/// (issue 6): ≥ 50 % of raw. Also counts the KMS calls per million fields.
///
/// Needs the test venv (`scripts/test` creates `.build/venv` with moto): the benchmark starts its own
/// moto_server on a free port of 127.0.0.1 and stops it by PID.
struct EnvelopeBenchmark {
    var fields = 1_000_000
    var fieldBytes = 64
    var rounds = 3

    init(arguments: [String]) {
        let options = integerOptions(arguments, known: ["--fields", "--bytes", "--rounds"])
        fields = options["--fields"] ?? fields
        fieldBytes = options["--bytes"] ?? fieldBytes
        rounds = options["--rounds"] ?? rounds
    }

    func run() {
        let workspace = BenchWorkspace(name: "envelope")
        defer { workspace.remove() }
        workspace.printHeader()
        let moto = MotoProcess(workspace: workspace)
        defer { moto.stop() }
        let keyID = moto.createKey()
        let configPath = workspace.path("laforge.yaml")
        let yaml = """
            version: 1
            state_dir: \(workspace.path("state"))
            secret_backends:
              - name: kms
                library: libKMSSecrets.so
                config:
                  provider: aws
                  region: us-east-1
                  endpoint: \(moto.url)
                  key_id: \(keyID)
                  access_key_id: bench
                  secret_access_key: bench-secret
                  credential_sources: [config]
            """
        do { try yaml.write(toFile: configPath, atomically: true, encoding: .utf8) } catch { fail("cannot write \(configPath)") }
        let runtime: PluginRuntime
        do {
            runtime = try PluginRuntime.start(config: try LaForgeConfig.load(path: configPath), options: .init(pluginDirectory: workspace.binaryDirectory))
        } catch {
            fail("cannot start the runtime: \(error)")
        }
        defer { runtime.close() }

        let values = (0..<1024).map { index in Array(String(format: "%0\(fieldBytes)d", index).utf8.prefix(fieldBytes)) }
        let context: EnvelopeContext
        let cipher: EnvelopeCipher
        do {
            context = try EnvelopeContext(tenant: "acme", fieldPath: "users.ssn")
            cipher = try EnvelopeCipher(backend: runtime.secretBackends[0])
        } catch {
            fail("\(error)")
        }
        print("\(fields) fields of \(fieldBytes) bytes per round, median of \(rounds) rounds; cache limits: max age "
            + "\(Int(cipher.cache.limits.maxAgeSeconds)) s, \(cipher.cache.limits.maxMessagesPerKey) messages and "
            + "\(cipher.cache.limits.maxBytesPerKey >> 20) MiB per data key, \(cipher.cache.limits.maxEntries) entries\n")

        // Raw: the AEAD alone with a fixed key, random nonces, and associated data as long as the
        // envelope's header (which the envelope authenticates).
        var key = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&key, 32)
        guard let sample = try? cipher.seal(values[0], context: context),
            let (_, headerCount) = try? EnvelopeCiphertext.decode(sample)
        else { fail("seal failed") }
        let additional = [UInt8](repeating: 1, count: headerCount)
        var output = [UInt8](repeating: 0, count: 24 + fieldBytes + 16)
        let raw = medianNanoseconds(rounds: rounds) {
            for index in 0..<fields {
                let value = values[index & 1023]
                output.withUnsafeMutableBufferPointer { out in
                    randombytes_buf(out.baseAddress!, 24)
                    var written: UInt64 = 0
                    _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                        out.baseAddress! + 24, &written, value, UInt64(value.count), additional, UInt64(additional.count), nil,
                        out.baseAddress!, key)
                }
            }
        }
        let callsBefore = cipher.kmsCalls
        var sealedBytes = 0
        let envelope = medianNanoseconds(rounds: rounds) {
            for index in 0..<fields {
                guard let sealed = try? cipher.seal(values[index & 1023], context: context) else { fail("seal failed") }
                sealedBytes &+= sealed.count
            }
        }
        let calls = Double(cipher.kmsCalls - callsBefore) / Double(rounds)
        let rawRate = Double(fields) / (raw / 1e9)
        let envelopeRate = Double(fields) / (envelope / 1e9)
        print("raw libsodium XChaCha20-Poly1305     \(rate(fields, raw / 1e9)) fields/s  (\(format(raw / Double(fields), 0)) ns/field)")
        print("EnvelopeCipher.seal, cached data key \(rate(fields, envelope / 1e9)) fields/s  (\(format(envelope / Double(fields), 0)) ns/field)")
        print("envelope / raw                       \(percent(envelopeRate / rawRate))   (goal ≥ 50 %)")
        print("KMS calls per 1M field encryptions   \(format(calls * 1_000_000 / Double(fields), 1))  (GenerateDataKey through KMSSecrets → moto)")
        print("envelope size for a \(fieldBytes)-byte field     \(sealedBytes / max(fields * rounds, 1)) bytes")
    }
}

/// A moto_server from the test venv on a free port (signature checking off: the benchmark measures
/// the host, not moto's auth), stopped by PID.
final class MotoProcess {
    let process = Process()
    let url: String
    let python: String

    init(workspace: BenchWorkspace) {
        let venv = workspace.packageRoot + "/.build/venv/bin"
        python = venv + "/python"
        guard FileManager.default.isExecutableFile(atPath: venv + "/moto_server") else {
            fail("\(venv)/moto_server is missing: run scripts/test once (it installs scripts/requirements-test.txt)")
        }
        let portProbe = ProcessRun.run(python, ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        guard let port = Int(portProbe.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) else { fail("no free port") }
        url = "http://127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: venv + "/moto_server")
        process.arguments = ["-H", "127.0.0.1", "-p", "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { fail("cannot start moto_server: \(error)") }
        for _ in 0..<150 {
            if ProcessRun.run(python, ["-c", "import urllib.request; urllib.request.urlopen('\(url)/moto-api/data.json', timeout=1)"]).status == 0 {
                return
            }
            usleep(200_000)
        }
        stop()
        fail("moto_server did not answer on \(url)")
    }

    func createKey() -> String {
        let script = "import boto3; print(boto3.client('kms', endpoint_url='\(url)', region_name='us-east-1', "
            + "aws_access_key_id='bench', aws_secret_access_key='bench-secret').create_key()['KeyMetadata']['KeyId'])"
        let run = ProcessRun.run(python, ["-c", script]).checked("create a KMS key in moto")
        return run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }
}
