import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// bcrypt hashing off the event loops: a cost-10 hash takes tens of milliseconds of CPU, which
/// would stall every other request on the loop that ran it.
public final class PasswordHasher: Sendable {
    public let cost: Int
    private let threadPool: NIOThreadPool
    /// Verified against when an email is unknown, so both paths cost the same time.
    private let decoyHash: String

    public init(cost: Int, threads: Int = System.coreCount) {
        self.cost = cost
        self.threadPool = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threadPool.start()
        self.decoyHash = Bcrypt.hash("agora-decoy-password", cost: UInt8(clamping: cost))
    }

    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(clamping: self.cost)
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// True when `password` matches `hash`; with a nil hash it spends the same time and returns false.
    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        let target = hash ?? decoyHash
        let matches = try await threadPool.runIfActive { Bcrypt.verify(password, hash: target) }
        return hash != nil && matches
    }

    public func shutdown() async throws {
        try await threadPool.shutdownGracefully()
    }
}
