import COpenSSL
import Foundation
import LaForgeHost
import Logging
import OpenSSLCrypto

/// `laforge-bench token`: bearer-token validations per second through the OIDC connector plugin
/// (the host's IdPConnectorInstance → C ABI → OIDCConnector: header, kid lookup in the warm JWKS
/// cache, RS256 signature, iss/aud/exp/nbf/iat, groups, identity JSON back across the ABI)
/// against
///   raw — RS256 verification of the same signing input and signature with OpenSSL
///         (OpenSSLCrypto.SignatureVerifier, the library the connector uses, with the key's
///         prepared verify context like the connector's), nothing else.
/// Goal: validations ≥ 50 % of raw verifications. The issuer is an in-process loopback server
/// serving discovery and a JWKS with one RSA-2048 key; it is only hit at start (warm cache).
struct TokenBenchmark {
    var validations = 5_000
    var rounds = 7

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
        let issuedAt = Int(Date().timeIntervalSince1970)
        let header = #"{"alg":"RS256","typ":"at+jwt","kid":"bench-1"}"#
        let claims = #"{"iss":"\#(issuer)","aud":"laforge","sub":"alice","iat":\#(issuedAt),"exp":\#(issuedAt + 3600),"#
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
                options: .init(pluginDirectory: workspace.binaryDirectory, logger: Logger(minimumLevel: .error) { _, message in FileHandle.standardError.write(Data("laforge-bench: \(message)\n".utf8)) }))
        } catch { fail("cannot start the OIDC connector: \(error)") }
        defer { runtime.close() }
        let connector = runtime.idpConnectors[0]
        do { _ = try connector.validateToken(token) } catch { fail("the benchmark token does not validate: \(error)") }

        let publicKey: JWKPublicKey
        do { publicKey = try JWKPublicKey(.rsa(modulus: key.modulus, exponent: key.exponent)) } catch { fail("\(error)") }
        let message = Array(signingInput.utf8)
        let count = validations

        // Connector and raw alternate batch by batch, and each round's ratio is taken from its
        // own pair: on a shared, noisy machine only side-by-side figures compare.
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let perThread = count / threads
        func timed(_ body: () -> Void) -> Double {
            let start = now()
            body()
            return Double(now() - start)
        }
        @Sendable func validateAll(_ n: Int) { for _ in 0..<n { _ = try? connector.validateToken(token) } }
        @Sendable func verifyAll(_ n: Int) {
            for _ in 0..<n { _ = SignatureVerifier.verify(.rs256, key: publicKey, message: message, signature: signature) }
        }
        var single: [(connector: Double, raw: Double)] = []
        var parallel: [(connector: Double, raw: Double)] = []
        for _ in 0..<rounds {
            let connectorNanos = timed { validateAll(count) }
            let rawNanos = timed { verifyAll(count) }
            single.append((Double(count) / connectorNanos * 1e9, Double(count) / rawNanos * 1e9))
            let connectorParallel = timed { DispatchQueue.concurrentPerform(iterations: threads) { _ in validateAll(perThread) } }
            let rawParallel = timed { DispatchQueue.concurrentPerform(iterations: threads) { _ in verifyAll(perThread) } }
            let total = Double(perThread * threads)
            parallel.append((total / connectorParallel * 1e9, total / rawParallel * 1e9))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func summary(_ pairs: [(connector: Double, raw: Double)]) -> (connector: Double, raw: Double, ratio: Double) {
            (median(pairs.map(\.connector)), median(pairs.map(\.raw)), median(pairs.map { $0.connector / $0.raw }))
        }
        let one = summary(single)
        let many = summary(parallel)
        print("token: \(token.utf8.count) bytes, RS256 (RSA-2048), warm JWKS cache; \(rounds) rounds of \(count) validations, "
            + "connector and raw alternating; medians (the ratio is the median of each round's own ratio)")
        print("| measurement | validations/s | vs raw |")
        print("|---|---|---|")
        print("| raw RS256 verify (OpenSSL EVP), 1 thread | \(format(one.raw, 0)) | 100 % |")
        print("| OIDC connector validate_token through the ABI, 1 thread | \(format(one.connector, 0)) | \(format(one.ratio * 100)) % |")
        print("| raw RS256 verify, \(threads) threads | \(format(many.raw, 0)) | 100 % |")
        print("| OIDC connector validate_token, \(threads) threads | \(format(many.connector, 0)) | \(format(many.ratio * 100)) % |")
        print("goal ≥ 50 % of raw: \(one.ratio >= 0.5 ? "met" : "NOT met") (1 thread), \(many.ratio >= 0.5 ? "met" : "NOT met") (\(threads) threads)")
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
