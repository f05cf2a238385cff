import Foundation
import Hummingbird
import LaForgeHost

/// Runs first on every request: times it for the metrics, bounds the work in progress (503 with
/// Retry-After past `serve.max_in_flight`), and identifies the caller from the socket's peer
/// credentials against `serve.clients`. Whether the caller may use the route is the route's
/// decision (`ServeAPI.require`); probes (`/healthz`, `/readyz`, `/metrics`) are open to any
/// process the socket's mode lets connect.
struct CallerMiddleware: RouterMiddleware {
    typealias Context = ServeRequestContext
    let api: ServeAPI

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = monotonicNanoseconds()
        var context = context
        let settings = api.settings.withLock { $0 }
        context.bodyLimit = settings.maxBodyBytes
        let probe = ["/healthz", "/readyz", "/metrics"].contains(request.uri.path)
        var response: Response
        if !probe, !api.work.admit() {
            api.requestMetrics.overloaded()
            response = try APIError(
                .serviceUnavailable, "the server is at serve.max_in_flight (\(settings.maxInFlight)) requests in progress; retry shortly",
                retryAfter: 1
            ).response(from: request, context: context)
        } else {
            defer { if !probe { api.work.release() } }
            do {
                let peer = try await PeerCredentials.of(context.channel)
                context.peer = peer
                context.client = settings.client(uid: peer.uid, gid: peer.gid)
                response = try await next(request, context)
            } catch let error as APIError {
                response = try error.response(from: request, context: context)
            } catch let error as HTTPError {
                response = try Self.translate(error).response(from: request, context: context)
            } catch let error as any HTTPResponseError {
                response = try APIError(error.status, error.status.reasonPhrase).response(from: request, context: context)
            } catch {
                api.host.log.logger.error("serve: \(request.method) \(request.uri.path): \(error)")
                response = try APIError(.internalServerError, "internal error; the server log has the details").response(
                    from: request, context: context)
            }
        }
        let seconds = Double(ClockArithmetic.elapsed(since: started, now: monotonicNanoseconds())) / 1e9
        api.requestMetrics.request(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code, seconds: seconds)
        return response
    }

    /// Hummingbird's own errors (a route not found, a body over the limit) in the API's shape.
    static func translate(_ error: HTTPError) -> APIError {
        switch error.status {
        case .contentTooLarge: return APIError(.contentTooLarge, "the request body is larger than serve.max_body_bytes")
        case .notFound: return APIError(.notFound, "no such route: docs/API.md lists them")
        default: return APIError(error.status, error.body ?? error.status.reasonPhrase)
        }
    }
}
