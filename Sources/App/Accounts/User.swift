import Storage

/// What a user may do beyond their own data.
public enum Role: String, Codable, Sendable {
    case member
    case admin
}

/// A stored account, as the services see it (the password hash included; never sent to a client).
public struct UserRecord: Sendable, Equatable {
    public var id: Int64
    public var email: String
    public var nickname: String
    public var passwordHash: String
    public var bio: String
    public var role: Role
    public var emailVerified: Bool
    public var createdAt: Timestamp
}

/// An account about to be stored.
public struct NewUser: Sendable {
    public var email: String
    public var nickname: String
    /// `nicknameKey(nickname)`, computed here, outside the transaction that stores the user.
    public let nicknameKey: String
    public var passwordHash: String
    public var role: Role
    public var emailVerified: Bool
    public var createdAt: Timestamp

    public init(email: String, nickname: String, passwordHash: String, role: Role = .member, emailVerified: Bool = false,
                createdAt: Timestamp) {
        self.email = email
        self.nickname = nickname
        self.nicknameKey = App.nicknameKey(nickname)
        self.passwordHash = passwordHash
        self.role = role
        self.emailVerified = emailVerified
        self.createdAt = createdAt
    }
}

/// Public counts shown on a profile.
public struct ProfileCounts: Sendable, Equatable {
    public var followers: Int
    public var following: Int
    public var posts: Int
}

/// The signed-in caller, as proven by an access token.
public struct Identity: Sendable, Equatable {
    public var userID: Int64
    public var role: Role
    /// Whether the address was verified when the token was issued (it may have been since).
    public var emailVerified: Bool = false

    public var isAdmin: Bool { role == .admin }

    /// True when the caller is `ownerID` or an admin.
    public func mayModify(ownedBy ownerID: Int64) -> Bool { userID == ownerID || isAdmin }
}
