// Watches clients' connections so work for a client that hung up is cancelled. The request
// stream itself is never read for this: reading it would swallow the next keep-alive or
// pipelined request. A client that only half-closes (shutdown(SHUT_WR)) still gets its answer;
// a closed or reset connection cancels the work at once, and a stream also ends on a failed write.
import Foundation
import NIOCore

/// One watch per open connection, however many requests it carries; actions run when it closes.
final class ConnectionWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var actions: [ObjectIdentifier: [Int: @Sendable () -> Void]] = [:]
    private var nextToken = 0

    /// Runs `action` when `channel` closes, unless the returned registration is cancelled first.
    func onClose(_ channel: any Channel, _ action: @escaping @Sendable () -> Void) -> CloseRegistration {
        let key = ObjectIdentifier(channel)
        lock.lock()
        let firstForChannel = actions[key] == nil
        nextToken += 1
        let token = nextToken
        actions[key, default: [:]][token] = action
        lock.unlock()
        if firstForChannel {
            channel.closeFuture.whenComplete { [self] _ in
                lock.lock()
                let pending = actions.removeValue(forKey: key) ?? [:]
                lock.unlock()
                pending.values.forEach { $0() }
            }
        }
        return CloseRegistration { [self] in
            lock.lock()
            actions[key]?[token] = nil
            lock.unlock()
        }
    }
}

/// Forgets a close action once the work it would cancel is done.
struct CloseRegistration {
    let cancel: () -> Void
}

/// The connection a request came on.
struct ClientConnection: Sendable {
    let watcher: ConnectionWatcher
    let channel: any Channel

    func onClose(_ action: @escaping @Sendable () -> Void) -> CloseRegistration {
        watcher.onClose(channel, action)
    }
}

/// The client closed the connection before its answer was complete.
struct ClientGone: Error, CustomStringConvertible {
    var description: String { "the client closed the connection" }
}
