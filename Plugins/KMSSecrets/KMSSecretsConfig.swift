/// The instance's configuration: `provider` plus that provider's fields. The host validates it
/// against `schema` and fills in the defaults; the provider-specific checks (which fields each
/// provider needs) happen here, with messages naming the field.
struct KMSSecretsConfig {
    enum Provider: String { case aws, gcp, azure }

    var provider: Provider
    /// The default key for encrypt/decrypt/generate_data_key (key_id NULL).
    var keyID: String?
    var region: String?
    var endpoint: String?
    var secretsEndpoint: String?
    var stsEndpoint: String?
    var profile: String?
    var accessKeyID: String?
    var secretAccessKey: String?
    var sessionToken: String?
    var versionStage: String
    var imdsEndpoint: String?
    var credentialSources: [String]?
    var project: String?
    var credentialsFile: String?
    var tokenURI: String?
    var metadataEndpoint: String?
    var vaultURL: String?
    var tenantID: String?
    var clientID: String?
    var clientSecret: String?
    var authorityHost: String?
    var managedIdentityEndpoint: String?
    var apiVersion: String
    var caFile: String?
    var timeoutMilliseconds: Int
    var retry: RetryPolicy

    static let schema = """
        {"type":"object","additionalProperties":false,"required":["provider"],"properties":{\
        "provider":{"enum":["aws","gcp","azure"],"description":"Which KMS this instance talks to."},\
        "key_id":{"type":"string","minLength":1,"description":"Default key: AWS key id/ARN/alias, GCP projects/…/cryptoKeys/NAME, Azure key name or key URL."},\
        "region":{"type":"string","minLength":1,"description":"AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region)."},\
        "endpoint":{"type":"string","minLength":1,"description":"KMS endpoint override (AWS: else AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL; GCP: https://cloudkms.googleapis.com)."},\
        "secrets_endpoint":{"type":"string","minLength":1,"description":"Secrets Manager / Secret Manager endpoint override."},\
        "sts_endpoint":{"type":"string","minLength":1,"description":"AWS STS endpoint override (web identity)."},\
        "profile":{"type":"string","minLength":1,"description":"AWS shared-file profile (else AWS_PROFILE, then default)."},\
        "access_key_id":{"type":"string","minLength":1},\
        "secret_access_key":{"type":"string","minLength":1,"x-laforge-secret":true},\
        "session_token":{"type":"string","minLength":1,"x-laforge-secret":true},\
        "version_stage":{"type":"string","minLength":1,"default":"AWSCURRENT"},\
        "imds_endpoint":{"type":"string","minLength":1,"description":"EC2 instance metadata (else AWS_EC2_METADATA_SERVICE_ENDPOINT, http://169.254.169.254)."},\
        "credential_sources":{"type":"array","items":{"enum":["config","environment","web_identity","shared_file","container","imds"]},\
        "description":"AWS credential chain order (default: all, in the AWS SDKs' order)."},\
        "project":{"type":"string","minLength":1,"description":"GCP project for short secret names."},\
        "credentials_file":{"type":"string","minLength":1,"description":"GCP service-account key file (else GOOGLE_APPLICATION_CREDENTIALS, else the metadata server)."},\
        "token_uri":{"type":"string","minLength":1,"description":"GCP token endpoint override (else the key file's token_uri)."},\
        "metadata_endpoint":{"type":"string","minLength":1,"description":"GCP metadata server (else GCE_METADATA_HOST, http://169.254.169.254) or Azure IMDS."},\
        "vault_url":{"type":"string","minLength":1,"description":"Azure Key Vault URL, https://NAME.vault.azure.net"},\
        "tenant_id":{"type":"string","minLength":1},\
        "client_id":{"type":"string","minLength":1},\
        "client_secret":{"type":"string","minLength":1,"x-laforge-secret":true},\
        "authority_host":{"type":"string","minLength":1,"description":"Azure token authority (default https://login.microsoftonline.com)."},\
        "managed_identity_endpoint":{"type":"string","minLength":1,"description":"Azure managed identity endpoint (else IDENTITY_ENDPOINT, IMDS)."},\
        "api_version":{"type":"string","minLength":1,"default":"7.4","description":"Azure Key Vault api-version (pinned)."},\
        "ca_file":{"type":"string","minLength":1,"description":"PEM CA bundle instead of the system store."},\
        "timeout_ms":{"type":"integer","minimum":100,"maximum":600000,"default":10000},\
        "max_attempts":{"type":"integer","minimum":1,"maximum":20,"default":5},\
        "retry_base_ms":{"type":"integer","minimum":1,"maximum":60000,"default":100},\
        "retry_cap_ms":{"type":"integer","minimum":1,"maximum":600000,"default":5000},\
        "retry_deadline_ms":{"type":"integer","minimum":0,"maximum":600000,"default":15000,"description":"No retry wait ends later than this after the call began; then the call answers RETRY."}}}
        """

