/// Removes configured secrets (the password, the DSN) from any text before it leaves the
/// plugin. libpq's and the server's messages normally name host, port, user and database only,
/// but a message quoting a malformed connection string could carry more; no message is trusted.
struct SecretScrubber {
    private let secrets: [String]

    init(secrets: [String]) {
        // Longest first, so a DSN is replaced whole before the password inside it.
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.utf8.count > $1.utf8.count }
    }

    func scrub(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: "<redacted>")
        }
        return result
    }
}
