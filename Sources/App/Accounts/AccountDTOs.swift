import Hummingbird
import JSONWriting
import Storage

/// The caller's own account as sent to them (never the password hash).
struct AccountDTO: Encodable, Sendable, ResponseEncodable {
    var id: Int64
    var email: String
    var nickname: String
    var bio: String
    var role: Role
    var emailVerified: Bool
    var createdAt: Timestamp
    var followerCount: Int?
    var followingCount: Int?
    var postCount: Int?
    /// On `GET /api/users/me` only.
    var unreadNotificationCount: Int?

    init(_ user: UserRecord, counts: ProfileCounts? = nil) {
        id = user.id
        email = user.email
        nickname = user.nickname
        bio = user.bio
        role = user.role
        emailVerified = user.emailVerified
        createdAt = user.createdAt
        followerCount = counts?.followers
        followingCount = counts?.following
        postCount = counts?.posts
    }
}

/// Another user's public profile.
struct ProfileDTO: Encodable, Sendable, ResponseEncodable {
    var id: Int64
    var nickname: String
    var bio: String
    var role: Role
    var createdAt: Timestamp
    var followerCount: Int
    var followingCount: Int
    var postCount: Int

    init(_ user: UserRecord, counts: ProfileCounts) {
        id = user.id
        nickname = user.nickname
        bio = user.bio
        role = user.role
        createdAt = user.createdAt
        followerCount = counts.followers
        followingCount = counts.following
        postCount = counts.posts
    }
}

/// A user named inside another object: a post's author, an entry of a follower list.
struct UserSummaryDTO: Codable, Sendable, ResponseEncodable, Equatable {
    var id: Int64
    var nickname: String
}

extension UserSummaryDTO: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("id"); json.value(id)
            json.key("nickname"); json.value(nickname)
        }
    }
}

/// `{user}`: the body of a sign-up answer.
struct UserEnvelope: Encodable, Sendable, ResponseEncodable {
    var user: AccountDTO
}

/// A new or renewed session.
struct SessionDTO: Encodable, Sendable, ResponseEncodable {
    var accessToken: String
    var refreshToken: String
    var expiresIn: Int
    var user: AccountDTO

    init(_ session: Session) {
        accessToken = session.accessToken
        refreshToken = session.refreshToken
        expiresIn = session.expiresIn
        user = AccountDTO(session.user)
    }
}
