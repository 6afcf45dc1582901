// tern_http_responses_total{code}: every response the API port sends, by status, from the first
// request on (a model still loading answers 503 too), for error-rate panels and alerts.
import Foundation

public final class HTTPResponseCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Int: Int] = [:]

    public init() {}

    func count(_ status: Int) {
        lock.lock()
        counts[status, default: 0] += 1
        lock.unlock()
    }

    /// The counter in Prometheus' text format.
    var exposition: String {
        lock.lock()
        let snapshot = counts.sorted { $0.key < $1.key }
        lock.unlock()
        var text = "# HELP tern_http_responses_total HTTP responses sent, by status code.\n# TYPE tern_http_responses_total counter\n"
        for (code, count) in snapshot { text += "tern_http_responses_total{code=\"\(code)\"} \(count)\n" }
        return text
    }
}
