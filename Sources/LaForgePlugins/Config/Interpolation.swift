import Foundation
import LaForgeCore

/// Expands `${env:NAME}` and `${file:PATH}` in every scalar value of a document and turns each
/// `${secret:…}` into a `SecretReference` left in the tree for a later phase.
///
/// Rules (docs/CONFIG.md, "Interpolation"):
/// - A reference may be the whole scalar or part of one; `$${` is a literal `${`. A `$` not
///   followed by `{` is an ordinary character.
/// - Only values are expanded, never mapping keys.
/// - A plain (unquoted) scalar is typed after expansion, as if the expanded text had been written:
///   `port: ${env:PORT}` with `PORT=8080` is the integer 8080. Quote it to keep a string.
/// - `${file:PATH}` is relative to the folder of the configuration file; one trailing newline of
///   the file is dropped.
/// - A scalar holding a `${secret:…}` is always a string, and is marked secret once resolved.
public struct Interpolator: Sendable {
    /// The variables `${env:}` reads; injected so tests do not depend on the process.
    public var environment: [String: String]
    /// The folder relative `${file:}` paths start from: the configuration file's folder.
    public var baseDirectory: String

    /// Files read by `${file:}` are keys, certificates and tokens; anything larger is a mistake.
    static let maximumFileSize = 1 << 20

    public init(environment: [String: String], baseDirectory: String) {
        self.environment = environment
        self.baseDirectory = baseDirectory
    }

    /// `node` with every reference expanded; `path` is the node's key path from the document root,
    /// used in errors and recorded in each `SecretReference`.
    public func interpolate(_ node: YAMLNode, path: [JSONPathComponent] = []) throws(ConfigError) -> YAMLNode {
        try node.mappingScalars(path: path) { scalar, node, path throws(ConfigError) in
            try interpolate(scalar, of: node, path: path)
        }
    }

    private func interpolate(_ scalar: YAMLScalar, of node: YAMLNode, path: [JSONPathComponent]) throws(ConfigError)
        -> YAMLScalar
    {
        // Secrets, and any scalar already processed, are left alone: interpolating twice would
        // read `${` inside a value as a new reference.
        guard scalar.template == nil, !scalar.isSecret, scalar.text.contains("$") else { return scalar }

        func failure(_ message: String) -> ConfigError {
            ConfigError(.interpolation, at: node.mark, path: path, message)
        }

        let pieces: [TemplatePiece]
        do {
            pieces = try TemplatePiece.split(scalar.text)
        } catch {
            throw failure(error.message)
        }
        guard pieces != [.literal(scalar.text)] else { return scalar }

        var segments: [InterpolationSegment] = []
        var literal = ""
        for piece in pieces {
            switch piece {
            case .literal(let text):
                literal += text
            case .reference(kind: "env", let argument, let source):
                literal += try environmentValue(argument, reference: source, failure: failure)
            case .reference(kind: "file", let argument, _):
                literal += try fileContents(argument, failure: failure)
            case .reference(kind: "secret", let argument, let source):
                if !literal.isEmpty {
                    segments.append(.text(literal))
                    literal = ""
                }
                segments.append(.secret(try secretReference(argument, reference: source, at: node.mark, path: path)))
            case .reference(let kind, _, let source):
                let suggestion = closestMatch(to: kind, in: ["env", "file", "secret"]).map { "; did you mean \($0)?" }
                throw failure(
                    "unknown reference kind \(quotedForMessage(kind)) in \(quotedForMessage(source))\(suggestion ?? "")"
                        + " (known: env, file, secret)")
            }
        }

        if !segments.isEmpty {
            if !literal.isEmpty { segments.append(.text(literal)) }
            return YAMLScalar(template: segments, style: scalar.style)
        }
        do {
            let value = try YAMLScalar.resolve(text: literal, style: scalar.style, tag: node.tag)
            return YAMLScalar(text: literal, style: scalar.style, value: value)
        } catch {
            throw ConfigError(error.kind, at: node.mark, path: path, "after interpolation: \(error.message)")
        }
    }

