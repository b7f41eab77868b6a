import Logging
import NIOCore
import Synchronization

/// Fans each room's stored messages out to the connections in the room, in seq order, with
/// presence and a resume after `since`. Written by hand: no listed package does chat fan-out.
///
/// - **Order.** Per room the hub keeps `fannedOut`, the highest seq every subscriber has been
///   given. A published message with the next seq goes out at once; one from further ahead
///   (another sender's commit not yet published, or a notification that carries only a pointer)
///   waits, and if the gap is still open after `gapWait` the hub reads the missing messages from
///   `history`. A seq at or below `fannedOut` is a repeat and is dropped. Another instance's
///   message arrives as a pointer only (`notice(room:seq:)`, after its commit): the hub reads
///   every message up to it from `history` at once, a page at a time, however many pointers come.
/// - **Resume.** A join with `since` is subscribed first, with the live messages after
///   `fannedOut` buffered for it, then given `since+1 … fannedOut` from `history`, then the
///   buffer: no gap, no duplicate, whatever others send meanwhile.
/// - **Presence.** Per room, who has at least one connection in it. Several tabs count once;
///   a user whose last connection drops goes offline after `presenceGrace`, so a reload does
///   not flap; leaving on purpose is immediate. A room sends at most one presence frame per
///   interval: the first change goes out at once, later ones within the interval together at
///   its end, so a join storm of n users costs each member about one frame per interval, not n.
///   With several instances, a user is online in a room while any instance has them there: the
///   hub reports this instance's changes (`localPresenceChanges`) and merges the others'
///   (`remotePresence`, `replaceRemotePresence`, `forgetInstance`).
///   The interval is `presenceInterval`, longer in rooms so big that their frames would pass
///   `presenceFramesPerSecond`. Every subscriber gets every presence frame, the user it names
///   included.
/// - **Slow readers** overflow their own bounded queue and are closed (`ChatConnection`);
///   nobody else waits for them.
///
/// Every frame is encoded once and queued as the same bytes to each receiver. The state is under
/// one lock; queueing a frame is an append to a bounded buffer, so fan-out inside it is short.
public final class ChatHub: Sendable {
    public struct Configuration: Sendable {
        /// Frames a connection may have queued before it is closed as a slow consumer.
        public var outboundQueueLimit: Int = 1_024
        /// How long a user stays online in a room after their last connection drops.
        public var presenceGrace: Duration = .seconds(5)
        /// At most one presence frame per room per interval; changes within it go out together.
        public var presenceInterval: Duration = .milliseconds(100)
        /// Presence frames a room may queue per second over all its subscribers: a room with more
        /// subscribers than this times the interval sends presence less often, so a join storm in
        /// a big room costs a bounded share of the server.
        public var presenceFramesPerSecond: Int = 10_000
        /// How long an out-of-order message waits for the seqs before it, before they are read.
        public var gapWait: Duration = .milliseconds(50)
        /// Messages read per query when catching up.
        public var historyPage: Int = 500

        public init() {}
    }

    /// A room's state; a class, so the hub changes it in place (a struct copied out of the rooms
    /// dictionary would copy its subscriber tables on every change).
    private final class Room {
        var fannedOut: Int64
        var subscribers: [UInt64: ChatConnection] = [:]
        /// Subscribers still catching up, with the live messages held for them meanwhile.
        var catchingUp: [UInt64: [EncodedFrame]] = [:]
        /// Messages ahead of a gap, by seq.
        var pending: [Int64: ChatMessage] = [:]
        /// The highest seq known to be stored (another instance's pointer); the gap fill reads up to it.
        var noticed: Int64 = 0
        /// Set when the store must be read once more after `fannedOut`, whatever is pending.
        var reread = false
        var fillingGap = false
        /// Online users: their connections in this room.
        var online: [Int64: (user: ChatUser, connections: Set<UInt64>)] = [:]
        /// Users whose last connection dropped, with the generation of their offline timer.
        var leaving: [Int64: (generation: UInt64, user: ChatUser)] = [:]
        /// Presence changes not sent yet, in order (true: came online). A user is in it at most
        /// once: a change that undoes a pending one first sends what is pending.
        var presenceChanges: [(user: ChatUser, online: Bool)] = []
        var presencePending: [Int64: Bool] = [:]
        /// When the last presence frame went out, and whether the next one is scheduled.
        var presenceSentAt: ContinuousClock.Instant?
        var presenceScheduled = false

