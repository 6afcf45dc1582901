// `tern healthcheck`: asks a running server's /health on this machine and exits 0 when it answers
// 200, 1 otherwise. For container HEALTHCHECKs, which must not need curl in the image: it speaks
// plain HTTP/1.0 over a socket, nothing else.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "healthcheck",
                                                    abstract: "Exit 0 when the server on this machine answers /health with 200 (for container health checks).")

    @Option(help: "Port (env PORT; default 8000).") var port: Int?
    @Option(help: "Path to ask (default /health; /livez only checks the process).") var path = "/health"
    @Option(help: "Seconds to wait for the answer.") var timeout = 5

    func run() throws {
        let port = self.port ?? ProcessInfo.processInfo.environment["PORT"].flatMap(Int.init) ?? 8000
        let status = Self.status(port: port, path: path, timeout: timeout)
        guard status == 200 else {
            FileHandle.standardError.write(Data("unhealthy: \(status.map { "HTTP \($0)" } ?? "no answer") from 127.0.0.1:\(port)\(path)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The HTTP status 127.0.0.1:`port` answers a GET of `path` with, or nil when it does not answer.
    static func status(port: Int, path: String, timeout: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 12 else { return nil }
        // "HTTP/1.1 200 OK": the status is the second word of the first line.
        let line = String(decoding: buffer[0..<count], as: UTF8.self)
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
}
