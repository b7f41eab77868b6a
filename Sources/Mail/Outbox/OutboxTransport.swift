#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NIOPosix

/// Delivers mail as `.eml` files (RFC 5322, CRLF) in a directory: Agora's default transport, so
/// a fresh install needs no mail server and an operator can read what would have been sent.
///
/// Each message goes to `<directory>/<messageID>.eml` (characters other than letters, digits
/// and `.-_@+` replaced by `_`). The file appears whole or not at all: it is written under a
/// temporary name in the same directory, flushed to disk, then renamed over the final name. A
/// second delivery of the same Message-ID (a retried job) replaces the file, so it leaves one.
public struct OutboxTransport: MailTransport {
    /// Where the `.eml` files go.
    public let directory: String
    private let logger: Logger

    /// The threads the blocking file work runs on.
    private let threadPool: NIOThreadPool

    /// A transport writing into `directory`, which is created on first delivery if missing; the
    /// file work runs on `threadPool` (NIO's shared pool unless given).
    public init(directory: String, logger: Logger, threadPool: NIOThreadPool = .singleton) {
        self.directory = directory
        self.logger = logger
        self.threadPool = threadPool
    }

    /// The file a message with `messageID` is written to.
    public func fileURL(forMessageID messageID: String) -> URL {
        URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName(forMessageID: messageID))
    }

    /// Writes `message.rendered()` to its file and logs one `info` line.
    /// - Throws: `MailEncodingError` (permanent) when the message cannot be rendered,
    ///   `OutboxError` (transient) when the directory or file cannot be written.
    public func send(_ message: MailMessage) async throws {
        let data = try message.rendered()
        let directory = self.directory
        let fileName = Self.fileName(forMessageID: message.messageID)
        // File I/O blocks; NIO's thread pool keeps it off Swift's cooperative threads.
        try await threadPool.runIfActive {
            try Self.writeAtomically(data, directory: directory, fileName: fileName)
        }
        logger.info("mail sent", metadata: message.logMetadata(transport: "outbox"))
    }

    static func fileName(forMessageID messageID: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@+".unicodeScalars)
        var name = String(String.UnicodeScalarView(messageID.unicodeScalars.map { allowed.contains($0) ? $0 : "_" }))
        // A leading dot would hide the file (and `.`/`..` are not file names at all).
        if name.isEmpty || name.hasPrefix(".") {
            name = "_" + name
        }
        return String(name.prefix(200)) + ".eml"
    }

    private static func writeAtomically(_ data: [UInt8], directory: String, fileName: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw OutboxError(path: directory, operation: "create directory", detail: "\(error.localizedDescription)")
        }
        let finalPath = directory + "/" + fileName
        let temporaryPath = directory + "/.\(fileName).\(UUID().uuidString).tmp"
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw OutboxError(path: temporaryPath, operation: "create", errno: errno) }
        var written = 0
        var failure: OutboxError?
        data.withUnsafeBytes { bytes in
            while written < bytes.count {
                let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = OutboxError(path: temporaryPath, operation: "write", errno: errno)
                    return
                }
                written += result
            }
        }
        if failure == nil, fsync(descriptor) != 0 {
            failure = OutboxError(path: temporaryPath, operation: "fsync", errno: errno)
        }
        close(descriptor)
        if failure == nil, rename(temporaryPath, finalPath) != 0 {
            failure = OutboxError(path: finalPath, operation: "rename", errno: errno)
        }
        if let failure {
            unlink(temporaryPath)
            throw failure
        }
    }
}
