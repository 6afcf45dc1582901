// The compute resources a model runs on: the thread pool and scratch memory its kernels share.
import CTernKernels
import Foundation

public final class Compute: @unchecked Sendable {
    let pool: OpaquePointer
    public let threads: Int
    private var scratch = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    private var scratchBytes = 64

    /// `threads` defaults to the machine's physical cores.
    public init(threads: Int? = nil) {
        self.threads = max(1, threads ?? Compute.physicalCores)
        pool = tern_pool_create(Int32(self.threads))
    }

    deinit {
        tern_pool_destroy(pool)
        scratch.deallocate()
    }

    /// Scratch of at least `bytes`, reused by every call (forward passes run one at a time).
    func scratch(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > scratchBytes {
            scratch.deallocate()
            scratchBytes = bytes
            scratch = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        }
        return scratch
    }

    /// The machine's memory read bandwidth in GB/s, measured with this pool's threads.
    public func measureReadBandwidth(bytes: Int = 1 << 30, repeats: Int = 5) -> Double {
        tern_measure_read_bandwidth(pool, bytes, Int32(repeats))
    }

    /// The machine's multiply-add peak (per second) with this pool's threads: int8 dot products
    /// (VNNI) or f32 FMA; 0 where the CPU has neither vector path.
    public func measureMACPeak(int8: Bool, repeats: Int = 5) -> Double {
        tern_measure_mac_peak(pool, int8 ? 1 : 0, Int32(repeats))
    }

    /// Physical cores: distinct (package, core) pairs in /proc/cpuinfo, else the logical count.
    public static let physicalCores: Int = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return ProcessInfo.processInfo.activeProcessorCount
        }
        var cores = Set<String>(), physical = "0"
        for line in info.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "physical id" { physical = parts[1] }
            if parts[0] == "core id" { cores.insert(physical + "/" + parts[1]) }
        }
        return cores.isEmpty ? ProcessInfo.processInfo.activeProcessorCount : cores.count
    }()
}