        init(fannedOut: Int64) {
            self.fannedOut = fannedOut
        }
    }

    private struct State {
        var nextConnection: UInt64 = 1
        var nextTimer: UInt64 = 1
        var rooms: [Int64: Room] = [:]
        var connections: [UInt64: (connection: ChatConnection, rooms: Set<Int64>)] = [:]
        /// Each connected user's connections.
        var byUser: [Int64: Set<UInt64>] = [:]
        /// Other instances' online users, per room (tracked here or not): the instances that have each.
        var remote: [Int64: [Int64: (user: ChatUser, instances: Set<String>)]] = [:]
        /// Where this instance's presence changes go, once someone asked for them.
        var presenceReports: AsyncStream<PresenceChange>.Continuation?
        var closed = false

        /// Whether `userID` is online in the room here (a connection, or within the grace period) or elsewhere.
        func isOnline(_ userID: Int64, in roomID: Int64) -> Bool {
            if let room = rooms[roomID], room.online[userID] != nil || room.leaving[userID] != nil { return true }
            return remote[roomID]?[userID] != nil
        }

        /// Reports that `user` came online on this instance in the room, or went offline here.
        func report(_ user: ChatUser, online: Bool, in roomID: Int64) {
            presenceReports?.yield(PresenceChange(room: roomID, user: user, online: online))
        }
    }

    /// A user who came online in a room on this instance, or went offline there.
    public struct PresenceChange: Sendable, Equatable {
        public let room: Int64
        public let user: ChatUser
        public let online: Bool

        public init(room: Int64, user: ChatUser, online: Bool) {
            self.room = room
            self.user = user
            self.online = online
        }
    }

    private let state = Mutex(State())
    private let history: any ChatHistory
    private let configuration: Configuration
    private let logger: Logger

