import Dispatch
import Foundation

/// Turns SIGINT/SIGTERM into a clean stop (workers finish their call, cursors are saved, the
/// final checkpoint is signed) instead of killing the process mid-write.
final class SignalStop {
    private let sources: [DispatchSourceSignal]

    private init(sources: [DispatchSourceSignal]) { self.sources = sources }

    static func install(_ stop: @escaping @Sendable () -> Void) -> SignalStop {
        let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
        return SignalStop(sources: sources)
    }

    deinit {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
