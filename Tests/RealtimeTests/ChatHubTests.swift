import Foundation
import NIOCore
import Logging
import Realtime
import Storage
import Synchronization
import Testing

/// A room history kept in memory: the hub's tests need a store that assigns seqs and can be read
/// back; the app's SQL store is tested through the app.
final class MemoryHistory: ChatHistory {
    private let rooms = Mutex<[Int64: [ChatMessage]]>([:])
    /// While set, every read fails, as a store that is down would.
    let failing = Atomic<Bool>(false)
    /// While set, every read waits, as a slow store would.
    let slow = Atomic<Bool>(false)
    struct Down: Error {}

    /// Stores a message with the room's next seq and returns it.
    func append(room: Int64, from sender: ChatUser, _ body: String) -> ChatMessage {
        rooms.withLock { rooms in
            let seq = Int64((rooms[room]?.count ?? 0) + 1)
            let message = ChatMessage(id: seq * 1_000 + room, room: room, seq: seq, sender: sender, body: body,
                                      sentAt: .now, clientMsgId: nil)
            rooms[room, default: []].append(message)
            return message
        }
    }

    func lastSeq(_ room: Int64) -> Int64 {
        rooms.withLock { Int64($0[room]?.count ?? 0) }
    }

    func messages(in room: Int64, after seq: Int64, limit: Int) async throws -> [ChatMessage] {
        if failing.load(ordering: .relaxed) { throw Down() }
        while slow.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        return rooms.withLock { rooms in Array((rooms[room] ?? []).filter { $0.seq > seq }.prefix(limit)) }
    }
}

/// Reads a connection's frames as JSON objects.
struct FrameReader {
    let connection: ChatConnection
    var buffered: [EncodedFrame] = []

    init(_ connection: ChatConnection) {
        self.connection = connection
    }

    mutating func next() async -> [String: Any]? {
        while buffered.isEmpty {
            let batch = connection.take()
            if !batch.frames.isEmpty {
                buffered = batch.frames.reversed()
            } else if batch.close != nil {
                return nil
            } else {
                await withCheckedContinuation { continuation in connection.whenReady { continuation.resume() } }
            }
        }
        guard let frame = buffered.popLast() else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(frame.text.readableBytesView)) as? [String: Any]
    }

    /// The next frame of `type`, skipping others.
    mutating func next(_ type: String) async -> [String: Any]? {
        while let frame = await next() {
            if frame["type"] as? String == type { return frame }
        }
        return nil
    }

    /// The next presence frame whose `list` ("joined" or "left") names `userID`, skipping others
    /// (presence frames name the receiver's own user too).
    mutating func presence(_ list: String, naming userID: Int64) async -> [String: Any]? {
        while let frame = await next("presence") {
            if (frame[list] as? [[String: Any]])?.contains(where: { ($0["id"] as? NSNumber)?.int64Value == userID }) == true { return frame }
        }
        return nil
    }

    /// Publishes one message per body to room 1 and reads each before the next is published, so
    /// this reader's own queue never fills, however loaded the machine; returns the seqs read.
    mutating func publishReadingEach(_ bodies: [String], from sender: ChatUser, hub: ChatHub, history: MemoryHistory) async -> [Int64] {
        var received: [Int64] = []
        for body in bodies {
            hub.publish(history.append(room: 1, from: sender, body))
            received += await seqs(1)
        }
        return received
    }

    /// The seqs of the next `count` message frames.
    mutating func seqs(_ count: Int) async -> [Int64] {
        var seqs: [Int64] = []
        while seqs.count < count, let frame = await next("message") {
            seqs.append((frame["seq"] as? NSNumber)?.int64Value ?? -1)
        }
        return seqs
    }
}

@Suite("Chat hub: order, resume, presence, slow readers")
struct ChatHubTests {
    let alice = ChatUser(id: 1, nickname: "앨리스")
    let bob = ChatUser(id: 2, nickname: "Bob 🎈")

    func hub(_ history: MemoryHistory, configure: (inout ChatHub.Configuration) -> Void = { _ in }) -> ChatHub {
        var configuration = ChatHub.Configuration()
        configuration.gapWait = .milliseconds(20)
        configure(&configuration)
        return ChatHub(history: history, configuration: configuration, logger: Logger(label: "chat-test"))
    }

