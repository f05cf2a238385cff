import COpenSSL
import Foundation
import LaForgeHost
import OpenSSLCrypto

/// `laforge-bench token`: bearer-token validations per second through the OIDC connector plugin
/// (the host's IdPConnectorInstance → C ABI → OIDCConnector: header, kid lookup in the warm JWKS
/// cache, RS256 signature, iss/aud/exp/nbf/iat, groups, identity JSON back across the ABI)
/// against
///   raw — RS256 verification of the same signing input and signature with OpenSSL
///         (OpenSSLCrypto.SignatureVerifier, the library the connector uses), nothing else.
/// Goal: validations ≥ 50 % of raw verifications. The issuer is an in-process loopback server
/// serving discovery and a JWKS with one RSA-2048 key; it is only hit at start (warm cache).
struct TokenBenchmark {
    var validations = 20_000
    var rounds = 3

    init(arguments: [String]) {
        let options = integerOptions(arguments, known: ["--validations", "--rounds"])
        validations = options["--validations"] ?? validations
        rounds = options["--rounds"] ?? rounds
    }

    func run() {
        let workspace = BenchWorkspace(name: "token")
        defer { workspace.remove() }
        workspace.printHeader()

        let key = BenchRSAKey()
        let server = JWKSServer(jwk: key.jwk)
        let issuer = "http://127.0.0.1:\(server.port)"
        let now = Int(Date().timeIntervalSince1970)
        let header = #"{"alg":"RS256","typ":"at+jwt","kid":"bench-1"}"#
        let claims = #"{"iss":"\#(issuer)","aud":"laforge","sub":"alice","iat":\#(now),"exp":\#(now + 3600),"#
            + #""groups":["laforge-admins","laforge-auditors"],"email":"alice@example.com","tenant":"acme"}"#
        let signingInput = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
        let signature = key.sign(Array(signingInput.utf8))
        let token = signingInput + "." + base64URL(signature)

        let configPath = workspace.path("token.yaml")
        let yaml = """
            version: 1
            mode: development
            state_dir: \(workspace.path("state"))
            identity:
              connectors:
                - name: bench
                  library: libOIDCConnector.so
                  config: { issuer: "\(issuer)", client_id: laforge, tenant_claim: tenant }
            """
        do { try yaml.write(toFile: configPath, atomically: true, encoding: .utf8) } catch { fail("cannot write \(configPath): \(error)") }
        let runtime: PluginRuntime
        do {
            runtime = try PluginRuntime.start(
                config: try LaForgeConfig.load(path: configPath),
                options: .init(pluginDirectory: workspace.binaryDirectory, logger: .standardError(minimumLevel: .error)))
        } catch { fail("cannot start the OIDC connector: \(error)") }
        defer { runtime.close() }
        let connector = runtime.idpConnectors[0]
        do { _ = try connector.validateToken(token) } catch { fail("the benchmark token does not validate: \(error)") }

        let publicKey: JWKPublicKey
        do { publicKey = try JWKPublicKey(.rsa(modulus: key.modulus, exponent: key.exponent)) } catch { fail("\(error)") }
        let message = Array(signingInput.utf8)
        let count = validations

        let connectorNanos = medianNanoseconds(rounds: rounds) {
            for _ in 0..<count { _ = try? connector.validateToken(token) }
        }
        let rawNanos = medianNanoseconds(rounds: rounds) {
            for _ in 0..<count { _ = SignatureVerifier.verify(.rs256, key: publicKey, message: message, signature: signature) }
        }
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let concurrentNanos = medianNanoseconds(rounds: rounds) {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                for _ in 0..<(count / threads) { _ = try? connector.validateToken(token) }
            }
        }
        let rawConcurrentNanos = medianNanoseconds(rounds: rounds) {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                for _ in 0..<(count / threads) {
                    _ = SignatureVerifier.verify(.rs256, key: publicKey, message: message, signature: signature)
                }
            }
        }
        func rate(_ nanos: Double, _ n: Int) -> Double { Double(n) / (nanos / 1e9) }
        let connectorRate = rate(connectorNanos, count)
        let rawRate = rate(rawNanos, count)
        let concurrentRate = rate(concurrentNanos, count / threads * threads)
        let rawConcurrentRate = rate(rawConcurrentNanos, count / threads * threads)
        print("token: \(token.utf8.count) bytes, RS256 (RSA-2048), warm JWKS cache; \(count) validations, median of \(rounds) rounds")
        print("| measurement | validations/s | vs raw |")
        print("|---|---|---|")
        print("| raw RS256 verify (OpenSSL EVP), 1 thread | \(format(rawRate, 0)) | 100 % |")
        print("| OIDC connector validate_token through the ABI, 1 thread | \(format(connectorRate, 0)) | \(format(connectorRate / rawRate * 100)) % |")
        print("| raw RS256 verify, \(threads) threads | \(format(rawConcurrentRate, 0)) | 100 % |")
        print("| OIDC connector validate_token, \(threads) threads | \(format(concurrentRate, 0)) | \(format(concurrentRate / rawConcurrentRate * 100)) % |")
        print("goal ≥ 50 % of raw: \(connectorRate / rawRate >= 0.5 ? "met" : "NOT met") (1 thread), "
            + "\(concurrentRate / rawConcurrentRate >= 0.5 ? "met" : "NOT met") (\(threads) threads)")
        server.stop()
    }
}

