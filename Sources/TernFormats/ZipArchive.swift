// The entries of a ZIP archive (what torch.save writes), read from its central directory. Only
// entries stored without compression can be used in place; torch stores all of them that way.
import Foundation

public struct ZipArchive {
    public struct Entry {
        public let name: String
        /// Where the entry's bytes start in the file, and how many there are.
        public let offset: Int
        public let size: Int
        public let stored: Bool
    }

    public let file: MappedFile
    public let entries: [String: Entry]

    public init(file: MappedFile) throws {
        self.file = file
        let bytes = UnsafeRawBufferPointer(start: file.base, count: file.size)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
        guard file.size >= 22, let end = stride(from: file.size - 22, through: max(0, file.size - 65_557), by: -1)
            .first(where: { u32($0) == 0x0605_4b50 }) else {
            throw FormatError("\(file.path) is not a zip archive (no end of central directory)")
        }
        var count = u16(end + 10), directory = u32(end + 16)
        // ZIP64: torch writes it for archives over 4 GiB.
        if (count == 0xFFFF || directory == 0xFFFF_FFFF), end >= 20, u32(end - 20) == 0x0706_4b50 {
            let record = u64(end - 12)
            guard record + 56 <= file.size, u32(record) == 0x0606_4b50 else { throw FormatError("\(file.path): bad zip64 directory record") }
            count = u64(record + 32)
            directory = u64(record + 48)
        }
        var entries: [String: Entry] = [:]
        var at = directory
        for _ in 0..<count {
            guard at + 46 <= file.size, u32(at) == 0x0201_4b50 else { throw FormatError("\(file.path): corrupt zip central directory") }
            let method = u16(at + 10), nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32)
            var size = u32(at + 24), local = u32(at + 42)
            guard at + 46 + nameLength + extraLength <= file.size else { throw FormatError("\(file.path): corrupt zip central directory") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(at + 46)..<(at + 46 + nameLength)]), as: UTF8.self)
            // Sizes and offsets too big for 32 bits move to the ZIP64 extra field, in this order.
            var extra = at + 46 + nameLength
            while extra + 4 <= at + 46 + nameLength + extraLength {
                let id = u16(extra), length = u16(extra + 2)
                if id == 1 {
                    var field = extra + 4
                    if u32(at + 24) == 0xFFFF_FFFF { size = u64(field); field += 8 }
                    if u32(at + 20) == 0xFFFF_FFFF { field += 8 }
                    if u32(at + 42) == 0xFFFF_FFFF { local = u64(field) }
                }
                extra += 4 + length
            }
            guard local + 30 <= file.size, u32(local) == 0x0403_4b50 else { throw FormatError("\(file.path): corrupt zip entry '\(name)'") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start + size <= file.size else { throw FormatError("\(file.path): zip entry '\(name)' runs past the end of the file") }
            entries[name] = Entry(name: name, offset: start, size: size, stored: method == 0)
            at += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    /// The bytes of an uncompressed entry, in place.
    public func storedBytes(_ entry: Entry) throws -> UnsafeRawBufferPointer {
        guard entry.stored else { throw FormatError("\(file.path): zip entry '\(entry.name)' is compressed; torch.save stores tensors uncompressed") }
        return UnsafeRawBufferPointer(start: file.base + entry.offset, count: entry.size)
    }
}
