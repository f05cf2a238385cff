/// Region and endpoint resolution as the AWS SDKs do it: configuration first, then the standard
/// environment variables (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`), then the public
/// regional endpoint.
enum AWSEndpoints {
    static func region(config: KMSSecretsConfig, environment: Environment) -> String? {
        if let region = config.region { return region }
        if let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] { return region }
        return AWSSharedCredentialsFile(environment: environment, profile: config.profile).configuredRegion()
    }

    static func kms(config: KMSSecretsConfig, environment: Environment, region: String) -> String {
        config.endpoint ?? environment["AWS_ENDPOINT_URL_KMS"] ?? environment["AWS_ENDPOINT_URL"]
            ?? "https://kms.\(region).amazonaws.com"
    }

    static func secretsManager(config: KMSSecretsConfig, environment: Environment, region: String) -> String {
        config.secretsEndpoint ?? environment["AWS_ENDPOINT_URL_SECRETS_MANAGER"] ?? environment["AWS_ENDPOINT_URL"]
            ?? "https://secretsmanager.\(region).amazonaws.com"
    }

    static func sts(config: KMSSecretsConfig, environment: Environment, region: String?) -> String {
        if let endpoint = config.stsEndpoint ?? environment["AWS_ENDPOINT_URL_STS"] ?? environment["AWS_ENDPOINT_URL"] {
            return endpoint
        }
        // The SDKs default to the regional STS endpoint; the global one only without a region.
        return region.map { "https://sts.\($0).amazonaws.com" } ?? "https://sts.amazonaws.com"
    }
}
