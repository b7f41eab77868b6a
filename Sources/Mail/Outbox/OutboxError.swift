#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The outbox directory or a file in it could not be written. Transient: a full disk or a
/// permission can be fixed, and the job retried.
public struct OutboxError: MailDeliveryError, Equatable, CustomStringConvertible {
    /// The file or directory concerned.
    public var path: String
    /// What failed: `create directory`, `create`, `write`, `fsync`, `rename`.
    public var operation: String
    /// The system's explanation.
    public var detail: String

    /// An error for `operation` on `path`.
    public init(path: String, operation: String, detail: String) {
        self.path = path
        self.operation = operation
        self.detail = detail
    }

    init(path: String, operation: String, errno code: Int32) {
        self.init(path: path, operation: operation, detail: String(cString: strerror(code)))
    }

    public var isPermanent: Bool { false }

    public var description: String { "outbox \(operation) failed for \(path): \(detail)" }
}
