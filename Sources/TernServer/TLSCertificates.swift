// The server's TLS identity (PEM certificate chain and RSA or EC key), optionally requiring
// client certificates signed by a CA (mTLS). It is read again when the files change or on
// SIGHUP; new connections use the new certificate, open ones (running streams) keep theirs.
import Foundation
import Logging
import NIOSSL

public struct TLSFiles: Sendable, Equatable {
    public var certificateFile: String
    public var keyFile: String
    /// Client certificates must be signed by these CAs.
    public var clientCAFile: String?

    public init(certificateFile: String, keyFile: String, clientCAFile: String?) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
    }

    var paths: [String] { [certificateFile, keyFile] + (clientCAFile.map { [$0] } ?? []) }
}

public final class TLSCertificates: @unchecked Sendable {
    let files: TLSFiles
    private let logger: Logger
    private let lock = NSLock()
    private var current: NIOSSLContext
    private var stamps: [String: Date]

    /// Reads the files now; a startup with unreadable certificates is an error.
    public init(files: TLSFiles, logger: Logger) throws {
        self.files = files
        self.logger = logger
        current = try Self.context(files)
        stamps = Self.modificationDates(files)
    }

    var context: NIOSSLContext {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// Reads the files again; a failure keeps the certificate in use and says why.
    public func reload() {
        do {
            let fresh = try Self.context(files)
            lock.lock()
            current = fresh
            stamps = Self.modificationDates(files)
            lock.unlock()
            logger.info("TLS certificate reloaded from \(files.certificateFile)")
        } catch {
            logger.error("TLS certificate not reloaded, the previous one stays in use: \(error)")
        }
    }

    /// Reloads when any of the files changed since the last read.
    func reloadIfChanged() {
        lock.lock()
        let changed = Self.modificationDates(files) != stamps
        lock.unlock()
        if changed { reload() }
    }

    /// Checks the files every `interval` until cancelled.
    public func watch(every interval: Duration = .seconds(2)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            reloadIfChanged()
        }
    }

    private static func modificationDates(_ files: TLSFiles) -> [String: Date] {
        var dates: [String: Date] = [:]
        for path in files.paths {
            dates[path] = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        }
        return dates
    }

    private static func context(_ files: TLSFiles) throws -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificateFile).map { NIOSSLCertificateSource.certificate($0) }
            guard !chain.isEmpty else { throw SettingsError("\(files.certificateFile) holds no PEM certificate") }
            let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: files.keyFile, format: .pem))
            let configuration = files.clientCAFile.map {
                TLSConfiguration.makeServerConfigurationWithMTLS(certificateChain: chain, privateKey: key, trustRoots: .file($0))
            } ?? TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
            return try NIOSSLContext(configuration: configuration)
        } catch let error as SettingsError {
            throw error
        } catch {
            throw SettingsError("cannot use the TLS files (\(files.paths.joined(separator: ", "))): \(error)")
        }
    }
}
