import CCurl

/// libcurl's process-wide initialization, done exactly once before the first handle: Swift runs
/// a global's initializer once, thread-safely, and curl_global_init must not race another
/// libcurl call. Never cleaned up: plugins are never unloaded, and another plugin in the same
/// process may still use libcurl.
enum CurlRuntime {
    private static let initialization: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    /// Nil once libcurl is ready; otherwise why it is not.
    static func ensureInitialized() -> HTTPClientError? {
        let code = initialization
        guard code == CURLE_OK else {
            return HTTPClientError(.other, "libcurl initialization failed: \(describe(code))")
        }
        return nil
    }

    static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    /// The classification of a failed transfer's code.
    static func kind(of code: CURLcode) -> HTTPClientError.Kind {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_COULDNT_CONNECT:
            return .connectionRefused
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .dns
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return .connectionReset
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_ENGINE_NOTFOUND,
            CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT:
            return .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_NOT_BUILT_IN,
            CURLE_UNKNOWN_OPTION:
            return .invalidRequest
        default:
            return .other
        }
    }
}
