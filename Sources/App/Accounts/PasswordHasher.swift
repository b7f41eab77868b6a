import Crypto
import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// Password hashing that keeps bcrypt out of the request.
///
/// bcrypt is slow on purpose (about 80 ms of a core at cost 10, 1 ms at cost 4): in a burst of
/// sign-ups it would be the whole cost of every request. So a new password is stored first as a
/// *pending verifier*, `hmac$<salt>$<HMAC-SHA256(pepper, salt ‖ password)>`, which takes
/// microseconds, and a queued job (`account.strengthen-password`) replaces it with
/// `hmac-bcrypt$<salt>$<bcrypt(that HMAC)>`. The plaintext is never stored. The pepper is derived
/// from the server's secret and never stored in the database, so even a pending verifier cannot be
/// attacked from a stolen database alone; once strengthened, an attacker needs the pepper *and*
/// bcrypt's work per guess. Hashes made by plain bcrypt (`$2b$…`, older accounts, the demo seed)
/// still verify.
///
/// bcrypt runs on thread pools of its own, never on the event loops or the cooperative pool:
/// logins on one at normal priority, the strengthening jobs on one thread at a lower priority, so
/// that a backlog of them after a burst of sign-ups takes only the CPU that requests leave.
public final class PasswordHasher: Sendable {
    public let cost: Int
    private let pepper: SymmetricKey
    private let threadPool: NIOThreadPool
    private let backgroundPool: NIOThreadPool
    /// Verified against when an email is unknown or a verifier is still pending, so every login
    /// costs the same time.
    private let decoyHash: String

    public init(cost: Int, pepper: SymmetricKey, threads: Int = System.coreCount) {
        self.cost = cost
        self.pepper = pepper
        self.threadPool = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threadPool.start()
        self.backgroundPool = BackgroundThreads.lowPriorityPool()
        self.decoyHash = Bcrypt.hash("agora-decoy-password", cost: UInt8(clamping: cost))
    }

    /// The pending verifier of `password`, to store now and strengthen later (fast).
    public func pendingVerifier(for password: String) -> String {
        let salt = Data(SecureBytes.random(16)).base64EncodedString()
        return "\(Self.pendingScheme)$\(salt)$\(mac(password, salt: salt))"
    }

    /// The strengthened form of a pending verifier, or nil when `stored` is not pending.
    public func strengthen(_ stored: String) async throws -> String? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.pendingScheme else { return nil }
        let mac = String(parts[2])
        let cost = UInt8(clamping: self.cost)
        let bcrypt = try await backgroundPool.runIfActive { Bcrypt.hash(mac, cost: cost) }
        return "\(Self.strengthenedScheme)$\(parts[1])$\(bcrypt)"
    }

    /// A plain bcrypt hash (`$2b$…`), for bulk tools such as the demo seed.
    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(clamping: self.cost)
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// True when `password` matches `stored` in any of its forms; with nil it spends the same
    /// time and returns false.
    public func verify(_ password: String, against stored: String?) async throws -> Bool {
        guard let stored else {
            _ = try await bcryptVerify(password, decoyHash)
            return false
        }
        let parts = stored.split(separator: "$", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, parts[0] == Self.pendingScheme {
            _ = try await bcryptVerify(password, decoyHash)
            return SecureBytes.constantTimeEqual(mac(password, salt: String(parts[1])), String(parts[2]))
        }
        if parts.count == 3, parts[0] == Self.strengthenedScheme {
            return try await bcryptVerify(mac(password, salt: String(parts[1])), String(parts[2]))
        }
        return try await bcryptVerify(password, stored)
    }

    public func shutdown() async throws {
        try await threadPool.shutdownGracefully()
        try await backgroundPool.shutdownGracefully()
    }


    static let pendingScheme = "hmac"
    static let strengthenedScheme = "hmac-bcrypt"

    private func mac(_ password: String, salt: String) -> String {
        SecureBytes.hex(HMAC<SHA256>.authenticationCode(for: Data((salt + "\u{0}" + password).utf8), using: pepper))
    }

    private func bcryptVerify(_ password: String, _ hash: String) async throws -> Bool {
        try await threadPool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

}
