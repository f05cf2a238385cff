/// A provider service URL and where it came from (a configuration field, an environment variable
/// or the provider's default), so a refusal names the place to fix.
struct ServiceEndpoint {
    var url: String
    var origin: String
}
