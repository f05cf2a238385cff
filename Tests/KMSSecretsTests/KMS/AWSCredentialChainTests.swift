import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

#if canImport(Glibc)
    import Glibc
#endif

/// The AWS credential chain beyond keys: container credentials (ECS/EKS Pod Identity) against the
/// signature-checking moto; web identity (STS AssumeRoleWithWebIdentity) and IMDSv2 against a second
/// moto without signature checking (moto's STS cannot take the unsigned web-identity call with
/// checking on, and its instance metadata serves fixed keys IAM does not know).
@Suite(.serialized) struct AWSCredentialChainTests {
    func environment(_ url: String, keyID: String) -> [String: String] {
        [
            "AWS_ENDPOINT_URL": url, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
            "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "", "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config",
            "LAFORGE_KMS_KEY_ID": keyID,
        ]
    }

    func config(in directory: String) throws -> String {
        try """
            version: 1
            state_dir: \(directory)/state
            secret_backends:
              - name: kms
                library: libKMSSecrets.so
                config:
                  provider: aws
                  key_id: ${env:LAFORGE_KMS_KEY_ID}
            """.write(toFile: directory + "/laforge.yaml", atomically: true, encoding: .utf8)
        return directory + "/laforge.yaml"
    }

    func seal(_ config: String, _ environment: [String: String], in directory: String) throws -> CLIResult {
        try "field".write(toFile: directory + "/plain", atomically: true, encoding: .utf8)
        return try CLIRunner.runShell(
            "'\(CLIRunner.buildDirectory)/laforge' secrets encrypt --verbose --tenant acme --field f --config '\(config)' < '\(directory)/plain'",
            environment: environment)
    }

    @Test func containerCredentialsWithAnAuthorizationToken() throws {
        let moto = try MotoFixture.shared()
        let directory = try temporaryDirectory("laforge-chain")
        let token = "ecs-token-" + randomBase64(12)
        let endpoint = try LocalProcess(
            fixtureURL("kms-fakes/container_credentials.py").path,
            ["--log", directory + "/container.log", "--token", token, "--access-key-id", moto.adminKeyID,
             "--secret-access-key", moto.adminSecret])
        var env = environment(moto.url, keyID: moto.keyID)
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:\(endpoint.port)/v2/credentials/task"
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
        let config = try config(in: directory)
        let result = try seal(config, env, in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("AWS credentials from container"))
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong"
        let refused = try seal(config, env, in: directory)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("container credentials"))
        expectNoSecrets(result.stderr + refused.stderr, moto.secrets + [token])
    }

    @Test func webIdentityAndIMDSv2AgainstMoto() throws {
        let directory = try temporaryDirectory("laforge-chain")
        let python = try testPython()
        let server = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("moto_server").path
        let port = try runPython("-c", ["import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let moto = try LocalProcess(server, ["-H", "127.0.0.1", "-p", port], announcesPort: false, logPath: directory + "/moto.log")
        let url = "http://127.0.0.1:\(port)"
        try moto.waitUntilAnswering(url + "/moto-api/data.json")
        let keyID = try runPython(
            "-c", ["import boto3, sys; print(boto3.client('kms', endpoint_url=sys.argv[1], region_name='us-east-1', "
                + "aws_access_key_id='x', aws_secret_access_key='y').create_key()['KeyMetadata']['KeyId'])", url])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let config = try config(in: directory)

        var webIdentity = environment(url, keyID: keyID)
        try "eyJhbGciOiJSUzI1NiJ9.test-service-account-token.sig".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        webIdentity["AWS_WEB_IDENTITY_TOKEN_FILE"] = directory + "/token"
        webIdentity["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/laforge-web-identity"
        let viaWebIdentity = try seal(config, webIdentity, in: directory)
        #expect(viaWebIdentity.status == 0, "\(viaWebIdentity.stderr)")
        #expect(viaWebIdentity.stderr.contains("AWS credentials from web identity (arn:aws:iam::123456789012:role/laforge-web-identity)"))
        #expect(!viaWebIdentity.stderr.contains("test-service-account-token"))

        var imds = environment(url, keyID: keyID)
        imds["AWS_EC2_METADATA_DISABLED"] = ""
        imds["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = url
        let viaIMDS = try seal(config, imds, in: directory)
        #expect(viaIMDS.status == 0, "\(viaIMDS.stderr)")
        #expect(viaIMDS.stderr.contains("AWS credentials from imds (role default-role)"))
        let log = try String(contentsOfFile: directory + "/moto.log", encoding: .utf8)
        #expect(log.contains("PUT /latest/api/token"))
        #expect(log.contains("GET /latest/meta-data/iam/security-credentials/default-role"))
    }
}

/// A helper process (a Python script printing its port, or a server told its port), stopped by PID.
final class LocalProcess {
    let process = Process()
    private(set) var port = 0

    init(_ executable: String, _ arguments: [String], announcesPort: Bool = true, logPath: String? = nil) throws {
        if executable.hasSuffix(".py") {
            process.executableURL = URL(fileURLWithPath: try testPython())
            process.arguments = [executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let output = Pipe()
        if let logPath {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: logPath)
            process.standardError = FileHandle(forWritingAtPath: logPath)
        } else {
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        guard announcesPort else { return }
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw AuditTestFailure("\(executable) did not start") }
        self.port = port
    }

    func waitUntilAnswering(_ url: String) throws {
        for _ in 0..<150 {
            if (try? runPython("-c", ["import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)", url])) != nil { return }
            usleep(200_000)
        }
        throw AuditTestFailure("\(url) did not answer")
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
