import Crypto
import Foundation
import JWTKit
import Synchronization

/// Claims of an access token: who, which role, and until when.
struct AccessTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var role: String
    /// Email verified when issued; absent in tokens issued before verification existed.
    var ev: Bool?

    func verify(using algorithm: some JWTAlgorithm) throws {
        try exp.verifyNotExpired()
    }
}

/// Issues and verifies access tokens: JWTs signed with HS256 and nothing else.
///
/// Verified tokens are remembered until they expire (a bounded map), so a client's repeated
/// requests pay for the HMAC check and the JSON parsing once.
public final class AccessTokens: Sendable {
    /// The only algorithm accepted; a token naming any other (`none` included) is refused.
    static let algorithm = "HS256"
    static let rememberedTokens = 10_000
    public let lifetime: Duration
    private let keys: JWTKeyCollection
    private let verified = Mutex<[String: (identity: Identity, expiresAt: Date)]>([:])

    private init(keys: JWTKeyCollection, lifetime: Duration) {
        self.keys = keys
        self.lifetime = lifetime
    }

    public static func make(secret: some DataProtocol, lifetime: Duration) async -> AccessTokens {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return AccessTokens(keys: keys, lifetime: lifetime)
    }

    public func issue(userID: Int64, role: Role, emailVerified: Bool, now: Date = Date()) async throws -> String {
        let claims = AccessTokenClaims(
            sub: .init(value: String(userID)),
            exp: .init(value: now.addingTimeInterval(TimeInterval(lifetime.components.seconds))),
            iat: .init(value: now),
            role: role.rawValue,
            ev: emailVerified)
        return try await keys.sign(claims)
    }

    /// The identity a valid token proves, or nil for a malformed, forged, expired or foreign-algorithm token.
    public func verify(_ token: String, now: Date = Date()) async -> Identity? {
        if let known = verified.withLock({ $0[token] }) {
            if known.expiresAt > now { return known.identity }
            _ = verified.withLock { $0.removeValue(forKey: token) }
            return nil
        }
        guard Self.headerAlgorithm(of: token) == Self.algorithm,
              let claims = try? await keys.verify(token, as: AccessTokenClaims.self),
              let id = Int64(claims.sub.value), let role = Role(rawValue: claims.role) else { return nil }
        let identity = Identity(userID: id, role: role, emailVerified: claims.ev ?? false)
        verified.withLock { table in
            if table.count >= Self.rememberedTokens { table.removeAll(keepingCapacity: true) }
            table[token] = (identity, claims.exp.value)
        }
        return identity
    }

    private struct Header: Decodable { var alg: String }

    private static func headerAlgorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return (try? JSONDecoder().decode(Header.self, from: data))?.alg
    }
}

/// Opaque refresh tokens: 256 random bits, stored only as a SHA-256 hash.
enum RefreshTokenSecret {
    static func generate() -> String {
        let bytes = SecureBytes.random(32)
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> String {
        SecureBytes.hex(SHA256.hash(data: Data(token.utf8)))
    }
}
