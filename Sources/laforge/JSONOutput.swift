import LaForgeHost

/// `--json` output: one RFC 8785 canonical JSON document on standard output, so scripts and
/// tests can compare it byte for byte.
func printJSON(_ value: JSONValue) {
    print(JSONCanonicalizer.canonicalString(value))
}