    init(json: [UInt8]) throws(KMSError) {
        let value = try ConfigJSON.value(json, invalid: KMSError.config)
        func text(_ name: String) -> String? { value.string(name) }
        func integer(_ name: String, _ fallback: Int) -> Int { value.member(name)?.integerValue.map { Int($0) } ?? fallback }
        guard let providerName = text("provider"), let provider = Provider(rawValue: providerName) else {
            throw KMSError.config("provider: expected aws, gcp or azure")
        }
        self.provider = provider
        keyID = text("key_id")
        region = text("region")
        endpoint = text("endpoint")
        secretsEndpoint = text("secrets_endpoint")
        stsEndpoint = text("sts_endpoint")
        profile = text("profile")
        accessKeyID = text("access_key_id")
        secretAccessKey = text("secret_access_key")
        sessionToken = text("session_token")
        versionStage = text("version_stage") ?? "AWSCURRENT"
        imdsEndpoint = text("imds_endpoint")
        if case .array(let items) = value.member("credential_sources") {
            credentialSources = items.compactMap(\.stringValue)
        }
        project = text("project")
        credentialsFile = text("credentials_file")
        tokenURI = text("token_uri")
        metadataEndpoint = text("metadata_endpoint")
        vaultURL = text("vault_url")
        tenantID = text("tenant_id")
        clientID = text("client_id")
        clientSecret = text("client_secret")
        authorityHost = text("authority_host")
        managedIdentityEndpoint = text("managed_identity_endpoint")
        apiVersion = text("api_version") ?? "7.4"
        caFile = text("ca_file")
        timeoutMilliseconds = integer("timeout_ms", 10_000)
        retry = RetryPolicy(
            maxAttempts: integer("max_attempts", 5), baseMilliseconds: integer("retry_base_ms", 100),
            capMilliseconds: integer("retry_cap_ms", 5000), deadlineMilliseconds: integer("retry_deadline_ms", 15_000))

        let foreign: [(String, Bool)] =
            switch provider {
            case .aws:
                [("project", project != nil), ("credentials_file", credentialsFile != nil), ("vault_url", vaultURL != nil),
                 ("tenant_id", tenantID != nil), ("client_secret", clientSecret != nil)]
            case .gcp:
                [("region", region != nil), ("access_key_id", accessKeyID != nil), ("vault_url", vaultURL != nil),
                 ("client_secret", clientSecret != nil)]
            case .azure:
                [("region", region != nil), ("access_key_id", accessKeyID != nil), ("project", project != nil),
                 ("credentials_file", credentialsFile != nil)]
            }
        if let field = foreign.first(where: \.1) {
            throw KMSError.config("\(field.0) does not apply to provider \(provider.rawValue)")
        }
        if (accessKeyID == nil) != (secretAccessKey == nil) {
            throw KMSError.config("give access_key_id and secret_access_key together")
        }
        if sessionToken != nil && accessKeyID == nil {
            throw KMSError.config("session_token needs access_key_id and secret_access_key")
        }
        if provider == .azure && vaultURL == nil { throw KMSError.config("vault_url is required for provider azure") }
        if clientSecret != nil && (tenantID == nil || clientID == nil) {
            throw KMSError.config("client_secret needs tenant_id and client_id")
        }
    }
}