    public init(history: any ChatHistory, configuration: Configuration = Configuration(), logger: Logger) {
        self.history = history
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Connections

    /// Registers a new connection of `user`; nil once the hub is shut down.
    public func connect(_ user: ChatUser) -> ChatConnection? {
        state.withLock { state in
            guard !state.closed else { return nil }
            let connection = ChatConnection(id: state.nextConnection, user: user, queueLimit: configuration.outboundQueueLimit)
            state.nextConnection += 1
            state.connections[connection.id] = (connection, [])
            state.byUser[user.id, default: []].insert(connection.id)
            return connection
        }
    }

    /// Forgets a connection that ended: it leaves its rooms, and its user goes offline in each
    /// after the grace period unless another of their connections is there.
    public func disconnect(_ connection: ChatConnection) {
        let timers = state.withLock { state -> [(room: Int64, user: Int64, generation: UInt64)] in
            guard let entry = state.connections.removeValue(forKey: connection.id) else { return [] }
            state.byUser[connection.user.id]?.remove(connection.id)
            if state.byUser[connection.user.id]?.isEmpty == true { state.byUser[connection.user.id] = nil }
            var timers: [(Int64, Int64, UInt64)] = []
            for roomID in entry.rooms {
                guard let room = state.rooms[roomID] else { continue }
                room.subscribers[connection.id] = nil
                room.catchingUp[connection.id] = nil
                if removeOnline(connection, from: room) {
                    let generation = state.nextTimer
                    state.nextTimer += 1
                    room.leaving[connection.user.id] = (generation, connection.user)
                    timers.append((roomID, connection.user.id, generation))
                }
            }
            return timers
        }
        connection.close(.normal)
        for timer in timers {
            Task { [configuration] in
                try? await Task.sleep(for: configuration.presenceGrace)
                self.endGrace(room: timer.room, user: timer.user, generation: timer.generation)
            }
        }
    }

    /// Closes every connection with 1001 (going away) and refuses new ones.
    public func shutdown() {
        let connections = state.withLock { state -> [ChatConnection] in
            state.closed = true
            state.presenceReports?.finish()
            return state.connections.values.map(\.connection)
        }
        for connection in connections { connection.close(.goingAway) }
    }

    // MARK: Rooms

    /// Subscribes `connection` to `room` and sends it the `joined` frame, then, with `since`,
    /// every message after `since`, then the live stream. The caller has checked that the user
    /// may be in the room; `lastSeq` is the room's last stored seq, read before this call, and
    /// `members` its members.
    ///
    /// The connection is subscribed with its live messages held, so the `joined` frame and the
    /// catch-up are made outside the lock and still come first.
    public func join(_ connection: ChatConnection, room roomID: Int64, since: Int64?, lastSeq: Int64, members: [ChatUser]) async {
        var checkStore = false
        var schedulePresence: Duration?
        let subscribed = state.withLock { state -> (fannedOut: Int64, online: [Bool])? in
            guard state.connections[connection.id] != nil else { return nil }
            let room: Room
            if let existing = state.rooms[roomID] {
                room = existing
            } else {
                // A message committed after `lastSeq` was read may have been published before
                // this room was tracked: one read after `lastSeq` catches it.
                room = Room(fannedOut: lastSeq)
                room.fillingGap = true
                room.reread = true
                checkStore = true
                state.rooms[roomID] = room
            }
            let wasOnline = state.isOnline(connection.user.id, in: roomID)
            let alreadyHere = room.online[connection.user.id] != nil || room.leaving[connection.user.id] != nil
            room.leaving[connection.user.id] = nil
            room.online[connection.user.id, default: (connection.user, [])].connections.insert(connection.id)
            room.subscribers[connection.id] = connection
            room.catchingUp[connection.id] = []
            state.connections[connection.id]?.rooms.insert(roomID)
            if !alreadyHere { state.report(connection.user, online: true, in: roomID) }
            if !wasOnline { schedulePresence = announce(connection.user, online: true, in: roomID, room: room) }
            let remote = state.remote[roomID] ?? [:]
            return (room.fannedOut, members.map { room.online[$0.id] != nil || remote[$0.id] != nil })
        }
        if checkStore {
            Task { await self.fillGap(in: roomID, wait: false) }
        }
        if let schedulePresence { sendPresenceLater(in: roomID, after: schedulePresence) }
        guard let subscribed else { return }
        let list = zip(members, subscribed.online).map { ServerFrame.Member(id: $0.id, nickname: $0.nickname, online: $1) }
        connection.send(ServerFrame.joined(room: roomID, lastSeq: subscribed.fannedOut, members: list).encoded())
        if let since, since < subscribed.fannedOut {
            do {
                var after = max(since, 0)
                while after < subscribed.fannedOut, connection.closeCode == nil {
                    let page = try await history.messages(in: roomID, after: after, limit: configuration.historyPage)
                    for message in page where message.seq <= subscribed.fannedOut {
                        connection.send(ServerFrame.message(message).encoded())
                    }
                    guard let last = page.last, page.count == configuration.historyPage else { break }
                    after = last.seq
                }
            } catch {
                logger.error("chat catch-up failed", metadata: ["room": "\(roomID)", "error": "\(error)"])
                connection.send(ServerFrame.error(code: "unavailable", message: "The history could not be read; join again.", room: roomID).encoded())
            }
        }
        state.withLock { state in
            guard let held = state.rooms[roomID]?.catchingUp.removeValue(forKey: connection.id) else { return }
            for frame in held { connection.send(frame) }
        }
    }

    /// Unsubscribes `connection` from `room`; if it was its user's last connection there, the
    /// user leaves the room's presence at once.
    public func leave(_ connection: ChatConnection, room roomID: Int64) {
        let schedulePresence = state.withLock { state -> Duration? in
            guard let room = state.rooms[roomID], room.subscribers.removeValue(forKey: connection.id) != nil else { return nil }
            room.catchingUp[connection.id] = nil
            state.connections[connection.id]?.rooms.remove(roomID)
            var schedule: Duration?
            if removeOnline(connection, from: room) {
                state.report(connection.user, online: false, in: roomID)
                if !state.isOnline(connection.user.id, in: roomID) {
                    schedule = announce(connection.user, online: false, in: roomID, room: room)
                }
            }
            dropIfUnused(roomID, in: &state)
            return schedule
        }
        if let schedulePresence { sendPresenceLater(in: roomID, after: schedulePresence) }
    }

    /// Stops delivery of `room` to every connection of `userID` at once (removed by the owner,
    /// or left through the REST API), each told with an error frame `not_a_member`.
    public func remove(user userID: Int64, from roomID: Int64) {
        let schedulePresence = state.withLock { state -> Duration? in
            guard let room = state.rooms[roomID] else { return nil }
            let theirs = room.subscribers.values.filter { $0.user.id == userID }
            guard let user = theirs.first?.user else { return nil }
            let frame = ServerFrame.error(code: "not_a_member", message: "You are no longer a member of this room.", room: roomID).encoded()
            for connection in theirs {
                room.subscribers[connection.id] = nil
                room.catchingUp[connection.id] = nil
                state.connections[connection.id]?.rooms.remove(roomID)
                connection.send(frame)
            }
            let wasOnline = [room.online.removeValue(forKey: userID) != nil, room.leaving.removeValue(forKey: userID) != nil].contains(true)
            if wasOnline { state.report(user, online: false, in: roomID) }
            let schedule = wasOnline && !state.isOnline(userID, in: roomID) ? announce(user, online: false, in: roomID, room: room) : nil
            dropIfUnused(roomID, in: &state)
            return schedule
        }
        if let schedulePresence { sendPresenceLater(in: roomID, after: schedulePresence) }
    }

    /// Ends a deleted account's chat at once: its connections leave every room, the others see
    /// it go offline now (no grace period), and the connections close with 4001.
    public func removeAccount(_ userID: Int64) {
        let (connections, schedules) = state.withLock { state -> ([ChatConnection], [(Int64, Duration)]) in
            let connections = (state.byUser.removeValue(forKey: userID) ?? []).compactMap { state.connections.removeValue(forKey: $0)?.connection }
            var schedules: [(Int64, Duration)] = []
            for (roomID, room) in state.rooms {
                let here = room.online[userID]?.user ?? room.leaving[userID]?.user
                let user = here ?? state.remote[roomID]?[userID]?.user
                for connection in connections {
                    room.subscribers[connection.id] = nil
                    room.catchingUp[connection.id] = nil
                }
                room.online[userID] = nil
                room.leaving[userID] = nil
                state.remote[roomID]?[userID] = nil
                if let here { state.report(here, online: false, in: roomID) }
                if let user, let delay = announce(user, online: false, in: roomID, room: room) { schedules.append((roomID, delay)) }
                dropIfUnused(roomID, in: &state)
            }
            for roomID in Array(state.remote.keys) where state.remote[roomID]?.removeValue(forKey: userID) != nil {
                if state.remote[roomID]?.isEmpty == true { state.remote[roomID] = nil }
            }
            return (connections, schedules)
        }
        for connection in connections { connection.close(.accountDeleted) }
        for (roomID, delay) in schedules { sendPresenceLater(in: roomID, after: delay) }
    }

    /// Forgets a room that no longer exists (its owner's account was deleted): every connection
    /// in it gets an error frame `not_found` and stops receiving it.
    public func closeRoom(_ roomID: Int64) {
        state.withLock { state in
            state.remote[roomID] = nil
            guard let room = state.rooms.removeValue(forKey: roomID) else { return }
            let frame = ServerFrame.error(code: "not_found", message: "This room no longer exists.", room: roomID).encoded()
            for connection in room.subscribers.values {
                state.connections[connection.id]?.rooms.remove(roomID)
                connection.send(frame)
            }
        }
    }

    /// True when `connection` is subscribed to `room`.
    public func isSubscribed(_ connection: ChatConnection, to roomID: Int64) -> Bool {
        state.withLock { $0.rooms[roomID]?.subscribers[connection.id] != nil }
    }

    // MARK: Messages

    /// Fans out a stored message (call after its transaction commits). Repeats are dropped and
    /// messages ahead of a gap wait for it, so calls may come in any order and more than once.
    public func publish(_ message: ChatMessage) {
        let frame = ServerFrame.message(message).encoded()
        let startGapFill = state.withLock { state -> Bool in
            guard let room = state.rooms[message.room] else { return false }
            if message.seq <= room.fannedOut { return false }
            if message.seq > room.fannedOut + 1 {
                room.pending[message.seq] = message
                guard !room.fillingGap else { return false }
                room.fillingGap = true
                return true
            }
            deliver(frame, seq: message.seq, in: room)
            while let next = room.pending.removeValue(forKey: room.fannedOut + 1) {
                deliver(ServerFrame.message(next).encoded(), seq: next.seq, in: room)
            }
            return false
        }
        if startGapFill {
            Task { await self.fillGap(in: message.room, wait: true) }
        }
    }

    /// Tells the room's other users that `connection`'s user is typing; ignored unless it is in the room.
    public func typing(_ connection: ChatConnection, room roomID: Int64) -> Bool {
        state.withLock { state in
            guard let room = state.rooms[roomID], room.subscribers[connection.id] != nil else { return false }
            broadcast(ServerFrame.typing(room: roomID, user: connection.user).encoded(), in: room, exceptUser: connection.user.id)
            return true
        }
    }

    /// Sends `frame` (JSON text) to every connection of `userID`: live notifications.
    public func send(_ frame: String, toUser userID: Int64) {
        let frame = EncodedFrame(text: frame.utf8)
        let connections = state.withLock { state in
            (state.byUser[userID] ?? []).compactMap { state.connections[$0]?.connection }
        }
        for connection in connections { connection.send(frame) }
    }

    // MARK: Presence

    /// Whether `userID` has a live connection.
    public func isConnected(_ userID: Int64) -> Bool {
        state.withLock { $0.byUser[userID] != nil }
    }

    /// The users with a live connection.
    public func connectedUsers() -> Set<Int64> {
        state.withLock { Set($0.byUser.keys) }
    }

    /// Online users per room, for the rooms of `roomIDs` that have any.
    public func onlineCounts(_ roomIDs: [Int64]) -> [Int64: Int] {
        state.withLock { state in
            var counts: [Int64: Int] = [:]
            for id in roomIDs {
                let count = Self.onlineUsers(in: id, state: state).count
                if count > 0 { counts[id] = count }
            }
            return counts
        }
    }

    /// The ids of the users online in `room`, on this instance or another.
    public func onlineUsers(in roomID: Int64) -> Set<Int64> {
        state.withLock { Self.onlineUsers(in: roomID, state: $0) }
    }

    private static func onlineUsers(in roomID: Int64, state: State) -> Set<Int64> {
        var users = Set(state.rooms[roomID]?.online.keys ?? [:].keys)
        if let remote = state.remote[roomID] { users.formUnion(remote.keys) }
        return users
    }

    // MARK: Other instances

    /// A message up to `seq` is stored in `room` (another instance's pointer, sent on its
    /// commit): every message after `fannedOut` up to it is read from `history` and delivered in
    /// order, at once and a page at a time. Repeats and rooms nobody here is in cost nothing.
    public func notice(room roomID: Int64, seq: Int64) {
        let start = state.withLock { state -> Bool in
            guard let room = state.rooms[roomID], seq > room.fannedOut else { return false }
            room.noticed = max(room.noticed, seq)
            guard !room.fillingGap else { return false }
            room.fillingGap = true
            return true
        }
        if start { Task { await self.fillGap(in: roomID, wait: false) } }
    }

    /// Reads every room followed here once more after its `fannedOut`: after pointers may have
    /// been lost (the notification connection dropped), so that nothing stored is skipped.
    public func catchUp() {
        let starts = state.withLock { state -> [Int64] in
            var starts: [Int64] = []
            for (roomID, room) in state.rooms {
                room.reread = true
                if !room.fillingGap {
                    room.fillingGap = true
                    starts.append(roomID)
                }
            }
            return starts
        }
        for roomID in starts { Task { await self.fillGap(in: roomID, wait: false) } }
    }

    /// The users subscribed here, per room: to check against the stored members after removals
    /// may have been missed.
    public func subscribedUsers() -> [Int64: Set<Int64>] {
        state.withLock { state in
            state.rooms.compactMapValues { room in
                room.subscribers.isEmpty ? nil : Set(room.subscribers.values.map(\.user.id))
            }
        }
    }

    /// This instance's presence changes, in order, from now on (one stream per hub; a second
    /// call ends the first). Nothing is recorded before the first call.
    public func localPresenceChanges() -> AsyncStream<PresenceChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: PresenceChange.self)
        let previous = state.withLock { state in
            defer { state.presenceReports = continuation }
            return state.presenceReports
        }
        previous?.finish()
        return stream
    }

    /// Who is online on this instance: per room, each user with a connection there or within the grace period.
    public func localPresence() -> [PresenceChange] {
        state.withLock { state in
            state.rooms.flatMap { roomID, room in
                room.online.values.map { PresenceChange(room: roomID, user: $0.user, online: true) }
                    + room.leaving.values.map { PresenceChange(room: roomID, user: $0.user, online: true) }
            }
        }
    }

    /// Records that `instance` has `user` online in the room, or no longer; members here see the
    /// change if the user's presence over all instances changed.
    public func remotePresence(_ user: ChatUser, online: Bool, in roomID: Int64, instance: String) {
        let schedules = state.withLock { state -> [(Int64, Duration)] in
            let before = state.isOnline(user.id, in: roomID)
            if online {
                state.remote[roomID, default: [:]][user.id, default: (user, [])].instances.insert(instance)
            } else if state.remote[roomID]?[user.id]?.instances.remove(instance) != nil {
                if state.remote[roomID]?[user.id]?.instances.isEmpty == true { state.remote[roomID]?[user.id] = nil }
                if state.remote[roomID]?.isEmpty == true { state.remote[roomID] = nil }
            }
            return announceChanges(of: [(roomID, user, before)], in: &state)
        }
        for (roomID, delay) in schedules { sendPresenceLater(in: roomID, after: delay) }
    }

    /// Replaces every other instance's presence with `entries` (read from the store after the
    /// notifications may have been missed); members see what changed.
    public func replaceRemotePresence(_ entries: [(instance: String, room: Int64, user: ChatUser)]) {
        let schedules = state.withLock { state -> [(Int64, Duration)] in
            var affected: [Int64: [Int64: ChatUser]] = [:]
            for (roomID, users) in state.remote {
                for (userID, entry) in users { affected[roomID, default: [:]][userID] = entry.user }
            }
            for entry in entries { affected[entry.room, default: [:]][entry.user.id] = entry.user }
            let before = affected.flatMap { roomID, users in
                users.values.map { (roomID, $0, state.isOnline($0.id, in: roomID)) }
            }
            state.remote = [:]
            for entry in entries {
                state.remote[entry.room, default: [:]][entry.user.id, default: (entry.user, [])].instances.insert(entry.instance)
            }
            return announceChanges(of: before, in: &state)
        }
        for (roomID, delay) in schedules { sendPresenceLater(in: roomID, after: delay) }
    }

    /// Forgets the presence of an instance that stopped; its users go offline where no other instance has them.
    public func forgetInstance(_ instance: String) {
        let schedules = state.withLock { state -> [(Int64, Duration)] in
            var before: [(Int64, ChatUser, Bool)] = []
            for (roomID, users) in state.remote {
                for (userID, entry) in users where entry.instances.contains(instance) {
                    before.append((roomID, entry.user, true))
                    state.remote[roomID]?[userID]?.instances.remove(instance)
                    if state.remote[roomID]?[userID]?.instances.isEmpty == true { state.remote[roomID]?[userID] = nil }
                }
                if state.remote[roomID]?.isEmpty == true { state.remote[roomID] = nil }
            }
            return announceChanges(of: before, in: &state)
        }
        for (roomID, delay) in schedules { sendPresenceLater(in: roomID, after: delay) }
    }

    // MARK: Inside the lock

    /// Announces, in the rooms followed here, each user whose presence differs from `before`;
    /// returns the presence frames to send later.
    private func announceChanges(of before: [(room: Int64, user: ChatUser, online: Bool)], in state: inout State) -> [(Int64, Duration)] {
        var schedules: [(Int64, Duration)] = []
        for (roomID, user, wasOnline) in before {
            let online = state.isOnline(user.id, in: roomID)
            guard online != wasOnline, let room = state.rooms[roomID] else { continue }
            if let delay = announce(user, online: online, in: roomID, room: room) { schedules.append((roomID, delay)) }
        }
        return schedules
    }

    /// Gives the frame of message `seq` to every subscriber (held for those catching up).
    private func deliver(_ frame: EncodedFrame, seq: Int64, in room: Room) {
        room.fannedOut = seq
        broadcast(frame, in: room)
    }

    /// Queues `frame` to every subscriber but `exceptUser`'s; held for those still catching up,
    /// so that it follows their `joined` frame and catch-up.
    private func broadcast(_ frame: EncodedFrame, in room: Room, exceptUser: Int64? = nil) {
        if room.catchingUp.isEmpty && exceptUser == nil {
            for connection in room.subscribers.values { queue(frame, to: connection, in: room) }
            return
        }
        for (id, connection) in room.subscribers where connection.user.id != exceptUser {
            guard room.catchingUp[id] != nil else {
                queue(frame, to: connection, in: room)
                continue
            }
            room.catchingUp[id]?.append(frame)
            // Held frames count against the same bound as queued ones.
            if room.catchingUp[id]?.count ?? 0 > configuration.outboundQueueLimit {
                connection.close(.slowConsumer)
                room.subscribers[id] = nil
                room.catchingUp[id] = nil
            }
        }
    }

    /// Queues `frame`; a connection whose queue overflows is closed and leaves the room (its
    /// user's presence follows the grace period, as for any dropped connection).
    private func queue(_ frame: EncodedFrame, to connection: ChatConnection, in room: Room) {
        if !connection.send(frame), connection.closeCode == .slowConsumer {
            room.subscribers[connection.id] = nil
            room.catchingUp[connection.id] = nil
        }
    }

    /// Forgets a room nobody is in and nothing is pending for; a later join starts it again
    /// from the stored last seq.
    private func dropIfUnused(_ roomID: Int64, in state: inout State) {
        guard let room = state.rooms[roomID], room.subscribers.isEmpty, room.online.isEmpty, room.leaving.isEmpty,
              room.pending.isEmpty, !room.fillingGap else { return }
        state.rooms[roomID] = nil
    }

    /// Removes `connection` from the room's online users; true if its user has no other there.
    private func removeOnline(_ connection: ChatConnection, from room: Room) -> Bool {
        guard room.online[connection.user.id]?.connections.remove(connection.id) != nil else { return false }
        guard room.online[connection.user.id]?.connections.isEmpty == true else { return false }
        room.online[connection.user.id] = nil
        return true
    }

    /// Records that `user` came online in the room or went offline, and sends it at once unless
    /// the room's last presence frame went out less than its interval ago. Returns the delay
    /// after which the caller must call `sendPresenceLater` (outside the lock), if it must.
    private func announce(_ user: ChatUser, online: Bool, in roomID: Int64, room: Room) -> Duration? {
        if let pending = room.presencePending[user.id] {
            if pending == online { return nil }
            sendPresence(in: roomID, room: room)
        }
        room.presenceChanges.append((user, online))
        room.presencePending[user.id] = online
        if room.presenceScheduled { return nil }
        if let sent = room.presenceSentAt {
            let wait = sent + presenceInterval(of: room) - ContinuousClock.now
            if wait > .zero {
                room.presenceScheduled = true
                return wait
            }
        }
        sendPresence(in: roomID, room: room)
        return nil
    }

    /// How long after a presence frame the room's next one may go out.
    private func presenceInterval(of room: Room) -> Duration {
        max(configuration.presenceInterval, .seconds(1) * room.subscribers.count / max(1, configuration.presenceFramesPerSecond))
    }

    /// Sends the room's pending presence changes as one frame.
    private func sendPresence(in roomID: Int64, room: Room) {
        guard !room.presenceChanges.isEmpty else { return }
        let frame = ServerFrame.presence(room: roomID, joined: room.presenceChanges.filter(\.online).map(\.user),
                                         left: room.presenceChanges.filter { !$0.online }.map(\.user)).encoded()
        room.presenceChanges.removeAll()
        room.presencePending.removeAll()
        room.presenceSentAt = .now
        broadcast(frame, in: room)
    }

    // MARK: Background

    private func endGrace(room roomID: Int64, user userID: Int64, generation: UInt64) {
        let schedulePresence = state.withLock { state -> Duration? in
            guard let room = state.rooms[roomID], let leaving = room.leaving[userID], leaving.generation == generation else { return nil }
            room.leaving[userID] = nil
            guard room.online[userID] == nil else { return nil }
            state.report(leaving.user, online: false, in: roomID)
            let schedule = state.isOnline(userID, in: roomID) ? nil : announce(leaving.user, online: false, in: roomID, room: room)
            dropIfUnused(roomID, in: &state)
            return schedule
        }
        if let schedulePresence { sendPresenceLater(in: roomID, after: schedulePresence) }
    }

    /// Sends the room's pending presence changes after `delay`, when the room's interval ends.
    private func sendPresenceLater(in roomID: Int64, after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            self.state.withLock { state in
                guard let room = state.rooms[roomID] else { return }
                room.presenceScheduled = false
                sendPresence(in: roomID, room: room)
            }
        }
    }

    /// Reads the messages missing before the room's pending ones, up to the highest noticed seq
    /// (and once more when `reread` is set), and delivers them in order. With `wait`, first gives
    /// the publications on their way `gapWait` to arrive.
    private func fillGap(in roomID: Int64, wait: Bool) async {
        if wait { try? await Task.sleep(for: configuration.gapWait) }
        while true {
            let after = state.withLock { state -> Int64? in
                guard let room = state.rooms[roomID] else { return nil }
                if room.pending.isEmpty && room.noticed <= room.fannedOut && !room.reread {
                    room.fillingGap = false
                    dropIfUnused(roomID, in: &state)
                    return nil
                }
                room.reread = false
                return room.fannedOut
            }
            guard let after else { return }
            let page: [ChatMessage]
            do {
                page = try await history.messages(in: roomID, after: after, limit: configuration.historyPage)
            } catch {
                logger.error("chat gap fill failed", metadata: ["room": "\(roomID)", "error": "\(error)"])
                try? await Task.sleep(for: configuration.gapWait)
                continue
            }
            let progressed = state.withLock { state -> Bool in
                guard let room = state.rooms[roomID] else { return false }
                let before = room.fannedOut
                for message in page where message.seq == room.fannedOut + 1 {
                    room.pending[message.seq] = nil
                    deliver(ServerFrame.message(message).encoded(), seq: message.seq, in: room)
                }
                while let next = room.pending.removeValue(forKey: room.fannedOut + 1) {
                    deliver(ServerFrame.message(next).encoded(), seq: next.seq, in: room)
                }
                return room.fannedOut > before
            }
            if !progressed {
                // The store has nothing after `after` yet (a commit still on its way): wait.
                try? await Task.sleep(for: configuration.gapWait)
            }
        }
    }
}
