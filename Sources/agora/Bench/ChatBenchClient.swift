import HummingbirdWSClient
import Logging
import NIOCore

/// One member's WebSocket connection in `agora bench chat`: it connects with the member's access
/// token, joins the room (at once, or when the benchmark sends the join) and reads until the
/// benchmark closes it, keeping its own record of the benchmark's messages it received, which it
/// hands to the tally when the connection ends. Senders write through the connection's outbound
/// writer, registered with the tally.
struct ChatBenchClient: Sendable {
    let index: Int
    let url: String
    let room: Int64
    /// Whether to join as soon as connected; otherwise the connection counts as settled once
    /// open, and the benchmark sends the join later through its writer.
    let joinsOnConnect: Bool
    let tally: ChatBenchTally
    let logger: Logger

    /// The frame that joins `room`.
    static func joinFrame(room: Int64) -> String {
        #"{"type":"join","room":\#(room)}"#
    }

    /// The `joined` frame lists every member of the room (about 50 bytes each): far more than
    /// the client's default 16 KiB frame limit for a room of thousands.
    static let configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 24, closeTimeout: .seconds(5))

    /// Connects, joins, reads until closed; failures are counted in the tally, never thrown.
    func run() async {
        let (index, tally, joinsOnConnect, join) = (self.index, self.tally, self.joinsOnConnect, Self.joinFrame(room: room))
        do {
            let close = try await WebSocketClient.connect(url: url, configuration: Self.configuration, logger: logger) { inbound, outbound, _ in
                tally.register(outbound, client: index)
                if joinsOnConnect {
                    try await outbound.write(.text(join))
                } else {
                    tally.settle(index)
                }
                var received = ReceivedMessages(senders: tally.senders, messagesPerSender: tally.messagesPerSender,
                                                instance: tally.instance(of: index), instances: tally.instances)
                do {
                    for try await frame in inbound where frame.opcode == .text {
                        received.take(frame.data, client: index, tally: tally)
                    }
                } catch {
                    received.finish(tally: tally)
                    throw error
                }
                received.finish(tally: tally)
            }
            if !tally.stopping.load(ordering: .relaxed) {
                tally.recordFailure(close.map { "closed by the server: \($0.closeCode) \($0.reason ?? "")" } ?? "closed by the server")
            }
        } catch where !tally.stopping.load(ordering: .relaxed) {
            tally.recordFailure("\(error)")
        } catch {
            // Cancelled at the end, its close unanswered: not a failure of the run.
        }
        tally.settle(index)
    }
}

/// What one connection received of the benchmark's messages: which of each sender's messages
/// (as bits), which of them twice, and whether the seqs followed one another. Kept by the
/// connection's own task, so the hot path takes no lock; latencies go to the shared histogram
/// in batches.
struct ReceivedMessages: Sendable {
    private(set) var joined = false
    private(set) var seen: [MessageSet]
    private(set) var duplicates = 0
    /// Message frames whose seq was not the one after the previous one: a gap, a repeat or a
    /// reordering.
    private(set) var seqBreaks = 0
    /// When the last of the benchmark's messages arrived (`NIODeadline` uptime).
    private(set) var lastDeliveryNanos: UInt64 = 0
    private let messagesPerSender: Int
    /// This connection's server, and how many there are (sender `s` is on server `s % instances`).
    private let instance: Int
    private let instances: Int
    private var lastSeq: Int64 = 0
    private var latencies: [UInt64] = []
    /// Latencies of messages from senders on another server.
    private var crossLatencies: [UInt64] = []

    init(senders: Int, messagesPerSender: Int, instance: Int = 0, instances: Int = 1) {
        seen = Array(repeating: MessageSet(capacity: messagesPerSender), count: senders)
        self.messagesPerSender = messagesPerSender
        self.instance = instance
        self.instances = instances
        latencies.reserveCapacity(Self.latencyBatch)
    }

    private static let latencyBatch = 256

    /// Takes one text frame from the server.
    mutating func take(_ frame: ByteBuffer, client: Int, tally: ChatBenchTally) {
        let now = NIODeadline.now().uptimeNanoseconds
        tally.framesReceived.add(1, ordering: .relaxed)
        frame.withUnsafeReadableBytes { bytes in
            let scanner = ChatFrameScanner(bytes)
            switch scanner.kind {
            case .message:
                if let seq = scanner.seq {
                    if seq != lastSeq + 1 { seqBreaks += 1 }
                    lastSeq = seq
                }
                guard let body = scanner.body, body.sender < seen.count, body.counter < messagesPerSender else { return }
                guard seen[body.sender].insert(body.counter) else {
                    duplicates += 1
                    return
                }
                tally.deliveries.add(1, ordering: .relaxed)
                lastDeliveryNanos = now
                let latency = now > body.sentNanos ? now - body.sentNanos : 0
                if instances > 1 && body.sender % instances != instance {
                    crossLatencies.append(latency)
                    if crossLatencies.count == Self.latencyBatch {
                        tally.recordLatencies(crossLatencies, crossInstance: true)
                        crossLatencies.removeAll(keepingCapacity: true)
                    }
                } else {
                    latencies.append(latency)
                    if latencies.count == Self.latencyBatch {
                        tally.recordLatencies(latencies)
                        latencies.removeAll(keepingCapacity: true)
                    }
                }
            case .ack:
                if let id = scanner.clientMessageID { tally.acknowledge(sender: id.sender, counter: id.counter, at: now) }
            case .joined:
                guard !joined else { return }
                joined = true
                lastSeq = scanner.lastSeq ?? 0
                tally.joined.add(1, ordering: .relaxed)
                tally.settle(client)
            case .error:
                tally.recordErrorFrame(code: scanner.errorCode ?? "(no code)")
            case .other:
                break
            }
        }
    }

    /// Hands the rest of the latencies and this record to the tally.
    mutating func finish(tally: ChatBenchTally) {
        tally.recordLatencies(latencies)
        tally.recordLatencies(crossLatencies, crossInstance: true)
        latencies.removeAll()
        crossLatencies.removeAll()
        tally.add(self)
    }
}
