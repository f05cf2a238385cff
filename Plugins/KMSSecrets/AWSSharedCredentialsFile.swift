/// `~/.aws/credentials` and `~/.aws/config` (or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE),
/// profile from the configuration, AWS_PROFILE, else `default`. The credentials file's
/// `[NAME]` section wins over the config file's `[profile NAME]` (`[default]` in both).
struct AWSSharedCredentialsFile: AWSCredentialSource {
    let environment: Environment
    let profile: String?

    var profileName: String { profile ?? environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default" }
    var name: String { "shared file (profile \(profileName))" }

    private var credentialsPath: String {
        FileAccess.expandHome(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", environment)
    }

    private var configPath: String { FileAccess.expandHome(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", environment) }

    func load() throws(KMSError) -> AWSCredentials? {
        let fromCredentials = try section(in: credentialsPath, named: profileName)
        let fromConfig = try section(in: configPath, named: profileName == "default" ? "default" : "profile \(profileName)")
        let explicitProfile = profile != nil || environment["AWS_PROFILE"] != nil
        for (values, path) in [(fromCredentials, credentialsPath), (fromConfig, configPath)] {
            guard let values else { continue }
            guard let key = values["aws_access_key_id"] else {
                if values["role_arn"] != nil || values["sso_session"] != nil || values["credential_process"] != nil {
                    throw KMSError(
                        .invalidConfig,
                        "\(path): profile \(profileName) uses role_arn/sso/credential_process, which KMSSecrets does not run; "
                            + "give it aws_access_key_id and aws_secret_access_key, or use web identity / container / instance credentials")
                }
                continue
            }
            guard let secret = values["aws_secret_access_key"] else {
                throw KMSError(.invalidConfig, "\(path): profile \(profileName) has aws_access_key_id but no aws_secret_access_key")
            }
            return AWSCredentials(
                accessKeyID: key, secretAccessKey: secret, sessionToken: values["aws_session_token"], expiration: nil,
                source: "shared file \(path) (profile \(profileName))")
        }
        if explicitProfile && fromCredentials == nil && fromConfig == nil {
            throw KMSError(.invalidConfig, "AWS profile \(profileName) is not in \(credentialsPath) or \(configPath)")
        }
        return nil
    }

    /// The profile's `region` from the config file.
    func configuredRegion() -> String? {
        let sectionName = profileName == "default" ? "default" : "profile \(profileName)"
        return (try? section(in: configPath, named: sectionName))??["region"]
    }

    /// The `key = value` pairs of section `[named]`, nil when the file or section is absent.
    private func section(in path: String, named wanted: String) throws(KMSError) -> [String: String]? {
        guard FileAccess.exists(path) else { return nil }
        let text = String(decoding: try FileAccess.read(path), as: UTF8.self)
        var current: String?
        var values: [String: String]?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = String(rawLine).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingSpaces()
                if current == wanted && values == nil { values = [:] }
                continue
            }
            guard current == wanted, let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals]).trimmingSpaces().lowercased()
            let value = String(line[line.index(after: equals)...]).trimmingSpaces()
            values?[key] = value
        }
        return values
    }
}