func base64URL(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// An RSA-2048 key made with OpenSSL, for signing the benchmark's token.
final class BenchRSAKey {
    let key: OpaquePointer
    let modulus: [UInt8]
    let exponent: [UInt8]

    init() {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil), EVP_PKEY_keygen_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_keygen_bits(context, 2048) == 1
        else { fail("OpenSSL cannot make an RSA key") }
        defer { EVP_PKEY_CTX_free(context) }
        var made: OpaquePointer? = nil
        guard EVP_PKEY_generate(context, &made) == 1, let made else { fail("OpenSSL cannot make an RSA key") }
        key = made
        func parameter(_ name: String) -> [UInt8] {
            var number: OpaquePointer? = nil
            guard EVP_PKEY_get_bn_param(made, name, &number) == 1, let number else { fail("no RSA \(name)") }
            defer { BN_free(number) }
            var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(number) + 7) / 8))
            _ = BN_bn2bin(number, &bytes)
            return bytes
        }
        modulus = parameter("n")
        exponent = parameter("e")
    }

    var jwk: String {
        #"{"kty":"RSA","kid":"bench-1","use":"sig","alg":"RS256","n":"\#(base64URL(modulus))","e":"\#(base64URL(exponent))"}"#
    }

    func sign(_ message: [UInt8]) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { fail("OpenSSL") }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1,
            EVP_DigestSign(context, nil, &length, message, message.count) == 1
        else { fail("OpenSSL cannot sign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else { fail("OpenSSL cannot sign") }
        return Array(signature.prefix(length))
    }
}

/// Discovery and JWKS on 127.0.0.1 from a background thread (one request per connection).
final class JWKSServer: @unchecked Sendable {
    let descriptor: Int32
    let port: Int
    private let jwk: String
    private var running = true

    init(jwk: String) {
        self.jwk = jwk
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { fail("cannot listen on 127.0.0.1") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: actual.sin_port))
        Thread.detachNewThread { [self] in serve() }
    }

    func stop() {
        running = false
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }

    private func serve() {
        while running {
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 8192)
            let count = read(client, &buffer, buffer.count)
            let request = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
            let issuer = "http://127.0.0.1:\(port)"
            let body = request.hasPrefix("GET /.well-known/openid-configuration")
                ? #"{"issuer":"\#(issuer)","jwks_uri":"\#(issuer)/jwks"}"# : #"{"keys":[\#(jwk)]}"#
            let response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = Array(response.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            close(client)
        }
    }
}
