import CYAML
import LaForgeCore

/// Parses one YAML document with the system libyaml (event API) into a `YAMLNode` tree where every
/// node carries its source mark.
///
/// Beyond YAML itself it refuses what a configuration file should never contain: duplicate mapping
/// keys, several documents, non-scalar mapping keys, tags outside the core schema, `.inf`/`.nan`,
/// integers JSON cannot carry exactly, and alias expansions past `maximumNodeCount` nodes (the
/// "billion laughs" document). Interpolation is not done here (see `Interpolator`).
public enum YAMLParser {
    /// Nodes in the tree with every alias expanded. A real configuration has a few hundred.
    public static let maximumNodeCount = 100_000
    /// Nesting depth; the tree is built recursively, so this bounds the stack.
    public static let maximumDepth = 128

    public static func parse(text: String, sourceName: String) throws(ConfigError) -> YAMLNode {
        try parse(bytes: Array(text.utf8), sourceName: sourceName)
    }

    /// `bytes` is handed to libyaml as is, so invalid UTF-8 is reported with its position.
    public static func parse(bytes: [UInt8], sourceName: String) throws(ConfigError) -> YAMLNode {
        let events = YAMLEventStream(bytes: bytes, sourceName: sourceName)
        var builder = TreeBuilder(events: events)
        return try builder.document()
    }
}

/// One libyaml event, copied out of libyaml's memory.
private enum YAMLEvent {
    case streamStart
    case streamEnd
    case documentStart
    case documentEnd
    case alias(anchor: String)
    case scalar(text: String, anchor: String?, tag: String?, style: YAMLScalar.Style)
    case sequenceStart(anchor: String?, tag: String?)
    case sequenceEnd
    case mappingStart(anchor: String?, tag: String?)
    case mappingEnd
}

/// Owns a libyaml parser and the input it reads (libyaml keeps a pointer to the input, so the
/// buffer lives as long as the parser).
private final class YAMLEventStream {
    let sourceName: String
    private let bytes: [UInt8]
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private var initialized = false

    init(bytes: [UInt8], sourceName: String) {
        self.sourceName = sourceName
        self.bytes = bytes
        input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        if yaml_parser_initialize(parser) != 0 {
            initialized = true
            yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
        }
    }

    deinit {
        if initialized { yaml_parser_delete(parser) }
        parser.deallocate()
        input.deallocate()
    }

    /// The next event and where it starts.
    func next() throws(ConfigError) -> (YAMLEvent, SourceMark) {
        guard initialized else {
            throw ConfigError(kind: .syntax, file: sourceName, mark: nil, message: "cannot initialize the YAML parser")
        }
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) != 0 else { throw parseError() }
        defer { yaml_event_delete(&event) }