    private func environmentValue(
        _ name: String, reference: String, failure: (String) -> ConfigError
    ) throws(ConfigError) -> String {
        guard Self.isEnvironmentName(name) else {
            throw failure(
                "invalid environment variable name \(quotedForMessage(name)) in \(quotedForMessage(reference))")
        }
        guard let value = environment[name] else {
            throw failure("environment variable \(name) is not set")
        }
        return value
    }

    private func fileContents(_ path: String, failure: (String) -> ConfigError) throws(ConfigError) -> String {
        guard !path.isEmpty else { throw failure("${file:} needs a path") }
        let resolved = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
        let bytes: [UInt8]
        do {
            bytes = try readRegularFile(atPath: resolved, limit: Self.maximumFileSize)
        } catch {
            throw failure("cannot read ${file:\(path)} (\(resolved)): \(error.reason)")
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw failure("${file:\(path)} (\(resolved)) is not UTF-8 text")
        }
        if text.hasSuffix("\r\n") {
            text.removeLast()  // "\r\n" is one Character
        } else if text.hasSuffix("\n") {
            text.removeLast()
        }
        return text
    }

    private func secretReference(
        _ argument: String, reference: String, at mark: SourceMark, path: [JSONPathComponent]
    ) throws(ConfigError) -> SecretReference {
        let backend: String?
        let name: String
        if let slash = argument.firstIndex(of: "/") {
            backend = String(argument[..<slash])
            name = String(argument[argument.index(after: slash)...])
        } else {
            backend = nil
            name = argument
        }
        if let backend, !PluginInstanceConfig.isValidName(backend) {
            throw ConfigError(
                .interpolation, at: mark, path: path,
                "invalid secret backend name \(quotedForMessage(backend)) in \(quotedForMessage(reference))")
        }
        guard !name.isEmpty, !name.contains("$"), !name.contains("{") else {
            throw ConfigError(
                .interpolation, at: mark, path: path,
                "invalid secret name in \(quotedForMessage(reference)); expected ${secret:NAME} or ${secret:BACKEND/NAME}"
            )
        }
        return SecretReference(backend: backend, name: name, mark: mark, path: path)
    }

    /// POSIX's portable name: `[A-Za-z_][A-Za-z0-9_]*`.
    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first != "0", !("1"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_": true
            default: false
            }
        }
    }
}

/// A scalar's text cut at its `${KIND:ARGUMENT}` references, with each `$${` already turned into a
/// literal `${`.
enum TemplatePiece: Equatable {
    case literal(String)
    /// `source` is the reference as written, for messages.
    case reference(kind: String, argument: String, source: String)

    struct Malformed: Error {
        var message: String
    }

    static func split(_ text: String) throws(Malformed) -> [TemplatePiece] {
        var pieces: [TemplatePiece] = []
        var literal = ""
        var rest = text.unicodeScalars[...]
        while let dollar = rest.firstIndex(of: "$") {
            literal.unicodeScalars += rest[..<dollar]
            let afterDollar = rest[rest.index(after: dollar)...]
            if afterDollar.starts(with: "${".unicodeScalars) {
                literal += "${"
                rest = afterDollar.dropFirst(2)
            } else if afterDollar.first == "{" {
                guard let close = afterDollar.firstIndex(of: "}") else {
                    throw Malformed(
                        message: "unterminated reference \(quotedForMessage(String(rest[dollar...])));"
                            + " write $${ for a literal ${")
                }
                let source = String(rest[dollar...close])
                let body = String(afterDollar[afterDollar.index(after: afterDollar.startIndex)..<close])
                guard let colon = body.firstIndex(of: ":") else {
                    throw Malformed(
                        message: "malformed reference \(quotedForMessage(source));"
                            + " expected ${env:NAME}, ${file:PATH} or ${secret:NAME}")
                }
                if !literal.isEmpty {
                    pieces.append(.literal(literal))
                    literal = ""
                }
                pieces.append(
                    .reference(
                        kind: String(body[..<colon]), argument: String(body[body.index(after: colon)...]),
                        source: source))
                rest = rest[rest.index(after: close)...]
            } else {
                literal += "$"
                rest = afterDollar
            }
        }
        literal.unicodeScalars += rest
        if !literal.isEmpty || pieces.isEmpty {
            pieces.append(.literal(literal))
        }
        return pieces
    }
}
