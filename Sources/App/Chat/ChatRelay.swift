import Realtime
import SQLKit

/// What one instance tells the others, so that every instance's hub shows the same rooms (a
/// message stored, a member removed, an account or a room gone, notifications to push, who is
/// online where) and no instance serves a post from its cache after another changed it. With one instance (SQLite) there is nobody to tell (`SingleInstance`);
/// on PostgreSQL the events travel by NOTIFY (`PostgresChatRelay`).
protocol ChatRelay: Sendable {
    /// This instance among those sharing the database.
    var instance: String { get }

    /// Tells the others about `event` when the caller's transaction commits, and never if it rolls back.
    func announce(_ event: ChatEvent, on db: any SQLDatabase) async throws

    /// Tells the others about `event` now; best effort (a failure is logged).
    func broadcast(_ event: ChatEvent) async
}

/// The relay of a single instance: the local hub is the whole audience.
struct SingleInstance: ChatRelay {
    var instance: String { "single" }
    func announce(_ event: ChatEvent, on db: any SQLDatabase) async throws {}
    func broadcast(_ event: ChatEvent) async {}
}

/// An event between instances, small enough for a notification payload (PostgreSQL allows under
/// 8,000 bytes): a message is only a pointer, the receivers read its body from the database.
enum ChatEvent: Sendable, Equatable {
    /// Messages up to `seq` are stored in `room` (by `instance`, which has published them itself).
    case message(instance: String, room: Int64, seq: Int64)
    /// `user` is no longer a member of `room`.
    case memberRemoved(room: Int64, user: Int64)
    /// The account was deleted: its connections close, it leaves every room.
    case accountDeleted(user: Int64)
    /// The room no longer exists.
    case roomClosed(room: Int64)
    /// These users have a new notification: the instances they are connected to push it.
    case notifications(users: [Int64])
    /// `instance` has `user` online in `room`, or no longer.
    case presence(instance: String, room: Int64, user: ChatUser, online: Bool)
    /// `instance` wrote its whole presence again: read it from the database.
    case presenceRewritten(instance: String)
    /// `instance` stopped (or stopped answering): its users are offline unless elsewhere.
    case instanceGone(instance: String)
    /// A post changed (nil: every post, an author renamed or deleted): drop it from the cache.
    case postChanged(post: Int64?)

    /// Users per `notifications` event: even 19-digit ids stay under the payload limit.
    static let usersPerEvent = 300

    /// The payload: a letter, then fields separated by spaces; a nickname, last, may hold spaces.
    var payload: String {
        switch self {
        case .message(let instance, let room, let seq): Self.messagePayload(instance: instance, room: room) + "\(seq)"
        case .memberRemoved(let room, let user): "r \(room) \(user)"
        case .accountDeleted(let user): "a \(user)"
        case .roomClosed(let room): "c \(room)"
        case .notifications(let users): "n " + users.map(String.init).joined(separator: ",")
        case .presence(let instance, let room, let user, let online): "p \(instance) \(room) \(user.id) \(online ? 1 : 0) \(user.nickname)"
        case .presenceRewritten(let instance): "s \(instance)"
        case .instanceGone(let instance): "g \(instance)"
        case .postChanged(let post): "b \(post.map(String.init) ?? "*")"
        }
    }

    /// The payload of `.message` up to its seq, for a statement that computes the seq itself.
    static func messagePayload(instance: String, room: Int64) -> String { "m \(instance) \(room) " }

    /// The event of `payload`; nil for one this version does not know.
    init?(payload: String) {
        let fields = payload.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
        func int(_ index: Int) -> Int64? { index < fields.count ? Int64(fields[index]) : nil }
        switch (fields.first, fields.count) {
        case ("m", 4):
            guard let room = int(2), let seq = int(3) else { return nil }
            self = .message(instance: String(fields[1]), room: room, seq: seq)
        case ("r", 3):
            guard let room = int(1), let user = int(2) else { return nil }
            self = .memberRemoved(room: room, user: user)
        case ("a", 2):
            guard let user = int(1) else { return nil }
            self = .accountDeleted(user: user)
        case ("c", 2):
            guard let room = int(1) else { return nil }
            self = .roomClosed(room: room)
        case ("n", 2):
            let users = fields[1].split(separator: ",").compactMap { Int64($0) }
            guard !users.isEmpty else { return nil }
            self = .notifications(users: users)
        case ("p", 6):
            guard let room = int(2), let user = int(3), let online = int(4) else { return nil }
            self = .presence(instance: String(fields[1]), room: room, user: ChatUser(id: user, nickname: String(fields[5])),
                             online: online == 1)
        case ("s", 2): self = .presenceRewritten(instance: String(fields[1]))
        case ("g", 2): self = .instanceGone(instance: String(fields[1]))
        case ("b", 2):
            if fields[1] == "*" {
                self = .postChanged(post: nil)
            } else {
                guard let post = int(1) else { return nil }
                self = .postChanged(post: post)
            }
        default: return nil
        }
    }
}
