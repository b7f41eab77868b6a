import Foundation
import Queue
import Realtime
import SQLKit
import Storage

/// Notifications: written in the transaction of the event that causes them (a comment, a like,
/// a follow), or fanned out to followers by a queued job (a new post), so that an author with
/// many followers costs the request nothing. After the commit, a recipient with a live chat
/// connection gets the notification on it (`pushLatest`).
public struct NotificationService: Sendable {
    /// Followers notified per transaction by the fan-out job: small enough that the writer
    /// interleaves other transactions between batches.
    static let fanOutBatch = 500

    let database: any Database
    let notifications: any NotificationRepository
    let posts: any PostRepository
    /// The live connections notifications are pushed to.
    let hub: ChatHub
    /// The other instances, which push to the users connected to them.
    let relay: any ChatRelay

    /// Stores a notification for `userID` in the caller's transaction, unless the user is the
    /// actor; returns the user notified, for `pushLatest` after the commit.
    @discardableResult
    func notify(_ userID: Int64, _ kind: NotificationKind, by actorID: Int64, post postID: Int64? = nil,
                comment commentID: Int64? = nil, on db: any SQLDatabase) async throws -> Int64? {
        guard userID != actorID else { return nil }
        let key: String
        switch kind {
        case .post: key = "post:\(postID ?? 0)"
        case .comment: key = "comment:\(commentID ?? 0)"
        case .like: key = "like:\(actorID):\(postID ?? 0)"
        case .follow: key = "follow:\(actorID)"
        }
        try await notifications.insert(NewNotification(userID: userID, kind: kind, actorID: actorID, postID: postID,
                                                       commentID: commentID, dedupeKey: key), at: .now, on: db)
        return userID
    }

    /// Sends each user who has a live connection, here or on another instance, their newest
    /// notification and unread count (`{"type":"notification","notification":{…},"unreadCount":n}`).
    /// Call after the commit that notified them. Best effort: a failed read skips the push, and
    /// the notification stays listed as usual.
    func pushLatest(to userIDs: some Sequence<Int64>) async {
        var elsewhere: [Int64] = []
        var here: [Int64] = []
        for userID in userIDs {
            if hub.isConnected(userID) { here.append(userID) } else { elsewhere.append(userID) }
        }
        await pushConnected(here)
        for start in stride(from: 0, to: elsewhere.count, by: ChatEvent.usersPerEvent) {
            await relay.broadcast(.notifications(users: Array(elsewhere[start..<min(start + ChatEvent.usersPerEvent, elsewhere.count)])))
        }
    }

    /// `pushLatest` for the users connected to this instance.
    func pushConnected(_ userIDs: [Int64]) async {
        let notifications = self.notifications
        for userID in userIDs where hub.isConnected(userID) {
            guard let (latest, unread) = try? await database.read({ db in
                (try await notifications.list(userID: userID, unreadOnly: false, before: nil, limit: 1, on: db).first,
                 try await notifications.unreadCount(userID: userID, on: db))
            }), let latest else { continue }
            guard let data = try? JSONCoding.encoder.encode(LiveNotificationFrame(notification: NotificationDTO(latest), unreadCount: unread)) else { continue }
            hub.send(String(decoding: data, as: UTF8.self), toUser: userID)
        }
    }

    /// Notifies every follower of the post's author, in batches of their own transactions. Safe to
    /// run again after a crash: followers already notified are skipped by the dedupe key. An
    /// author without followers costs one read and no write.
    func fanOut(_ event: PostCreated) async throws {
        let notifications = self.notifications
        let posts = self.posts
        var cursor: Int64 = 0
        while true {
            let after = cursor
            let batchEnd = try await database.read { db in
                try await notifications.followerBatchEnd(of: event.authorId, afterFollowID: after, limit: Self.fanOutBatch, on: db)
            }
            guard let batchEnd else { return }
            let postExists = try await database.transaction { db -> Bool in
                // A post deleted meanwhile notifies nobody else.
                guard try await posts.authorID(of: event.postId, on: db) != nil else { return false }
                try await notifications.notifyFollowers(of: event.authorId, post: event.postId, follows: (after + 1)...batchEnd,
                                                        at: .now, on: db)
                return true
            }
            guard postExists else { return }
            if let followers = try? await database.read({ db in
                try await notifications.followerIDs(of: event.authorId, follows: (after + 1)...batchEnd, on: db)
            }) {
                await pushLatest(to: followers)
            }
            cursor = batchEnd
        }
    }

    /// The user's notifications, newest first.
    public func list(for userID: Int64, unreadOnly: Bool, page: PageRequest) async throws -> [NotificationRecord] {
        let notifications = self.notifications
        return try await database.read { db in
            try await notifications.list(userID: userID, unreadOnly: unreadOnly, before: page.after, limit: page.limit + 1, on: db)
        }
    }

    /// Marks the user's notifications read (`ids`, or all of them); returns the unread count after.
    public func markRead(for userID: Int64, ids: [Int64]?, all: Bool) async throws -> Int {
        switch (ids, all) {
        case (nil, false), (.some, true):
            throw ServiceError.validation([FieldProblem(field: "ids", problem: "give either ids or all: true")])
        case (.some(let ids), false) where ids.isEmpty || ids.count > 100:
            throw ServiceError.invalid("ids", "must hold 1 to 100 ids")
        default:
            break
        }
        let notifications = self.notifications
        return try await database.transaction { db in
            let now = Timestamp.now
            if let ids {
                _ = try await notifications.markRead(userID: userID, ids: ids, at: now, on: db)
            } else {
                _ = try await notifications.markAllRead(userID: userID, at: now, on: db)
            }
            return try await notifications.unreadCount(userID: userID, on: db)
        }
    }

    public func unreadCount(for userID: Int64) async throws -> Int {
        let notifications = self.notifications
        return try await database.read { db in try await notifications.unreadCount(userID: userID, on: db) }
    }

    /// Subscribes the follower fan-out to `post.created`, on its own queue.
    func register(in registry: JobRegistry) {
        registry.subscribe(PostCreated.self, group: "notify-followers", queue: "notifications") { event, _ in
            try await fanOut(event)
        }
    }
}

/// The chat WebSocket's `notification` frame.
private struct LiveNotificationFrame: Encodable {
    let type = "notification"
    let notification: NotificationDTO
    let unreadCount: Int
}