        let mark = sourceMark(event.start_mark)
        switch event.type {
        case YAML_STREAM_START_EVENT:
            return (.streamStart, mark)
        case YAML_STREAM_END_EVENT:
            return (.streamEnd, mark)
        case YAML_DOCUMENT_START_EVENT:
            return (.documentStart, mark)
        case YAML_DOCUMENT_END_EVENT:
            return (.documentEnd, mark)
        case YAML_ALIAS_EVENT:
            return (.alias(anchor: string(event.data.alias.anchor) ?? ""), mark)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let style: YAMLScalar.Style =
                switch scalar.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: .literal
                case YAML_FOLDED_SCALAR_STYLE: .folded
                default: .plain
                }
            return (.scalar(text: text, anchor: string(scalar.anchor), tag: string(scalar.tag), style: style), mark)
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return (.sequenceStart(anchor: string(start.anchor), tag: string(start.tag)), mark)
        case YAML_SEQUENCE_END_EVENT:
            return (.sequenceEnd, mark)
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return (.mappingStart(anchor: string(start.anchor), tag: string(start.tag)), mark)
        case YAML_MAPPING_END_EVENT:
            return (.mappingEnd, mark)
        default:
            throw ConfigError(.syntax, at: mark, "unexpected YAML event \(event.type.rawValue)")
        }
    }

    func sourceMark(_ mark: yaml_mark_t) -> SourceMark {
        SourceMark(file: sourceName, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// libyaml's own words for the problem, at its position, with the construct it was reading.
    private func parseError() -> ConfigError {
        let state = parser.pointee
        var message = state.problem.map { String(cString: $0) } ?? "invalid YAML"
        let mark: SourceMark
        if state.error == YAML_READER_ERROR {
            // Reader errors (bad encoding) carry a byte offset rather than a mark.
            mark = markOfByte(at: state.problem_offset)
            if state.problem_value != -1 {
                message += " (byte 0x\(String(state.problem_value, radix: 16, uppercase: true)))"
            }
        } else {
            mark = sourceMark(state.problem_mark)
            if let context = state.context.map({ String(cString: $0) }) {
                let contextMark = sourceMark(state.context_mark)
                message += " (\(context) at line \(contextMark.line), column \(contextMark.column))"
            }
        }
        return ConfigError(.syntax, at: mark, message)
    }

    private func markOfByte(at offset: Int) -> SourceMark {
        let prefix = bytes.prefix(offset)
        let line = prefix.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        let lineStart = prefix.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        let column =
            String(decoding: bytes[lineStart..<min(offset, bytes.count)], as: UTF8.self).unicodeScalars.count + 1
        return SourceMark(file: sourceName, line: line, column: column)
    }
}

/// Turns the event stream into a tree, expanding aliases and enforcing the limits.
private struct TreeBuilder {
    let events: YAMLEventStream
    /// Each anchored node with its expanded size, so an alias costs what it expands to.
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    var expandedNodes = 0

    init(events: YAMLEventStream) {
        self.events = events
    }

    mutating func document() throws(ConfigError) -> YAMLNode {
        _ = try events.next()  // stream start
        let (first, firstMark) = try events.next()
        guard case .documentStart = first else {
            throw ConfigError(
                .syntax, at: SourceMark(file: firstMark.file, line: 1, column: 1),
                "the configuration file is empty; it needs at least `version: 1`")
        }
        let (rootEvent, rootMark) = try events.next()
        let (root, _) = try node(rootEvent, at: rootMark, path: [], depth: 0)
        _ = try events.next()  // document end
        let (after, afterMark) = try events.next()
        if case .documentStart = after {
            throw ConfigError(
                .syntax, at: afterMark,
                "a second YAML document starts here; a configuration file holds exactly one document")
        }
        return root
    }

    /// Builds the node that starts with `event`, returning it with its expanded size.
    private mutating func node(
        _ event: YAMLEvent, at mark: SourceMark, path: [JSONPathComponent], depth: Int
    ) throws(ConfigError) -> (YAMLNode, Int) {
        guard depth < YAMLParser.maximumDepth else {
            throw ConfigError(
                .invalidValue, at: mark, path: path, "nested deeper than \(YAMLParser.maximumDepth) levels")
        }
        let built: YAMLNode
        var size = 1
        let anchor: String?
        switch event {
        case .alias(let name):
            guard let anchored = anchors[name] else {
                throw ConfigError(.syntax, at: mark, path: path, "alias *\(name) refers to no anchor defined before it")
            }
            try count(anchored.size, at: mark, path: path)
            var copy = anchored.node
            copy.mark = mark
            return (copy, anchored.size)

        case .scalar(let text, let scalarAnchor, let tag, let style):
            anchor = scalarAnchor
            try count(1, at: mark, path: path)
            let value: YAMLScalar.Value
            do {
                value = try YAMLScalar.resolve(text: text, style: style, tag: tag)
            } catch {
                throw ConfigError(error.kind, at: mark, path: path, error.message)
            }
            built = YAMLNode(.scalar(YAMLScalar(text: text, style: style, value: value)), mark: mark, tag: tag)

        case .sequenceStart(let sequenceAnchor, let tag):
            anchor = sequenceAnchor
            try checkCollectionTag(tag, allowed: YAMLScalar.seqTag, at: mark, path: path)
            try count(1, at: mark, path: path)
            var items: [YAMLNode] = []
            while true {
                let (itemEvent, itemMark) = try events.next()
                if case .sequenceEnd = itemEvent { break }
                let (item, itemSize) = try node(
                    itemEvent, at: itemMark, path: path + [.index(items.count)], depth: depth + 1)
                items.append(item)
                size += itemSize
            }
            built = YAMLNode(.sequence(items), mark: mark, tag: tag)

        case .mappingStart(let mappingAnchor, let tag):
            anchor = mappingAnchor
            try checkCollectionTag(tag, allowed: YAMLScalar.mapTag, at: mark, path: path)
            try count(1, at: mark, path: path)
            var entries: [YAMLMappingEntry] = []
            var keyMarks: [String: SourceMark] = [:]
            while true {
                let (keyEvent, keyMark) = try events.next()
                if case .mappingEnd = keyEvent { break }
                guard case .scalar(let key, _, _, _) = keyEvent else {
                    throw ConfigError(.type, at: keyMark, path: path, "mapping keys must be scalars")
                }
                let keyPath = path + [.key(key)]
                if let first = keyMarks[key] {
                    throw ConfigError(
                        .duplicate, at: keyMark, path: keyPath,
                        "duplicate key \(quotedForMessage(key)) (first defined at line \(first.line), column \(first.column))",
                        firstMark: first)
                }
                keyMarks[key] = keyMark
                let (valueEvent, valueMark) = try events.next()
                let (value, valueSize) = try node(valueEvent, at: valueMark, path: keyPath, depth: depth + 1)
                entries.append(YAMLMappingEntry(key: key, keyMark: keyMark, value: value))
                size += valueSize
            }
            built = YAMLNode(.mapping(entries), mark: mark, tag: tag)

        default:
            throw ConfigError(.syntax, at: mark, path: path, "unexpected YAML structure")
        }
        if let anchor {
            anchors[anchor] = (built, size)
        }
        return (built, size)
    }

    /// Counts nodes as if every alias were written out, and stops a document that expands past the
    /// limit before it uses the memory.
    private mutating func count(_ nodes: Int, at mark: SourceMark, path: [JSONPathComponent]) throws(ConfigError) {
        expandedNodes += nodes
        if expandedNodes > YAMLParser.maximumNodeCount {
            throw ConfigError(
                .invalidValue, at: mark, path: path,
                "the document expands to more than \(YAMLParser.maximumNodeCount) nodes (too many aliases?)")
        }
    }

    private func checkCollectionTag(_ tag: String?, allowed: String, at mark: SourceMark, path: [JSONPathComponent])
        throws(ConfigError)
    {
        guard let tag, tag != allowed, tag != YAMLScalar.nonSpecificTag else { return }
        throw ConfigError(.invalidValue, at: mark, path: path, "unsupported tag \(tag) on a collection")
    }
}
