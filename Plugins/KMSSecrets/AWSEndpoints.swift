/// Region and endpoint resolution as the AWS SDKs do it: configuration first, then the standard
/// environment variables (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`), then the public
/// regional endpoint. Each endpoint says where it came from (EndpointPolicy names it when it
/// refuses one).
enum AWSEndpoints {
    static func region(config: KMSSecretsConfig, environment: Environment) -> String? {
        if let region = config.region { return region }
        if let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] { return region }
        return AWSSharedCredentialsFile(environment: environment, profile: config.profile).configuredRegion()
    }

    static func kms(config: KMSSecretsConfig, environment: Environment, region: String) -> ServiceEndpoint {
        resolve(config.endpoint, "endpoint", ["AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL"], environment)
            ?? ServiceEndpoint(url: "https://kms.\(region).amazonaws.com", origin: "the AWS KMS default endpoint")
    }

    static func secretsManager(config: KMSSecretsConfig, environment: Environment, region: String) -> ServiceEndpoint {
        resolve(config.secretsEndpoint, "secrets_endpoint", ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"], environment)
            ?? ServiceEndpoint(url: "https://secretsmanager.\(region).amazonaws.com", origin: "the Secrets Manager default endpoint")
    }

    static func sts(config: KMSSecretsConfig, environment: Environment, region: String?) -> ServiceEndpoint {
        if let endpoint = resolve(config.stsEndpoint, "sts_endpoint", ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"], environment) {
            return endpoint
        }
        // The SDKs default to the regional STS endpoint; the global one only without a region.
        return ServiceEndpoint(url: region.map { "https://sts.\($0).amazonaws.com" } ?? "https://sts.amazonaws.com", origin: "the STS default endpoint")
    }

    /// The configured field, else the first set variable.
    private static func resolve(_ configured: String?, _ field: String, _ variables: [String], _ environment: Environment) -> ServiceEndpoint? {
        if let configured { return ServiceEndpoint(url: configured, origin: field) }
        for variable in variables {
            if let value = environment[variable] { return ServiceEndpoint(url: value, origin: variable) }
        }
        return nil
    }
}
