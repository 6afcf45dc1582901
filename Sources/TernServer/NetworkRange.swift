// IPv4 and IPv6 address ranges in CIDR notation ("10.0.0.0/8", "::1/128", "192.168.1.7"),
// and the client address a request is attributed to.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

public struct NetworkRange: Sendable, Equatable, CustomStringConvertible {
    /// Network bytes: 4 for IPv4, 16 for IPv6.
    let address: [UInt8]
    let prefixLength: Int
    public let description: String

    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = Self.bytes(of: first) else {
            throw SettingsError("'\(text)' is not an IP address or CIDR range (e.g. 10.0.0.0/8, 127.0.0.1, ::1/128)")
        }
        let bits = bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : bits
        guard let length, (0...bits).contains(length) else { throw SettingsError("'\(text)' has a prefix length outside 0...\(bits)") }
        address = bytes
        prefixLength = length
        description = trimmed
    }

    /// The address's bytes; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as IPv4.
    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    func contains(_ text: String) -> Bool {
        guard let other = Self.bytes(of: text), other.count == address.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(address, other) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }

    public static func list(_ text: String) throws -> [NetworkRange] {
        try text.split(separator: ",").map { try NetworkRange(String($0)) }
    }
}

extension Array where Element == NetworkRange {
    func contains(address: String) -> Bool {
        contains { $0.contains(address) }
    }
}

/// The client of a request: the peer's address, or, when the peer is a trusted proxy, the
/// nearest address in X-Forwarded-For that is not itself a trusted proxy.
struct ClientAddressResolver: Sendable {
    let trustedProxies: [NetworkRange]

    func address(of request: Request, channel: any Channel) -> String? {
        guard let peer = channel.remoteAddress?.ipAddress else { return nil }
        guard trustedProxies.contains(address: peer), let forwarded = request.headers[.xForwardedFor] else { return peer }
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return hops.reversed().first { !trustedProxies.contains(address: $0) } ?? hops.first ?? peer
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
