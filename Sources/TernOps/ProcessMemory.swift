// This process's resident memory as the kernel counts it (/proc/self/status): now and at its peak.
import Foundation

public enum ProcessMemory {
    /// Resident set size in bytes (VmRSS), 0 where /proc is missing.
    public static var residentBytes: Int { field("VmRSS") }
    /// The largest resident set size so far (VmHWM).
    public static var peakResidentBytes: Int { field("VmHWM") }

    /// Starts the peak over from the current resident size (Linux's clear_refs "5"), so a later
    /// peak leaves out a buffer freed in between.
    public static func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    private static func field(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kilobytes * 1024
    }
}
