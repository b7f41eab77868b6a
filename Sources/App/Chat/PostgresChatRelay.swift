import Foundation
import Logging
import Realtime
import ServiceLifecycle
import SQLKit
import Storage
import Synchronization

/// Chat across instances on one PostgreSQL: each event (`ChatEvent`) is a NOTIFY on
/// `agora_chat`, sent in the transaction that causes it, so the others hear it on commit and
/// never for a rollback. Written by hand: no listed package relays a chat hub between processes.
///
/// - **Messages.** The event is a pointer (room, seq); each hub reads the bodies it has not fanned
///   out from the database, a page at a time (`ChatHub.notice`).
/// - **A lost listener** loses nothing: when its connection is back, every hub room is read again
///   after its last seq (`ChatHub.catchUp`), the presence is read again, and subscribers who are no
///   longer members of a room are removed from it.
/// - **Presence.** Each instance writes who is online on it to `chat_presence`, row by row as it
///   changes, and heartbeats its row in `chat_instances` every `instanceTimeout / 3`. Any instance
///   that finds another's heartbeat older than `instanceTimeout` (by the database's clock) deletes
///   it with its presence and announces it gone: a killed instance's users go offline everywhere
///   within `instanceTimeout` plus one heartbeat. An instance that finds itself deleted (a long
///   outage) writes its whole presence again.
final class PostgresChatRelay: ChatRelay, Service {
    static let channel = "agora_chat"

    /// This process: a fresh id per start, so a restarted instance never inherits a dead one's rows.
    let instance = UUID().uuidString.lowercased()
    let store: PostgresStore
    let hub: ChatHub
    let rooms: any RoomRepository
    /// The posts this instance caches, which others may change.
    let postCache: PostCache
    let instanceTimeout: Duration
    let logger: Logger
    /// Pushes the newest notification to the users of a `notifications` event connected here.
    private let pushHandler = Mutex<(@Sendable ([Int64]) async -> Void)?>(nil)
    /// The presence work, in order: each change of the hub, and rewrites of the whole.
    private let work = AsyncStream.makeStream(of: PresenceWork.self)

    private enum PresenceWork: Sendable {
        case change(ChatHub.PresenceChange)
        case rewrite
    }

    init(store: PostgresStore, hub: ChatHub, rooms: any RoomRepository, postCache: PostCache, instanceTimeout: Duration,
         logger: Logger) {
        self.store = store
        self.hub = hub
        self.rooms = rooms
        self.postCache = postCache
        self.instanceTimeout = instanceTimeout
        self.logger = logger
    }

    /// Sets what pushes notifications to this instance's connections.
    func onNotifications(_ push: @escaping @Sendable ([Int64]) async -> Void) {
        pushHandler.withLock { $0 = push }
    }

    func announce(_ event: ChatEvent, on db: any SQLDatabase) async throws {
        try await db.raw("SELECT pg_notify('\(unsafeRaw: Self.channel)', \(bind: event.payload))").run()
    }

    func broadcast(_ event: ChatEvent) async {
        do {
            try await store.read { db in try await self.announce(event, on: db) }
        } catch {
            logger.warning("chat event not sent", metadata: ["event": "\(event.payload)", "error": "\(error)"])
        }
    }

    // MARK: Running

