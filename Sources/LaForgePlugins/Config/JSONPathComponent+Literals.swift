import LaForgeCore

/// Lets code and tests write a path as `["audit", "sinks", 0, "config"]`.
extension JSONPathComponent: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .key(value) }
    public init(integerLiteral value: Int) { self = .index(value) }
}
