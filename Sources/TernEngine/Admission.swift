// How many requests the engine holds (running or queued) against what it takes, and how fast
// they leave, so a refusal can say when trying again is worthwhile.
import Foundation

struct Admission {
    /// Running slots plus queue places.
    let capacity: Int
    private(set) var inFlight = 0
    /// Times (ns) the most recent requests finished, oldest first.
    private var finishTimes: [UInt64] = []
    private static let remembered = 32

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes `count` requests if all of them fit now.
    mutating func take(_ count: Int) -> Bool {
        guard inFlight + count <= capacity else { return false }
        inFlight += count
        return true
    }

    mutating func release(_ count: Int, at now: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        guard count > 0 else { return }
        inFlight -= count
        finishTimes.append(contentsOf: repeatElement(now, count: count))
        if finishTimes.count > Self.remembered { finishTimes.removeFirst(finishTimes.count - Self.remembered) }
    }

    /// Seconds until `count` more requests should fit, from the rate recent requests finished at:
    /// at least 1, at most 60, and 1 while too few have finished to tell.
    func secondsUntilRoom(for count: Int, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Int {
        let missing = inFlight + count - capacity
        guard missing > 0, finishTimes.count >= 2, let first = finishTimes.first else { return 1 }
        let span = Double(now - first) / 1e9
        guard span > 0 else { return 1 }
        let perSecond = Double(finishTimes.count) / span
        return min(60, max(1, Int((Double(missing) / perSecond).rounded(.up))))
    }
}
