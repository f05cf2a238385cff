import Foundation
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgePluginKit
@testable import LaForgePlugins
@testable import OIDCConnector

/// One parser of untrusted input, driven the way the host drives it. Each target either accepts
/// or refuses its input; a crash, a trap, a sanitizer report or a broken invariant (checked
/// with `precondition`, so libFuzzer records the input) is a bug. Names match the corpus
/// folders under Fuzz/corpus/.
enum FuzzTarget: String, CaseIterable {
    /// `laforge.yaml`: libyaml, then the configuration decoder (types, keys, interpolation).
    case yamlConfig = "yaml-config"
    /// `audit emit --stdin`'s fast decoder, checked against the general path.
    case ndjsonDecoder = "ndjson-decoder"
    /// The fast transcoder (line to canonical bytes), checked against the general path.
    case ndjsonTranscoder = "ndjson-transcoder"
    /// The host's JSON parser, and RFC 8785 canonicalization of what it accepts.
    case json
    /// A C2SP signed note carrying a checkpoint (sink read-back, `verify chain`).
    case checkpointNote = "checkpoint-note"
    /// A bearer token through OIDCConnector's decoding steps: split, base64url, header and
    /// payload JSON (the signature and claims need a key the fuzzer cannot forge).
    case jwt
    /// A JWKS document through OIDCConnector's key parser (RSA, EC, OKP keys into OpenSSL).
    case jwks

    func run(_ bytes: [UInt8]) {
        switch self {
        case .yamlConfig: Self.yamlConfig(bytes)
        case .ndjsonDecoder: Self.ndjsonDecoder(bytes)
        case .ndjsonTranscoder: Self.ndjsonTranscoder(bytes)
        case .json: Self.json(bytes)
        case .checkpointNote: Self.checkpointNote(bytes)
        case .jwt: Self.jwt(bytes)
        case .jwks: Self.jwks(bytes)
        }
    }

    private static func yamlConfig(_ bytes: [UInt8]) {
        guard (try? YAMLParser.parse(bytes: bytes, sourceName: "fuzz.yaml")) != nil else { return }
        _ = try? LaForgeConfig.parse(
            text: String(decoding: bytes, as: UTF8.self), sourceName: "fuzz.yaml", baseDirectory: "/nonexistent",
            environment: [:])
    }

    /// What `audit emit` does with a line the fast paths step aside from.
    private static func generalPath(_ line: ArraySlice<UInt8>) -> [UInt8]? {
        guard let value = try? JSONParser.parse(line), let event = try? AuditEvent(json: value) else { return nil }
        return event.canonicalBytes()
    }

    /// Whether a fast path's canonical bytes are the general path's. An event without a
    /// timestamp gets the current time on each path, so then the two are compared without it.
    private static func sameAsGeneralPath(_ line: ArraySlice<UInt8>, _ fast: [UInt8]) -> Bool {
        guard let general = generalPath(line) else { return false }
        if general == fast { return true }
        guard let input = try? JSONParser.parse(line), input["timestamp"] == nil,
            case .object(var generalMembers)? = try? JSONParser.parse(general),
            case .object(var fastMembers)? = try? JSONParser.parse(fast)
        else { return false }
        generalMembers["timestamp"] = nil
        fastMembers["timestamp"] = nil
        return generalMembers == fastMembers
    }

    private static func ndjsonDecoder(_ bytes: [UInt8]) {
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            guard let event = AuditEventDecoder.decode(line) else { continue }
            precondition(
                sameAsGeneralPath(line, event.canonicalBytes()),
                "the fast decoder accepted a line the general path reads differently")
        }
    }

    private static func ndjsonTranscoder(_ bytes: [UInt8]) {
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            guard let canonical = AuditEventTranscoder.canonicalBody(line) else { continue }
            precondition(
                sameAsGeneralPath(line, canonical), "the transcoder accepted a line the general path writes differently")
        }
    }

    private static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        let canonical = JSONCanonicalizer.canonicalize(value)
        // Canonical JSON is a fixed point: parsing and canonicalizing it again changes nothing.
        guard let again = try? JSONParser.parse(canonical) else {
            preconditionFailure("the canonical form of accepted JSON does not parse")
        }
        precondition(JSONCanonicalizer.canonicalize(again) == canonical, "canonicalization is not idempotent")
    }

    /// A fixed verifier: signatures by it cannot be forged, so the fuzzer also gets the body
    /// parser on its own (what the note carries once a signature verified).
    private static let verifier = try! Ed25519VerifierKey(
        name: "laforge/fuzz", publicKey: [UInt8](repeating: 0x42, count: 32))

    private static func checkpointNote(_ bytes: [UInt8]) {
        _ = try? Checkpoint.open(note: bytes, verifiers: [verifier], expectedOrigin: nil)
        if let last = bytes.last, last == 0x0A {
            _ = try? Checkpoint.parse(body: bytes[...])
        }
    }

    private static func jwt(_ bytes: [UInt8]) {
        let dots = JWTValidator.dots(bytes)
        guard dots.count == 2 else { return }
        precondition(dots.first < dots.second && bytes[dots.first] == 0x2E && bytes[dots.second] == 0x2E)
        let header = Base64.decode(bytes[..<dots.first], .jose).flatMap { try? JSONReader.parse($0) }
        if case .object? = header {
            _ = header?.member("alg")?.string
            _ = header?.member("kid")
            _ = header?.member("crit")
        }
        _ = Base64.decode(bytes[(dots.second + 1)...], .jose)
        if let payload = Base64.decode(bytes[(dots.first + 1)..<dots.second], .jose), let claims = try? JSONReader.parse(payload) {
            _ = claims.member("aud")
            _ = claims.member("exp")
        }
    }

    private static func jwks(_ bytes: [UInt8]) {
        guard let document = try? JSONReader.parse(bytes), case .array(let entries)? = document.member("keys") else { return }
        for entry in entries { _ = try? KeySet.parseKey(entry) }
    }
}