    @Test("messages published out of order reach subscribers in seq order, once; other rooms see none")
    func order() async throws {
        let history = MemoryHistory()
        let hub = hub(history)
        let reader = try #require(hub.connect(bob))
        let elsewhere = try #require(hub.connect(alice))
        await hub.join(reader, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        await hub.join(elsewhere, room: 2, since: nil, lastSeq: 0, members: [alice])
        let messages = (1...3).map { history.append(room: 1, from: alice, "안녕 \($0) 👋") }
        hub.publish(messages[2])
        hub.publish(messages[0])
        hub.publish(messages[0])
        hub.publish(messages[1])
        var frames = FrameReader(reader)
        #expect(await frames.next("joined")?["lastSeq"] as? Int == 0)
        #expect(await frames.seqs(3) == [1, 2, 3])
        hub.disconnect(reader)
        #expect(await frames.next("message") == nil)

        var other = FrameReader(elsewhere)
        _ = await other.next("joined")
        hub.disconnect(elsewhere)
        #expect(await other.next("message") == nil)
    }

    @Test("a catch-up the history cannot serve is an `unavailable` error frame; the live stream goes on")
    func catchUpFailure() async throws {
        let history = MemoryHistory()
        let hub = hub(history)
        let first = try #require(hub.connect(alice))
        await hub.join(first, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        for n in 1...3 { hub.publish(history.append(room: 1, from: alice, "\(n)")) }
        history.failing.store(true, ordering: .relaxed)
        let late = try #require(hub.connect(bob))
        await hub.join(late, room: 1, since: 0, lastSeq: 3, members: [alice, bob])
        history.failing.store(false, ordering: .relaxed)
        hub.publish(history.append(room: 1, from: alice, "4"))
        var frames = FrameReader(late)
        #expect(await frames.next("joined")?["lastSeq"] as? Int == 3)
        #expect(await frames.next("error")?["code"] as? String == "unavailable")
        #expect(await frames.seqs(1) == [4])
    }

    @Test("a gap that publishing never fills is read from the history")
    func gapFill() async throws {
        let history = MemoryHistory()
        let hub = hub(history)
        let reader = try #require(hub.connect(bob))
        await hub.join(reader, room: 1, since: nil, lastSeq: 0, members: [bob])
        // Past the one read a newly tracked room makes, so that only the gap can fetch 1–3.
        try await Task.sleep(for: .milliseconds(100))
        let messages = (1...4).map { history.append(room: 1, from: alice, "m\($0)") }
        hub.publish(messages[3])
        var frames = FrameReader(reader)
        #expect(await frames.seqs(4) == [1, 2, 3, 4])
    }

    @Test("a join with since gets every later message once, in order, while others keep sending")
    func resume() async throws {
        let history = MemoryHistory()
        let hub = hub(history) { $0.historyPage = 7 }
        let sender = try #require(hub.connect(alice))
        await hub.join(sender, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        for n in 1...100 { hub.publish(history.append(room: 1, from: alice, "m\(n)")) }

        let publisher = Task {
            for n in 101...400 {
                hub.publish(history.append(room: 1, from: alice, "m\(n)"))
                if n % 10 == 0 { await Task.yield() }
            }
        }
        let resumed = try #require(hub.connect(bob))
        await hub.join(resumed, room: 1, since: 50, lastSeq: history.lastSeq(1), members: [alice, bob])
        await publisher.value
        var frames = FrameReader(resumed)
        _ = await frames.next("joined")
        #expect(await frames.seqs(350) == Array(51...400))
    }

    @Test("two tabs count once; the user goes offline only after the grace period of their last one")
    func presence() async throws {
        let history = MemoryHistory()
        let hub = hub(history) { $0.presenceGrace = .milliseconds(200) }
        let watcher = try #require(hub.connect(bob))
        await hub.join(watcher, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        let tab1 = try #require(hub.connect(alice))
        let tab2 = try #require(hub.connect(alice))
        await hub.join(tab1, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        await hub.join(tab2, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        #expect(hub.onlineCounts([1, 2]) == [1: 2])

        var frames = FrameReader(watcher)
        _ = await frames.next("joined")
        // Bob's own arrival is told to him too; Alice's second tab tells nobody.
        #expect(await frames.presence("joined", naming: bob.id) != nil)
        #expect(await frames.presence("joined", naming: alice.id) != nil)

        hub.disconnect(tab1)
        hub.disconnect(tab2)
        #expect(hub.onlineUsers(in: 1) == [2])
        // A reload within the grace period: no presence event at all.
        let tab3 = try #require(hub.connect(alice))
        await hub.join(tab3, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        hub.disconnect(tab3)
        let left = await frames.next("presence")
        #expect((left?["left"] as? [[String: Any]])?.first?["nickname"] as? String == "앨리스")
        #expect((left?["joined"] as? [Any])?.isEmpty == true, "no presence frame between the join and the leave: \(left ?? [:])")
        #expect(hub.onlineCounts([1]) == [1: 1])
    }

    @Test("a join storm costs each member about one presence frame per interval; a change undone within it keeps its order")
    func presenceBatched() async throws {
        let hub = hub(MemoryHistory()) { $0.presenceInterval = .milliseconds(300) }
        let crowd = (10...59).map { ChatUser(id: Int64($0), nickname: "user \($0)") }
        let watcher = try #require(hub.connect(bob))
        await hub.join(watcher, room: 1, since: nil, lastSeq: 0, members: [bob] + crowd)
        var connections: [ChatConnection] = []
        for user in crowd {
            let connection = try #require(hub.connect(user))
            await hub.join(connection, room: 1, since: nil, lastSeq: 0, members: [bob] + crowd)
            connections.append(connection)
        }
        // One of them leaves and comes back, all within the interval.
        hub.leave(connections[0], room: 1)
        await hub.join(connections[0], room: 1, since: nil, lastSeq: 0, members: [bob] + crowd)

        var frames = FrameReader(watcher)
        _ = await frames.next("joined")
        var events: [(id: Int64, online: Bool)] = []
        var presenceFrames = 0
        while events.count < 1 + crowd.count + 2, let frame = await frames.next("presence") {
            presenceFrames += 1
            let ids = { (list: String) in (frame[list] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value } }
            #expect(Set(ids("joined")).isDisjoint(with: ids("left")), "a frame names a user once")
            events += ids("joined").map { ($0, true) } + ids("left").map { ($0, false) }
        }
        #expect(presenceFrames <= 6, "\(presenceFrames) presence frames for \(events.count) changes")
        #expect(Set(events.filter(\.online).map(\.id)) == Set([bob.id] + crowd.map(\.id)))
        let first = crowd[0].id
        #expect(events.filter { $0.id == first }.map(\.online) == [true, false, true])
        #expect(hub.onlineUsers(in: 1) == Set([bob.id] + crowd.map(\.id)))
    }

    @Test("a room's presence interval grows with its size, past the presence frames a second it may send")
    func presenceIntervalScales() async throws {
        // 10 frames a second: two subscribers make the interval 200 ms, not the 10 ms base.
        let hub = hub(MemoryHistory()) {
            $0.presenceInterval = .milliseconds(10)
            $0.presenceFramesPerSecond = 10
        }
        let watcher = try #require(hub.connect(bob))
        await hub.join(watcher, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        let start = ContinuousClock.now
        let other = try #require(hub.connect(alice))
        await hub.join(other, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        var frames = FrameReader(watcher)
        #expect(await frames.presence("joined", naming: bob.id) != nil)
        #expect(await frames.presence("joined", naming: alice.id) != nil)
        #expect(ContinuousClock.now - start >= .milliseconds(100))
    }

    @Test("a joiner whose catch-up is outrun by the room past its queue bound is closed as a slow consumer")
    func catchUpBounded() async throws {
        let history = MemoryHistory()
        let hub = hub(history) { $0.outboundQueueLimit = 8 }
        let watcher = try #require(hub.connect(bob))
        await hub.join(watcher, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        var frames = FrameReader(watcher)
        _ = await frames.next("joined")
        var received = await frames.publishReadingEach((1...20).map { "before \($0)" }, from: bob, hub: hub, history: history)
        history.slow.store(true, ordering: .relaxed)
        let late = try #require(hub.connect(alice))
        let joining = Task { await hub.join(late, room: 1, since: 0, lastSeq: 20, members: [alice, bob]) }
        for _ in 0..<1_000 where !hub.isSubscribed(late, to: 1) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(hub.isSubscribed(late, to: 1))
        received += await frames.publishReadingEach((1...10).map { "during \($0)" }, from: bob, hub: hub, history: history)
        #expect(late.closeCode == .slowConsumer)
        #expect(!hub.isSubscribed(late, to: 1))
        history.slow.store(false, ordering: .relaxed)
        await joining.value
        #expect(received == Array(1...30))
    }

    @Test("a reader that never reads is closed as a slow consumer; the others get every message")
    func slowConsumer() async throws {
        let history = MemoryHistory()
        let hub = hub(history) { $0.outboundQueueLimit = 8 }
        let slow = try #require(hub.connect(alice))
        let fast = try #require(hub.connect(bob))
        await hub.join(slow, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        await hub.join(fast, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        var frames = FrameReader(fast)
        _ = await frames.next("joined")
        let received = await frames.publishReadingEach((1...200).map { "m\($0)" }, from: bob, hub: hub, history: history)
        #expect(received == Array(1...200))
        #expect(slow.closeCode == .slowConsumer)
        #expect(!hub.isSubscribed(slow, to: 1))
    }

    @Test("removing a user stops delivery to all their connections at once")
    func removal() async throws {
        let history = MemoryHistory()
        let hub = hub(history)
        let member = try #require(hub.connect(bob))
        await hub.join(member, room: 1, since: nil, lastSeq: 0, members: [alice, bob])
        hub.remove(user: bob.id, from: 1)
        hub.publish(history.append(room: 1, from: alice, "after"))
        var frames = FrameReader(member)
        _ = await frames.next("joined")
        #expect(await frames.next("error")?["code"] as? String == "not_a_member")
        hub.disconnect(member)
        #expect(await frames.next("message") == nil)
    }

    @Test("shutdown closes every connection with 1001 and refuses new ones")
    func shutdown() async throws {
        let hub = hub(MemoryHistory())
        let connection = try #require(hub.connect(alice))
        hub.shutdown()
        #expect(connection.closeCode == .goingAway)
        #expect(hub.connect(bob) == nil)
    }
}