    func run() async throws {
        let changes = hub.localPresenceChanges()
        await register()
        try await store.listener.subscribe(channel: Self.channel, notify: { [self] payload in received(payload) },
                                           resume: { [self] in Task { await resumed() } })
        await resumed()
        try? await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await change in changes { self.work.continuation.yield(.change(change)) }
                }
                group.addTask { await self.writePresence() }
                group.addTask { await self.heartbeat() }
            }
        }
        work.continuation.finish()
        await leave()
    }

    /// Heartbeats this instance, asks for a rewrite when its row had been deleted, and sweeps
    /// instances whose heartbeat stopped.
    private func heartbeat() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: instanceTimeout / 3)
            if Task.isCancelled { return }
            await register()
            do {
                let gone = try await store.read { [instance, instanceTimeout] db in
                    try await db.raw("""
                        WITH gone AS (
                            DELETE FROM chat_instances WHERE id <> \(bind: instance)
                            AND seen_at < now() - make_interval(secs => \(bind: Double(instanceTimeout.components.seconds))) RETURNING id
                        ), swept AS (
                            DELETE FROM chat_presence WHERE instance IN (SELECT id FROM gone)
                        )
                        SELECT id, pg_notify('\(unsafeRaw: Self.channel)', 'g ' || id) FROM gone
                        """).all(decodingColumn: "id", as: String.self)
                }
                if !gone.isEmpty { logger.info("chat instances stopped answering", metadata: ["instances": "\(gone)"]) }
            } catch {
                logger.warning("chat instance sweep failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Records this instance's heartbeat; rewrites its presence when the row was new (first
    /// start, or deleted by a sweep during an outage).
    private func register() async {
        do {
            let inserted = try await store.read { [instance] db in
                try await db.raw("""
                    INSERT INTO chat_instances (id, seen_at) VALUES (\(bind: instance), now())
                    ON CONFLICT (id) DO UPDATE SET seen_at = now() RETURNING (xmax = 0) AS inserted
                    """).first(decodingColumn: "inserted", as: Bool.self)
            }
            if inserted == true { work.continuation.yield(.rewrite) }
        } catch {
            logger.warning("chat heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the presence changes in order; after a failure, the whole presence again.
    private func writePresence() async {
        for await item in work.stream {
            do {
                switch item {
                case .change(let change):
                    let event = ChatEvent.presence(instance: instance, room: change.room, user: change.user, online: change.online)
                    try await store.read { [instance] db in
                        if change.online {
                            try await db.raw("""
                                WITH row AS (
                                    INSERT INTO chat_presence (instance, room_id, user_id, nickname)
                                    VALUES (\(bind: instance), \(bind: change.room), \(bind: change.user.id), \(bind: change.user.nickname))
                                    ON CONFLICT (instance, room_id, user_id) DO UPDATE SET nickname = EXCLUDED.nickname
                                )
                                SELECT pg_notify('\(unsafeRaw: Self.channel)', \(bind: event.payload))
                                """).run()
                        } else {
                            try await db.raw("""
                                WITH row AS (
                                    DELETE FROM chat_presence
                                    WHERE instance = \(bind: instance) AND room_id = \(bind: change.room) AND user_id = \(bind: change.user.id)
                                )
                                SELECT pg_notify('\(unsafeRaw: Self.channel)', \(bind: event.payload))
                                """).run()
                        }
                    }
                case .rewrite:
                    let present = hub.localPresence()
                    try await store.transaction { [instance] db in
                        try await db.raw("DELETE FROM chat_presence WHERE instance = \(bind: instance)").run()
                        for chunk in stride(from: 0, to: present.count, by: 1_000) {
                            let rows = present[chunk..<min(chunk + 1_000, present.count)].map { change in
                                SQLGroupExpression([SQLBind(instance), SQLBind(change.room), SQLBind(change.user.id),
                                                    SQLBind(change.user.nickname)] as [any SQLExpression])
                            }
                            try await db.raw("""
                                INSERT INTO chat_presence (instance, room_id, user_id, nickname) VALUES \(SQLList(rows))
                                ON CONFLICT (instance, room_id, user_id) DO NOTHING
                                """).run()
                        }
                        try await self.announce(.presenceRewritten(instance: instance), on: db)
                    }
                }
            } catch {
                logger.warning("chat presence not written; writing it all again shortly", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                work.continuation.yield(.rewrite)
            }
        }
    }

    /// Deletes this instance's presence on a graceful stop, so its users go offline everywhere now.
    private func leave() async {
        do {
            try await store.transaction { [instance] db in
                try await db.raw("DELETE FROM chat_presence WHERE instance = \(bind: instance)").run()
                try await db.raw("DELETE FROM chat_instances WHERE id = \(bind: instance)").run()
                try await self.announce(.instanceGone(instance: instance), on: db)
            }
        } catch {
            logger.warning("chat presence not cleared on stop; the others sweep it", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Receiving

    private func received(_ payload: String) {
        guard let event = ChatEvent(payload: payload) else {
            logger.debug("unknown chat event", metadata: ["payload": "\(payload)"])
            return
        }
        switch event {
        case .message(let instance, let room, let seq):
            // This instance publishes its own messages after their commit.
            guard instance != self.instance else { return }
            hub.notice(room: room, seq: seq)
        case .memberRemoved(let room, let user): hub.remove(user: user, from: room)
        case .accountDeleted(let user): hub.removeAccount(user)
        case .roomClosed(let room): hub.closeRoom(room)
        case .notifications(let users):
            let connected = users.filter(hub.isConnected)
            guard !connected.isEmpty, let push = pushHandler.withLock({ $0 }) else { return }
            Task { await push(connected) }
        case .presence(let instance, let room, let user, let online):
            guard instance != self.instance else { return }
            hub.remotePresence(user, online: online, in: room, instance: instance)
        case .presenceRewritten(let instance):
            guard instance != self.instance else { return }
            Task { await readPresence() }
        case .postChanged(let post): postCache.invalidate(post)
        case .instanceGone(let instance):
            guard instance != self.instance else {
                // Swept during an outage: the next heartbeat registers again and rewrites.
                return
            }
            hub.forgetInstance(instance)
        }
    }

    /// After the listener (re)connected: reads every room's messages after what was fanned out,
    /// the others' presence, and drops subscribers no longer in their room.
    private func resumed() async {
        // Invalidations may have been missed too.
        postCache.invalidate(nil)
        hub.catchUp()
        await readPresence()
        let subscribed = hub.subscribedUsers()
        for (room, users) in subscribed {
            do {
                let rooms = self.rooms
                let members = Set(try await store.read { db in try await rooms.members(of: room, on: db) }.map(\.id))
                if members.isEmpty {
                    hub.closeRoom(room)
                    continue
                }
                for user in users where !members.contains(user) { hub.remove(user: user, from: room) }
            } catch {
                logger.warning("chat memberships not checked after reconnecting", metadata: ["room": "\(room)", "error": "\(error)"])
            }
        }
    }

    /// Replaces the hub's view of the other instances' presence with what the database holds.
    private func readPresence() async {
        do {
            let rows = try await store.read { [instance] db in
                try await db.raw("""
                    SELECT p.instance, p.room_id, p.user_id, p.nickname FROM chat_presence p
                    JOIN chat_instances i ON i.id = p.instance WHERE p.instance <> \(bind: instance)
                    """).all(decoding: PresenceRow.self)
            }
            hub.replaceRemotePresence(rows.map { ($0.instance, $0.room_id, ChatUser(id: $0.user_id, nickname: $0.nickname)) })
        } catch {
            logger.warning("chat presence not read", metadata: ["error": "\(error)"])
        }
    }

    private struct PresenceRow: Decodable {
        let instance: String
        let room_id: Int64
        let user_id: Int64
        let nickname: String
    }
}
