// A read-only memory map of a whole file; tensors point into it instead of being copied.
import Foundation

public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let size: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FormatError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FormatError("cannot stat \(path)") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw FormatError("\(path) is not a regular file") }
        size = Int(info.st_size)
        guard size > 0 else { throw FormatError("\(path) is empty") }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw FormatError("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(mapped)
        #if os(Linux)
        // Weights are read front to back on every token: read ahead, and use huge pages where the kernel can.
        madvise(mapped, size, MADV_WILLNEED)
        madvise(mapped, size, MADV_HUGEPAGE)
        #endif
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), size)
    }

    /// Lets the kernel take back the pages of `count` bytes at `start` (inside the map) that this
    /// process has read, once a copy of them is all it needs: they leave its resident memory, and a
    /// later read only faults them in again from the page cache. Whole pages inside the range only.
    public func releasePages(of start: UnsafeRawPointer, count: Int) {
        #if os(Linux)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (start - base + page - 1) / page * page, end = (start - base + count) / page * page
        guard first >= 0, end <= size, end > first else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + first), end - first, MADV_DONTNEED)
        #endif
    }

    public func bytes(at offset: Int, count: Int) -> UnsafeRawBufferPointer {
        precondition(offset >= 0 && count >= 0 && offset + count <= size)
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }
}
