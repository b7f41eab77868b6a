import Histogram
import HummingbirdWSClient
import Synchronization

/// What the connections of `agora bench chat` share: the counters the benchmark watches while it
/// runs, the senders' messages and their acks, the latency histograms, and each connection's
/// record of what it received, handed in when the connection ends.
final class ChatBenchTally: Sendable {
    let senders: Int
    let messagesPerSender: Int
    /// Servers the connections are spread over: connection `c` (and sender `c`) is on server
    /// `c % instances`.
    let instances: Int

    /// Every frame received by any connection, for telling when the server has gone quiet.
    let framesReceived = Atomic<Int>(0)
    /// First deliveries of the benchmark's messages, over all connections.
    let deliveries = Atomic<Int>(0)
    let sent = Atomic<Int>(0)
    let acknowledged = Atomic<Int>(0)
    /// Error frames received, of any code.
    let errorFrameCount = Atomic<Int>(0)
    /// Connections that received their `joined` frame.
    let joined = Atomic<Int>(0)
    /// Set when the benchmark closes the connections: closes after it are not failures.
    let stopping = Atomic<Bool>(false)

    private let acknowledgedMessages: Mutex<[MessageSet]>
    /// When each message was written, by sender and counter (`NIODeadline` uptime).
    private let sendTimes: Mutex<[[UInt64]]>
    private let latencies = Mutex(Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three))
    /// The latencies of deliveries to a connection on another server than the sender's.
    private let crossLatencies = Mutex(Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three))
    private let ackLatencies = Mutex(Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three))
    private let records = Mutex<[ReceivedMessages]>([])
    private let errorFrames = Mutex<[String: Int]>([:])
    private let failures = Mutex<[String: Int]>([:])
    private let writers = Mutex<[Int: WebSocketOutboundWriter]>([:])
    private let settled = Mutex<Set<Int>>([])

    init(senders: Int, messagesPerSender: Int, instances: Int = 1) {
        self.senders = senders
        self.messagesPerSender = messagesPerSender
        self.instances = instances
        acknowledgedMessages = Mutex(Array(repeating: MessageSet(capacity: messagesPerSender), count: senders))
        sendTimes = Mutex(Array(repeating: Array(repeating: 0, count: messagesPerSender), count: senders))
    }

    // MARK: Connections

    /// Keeps `writer` of connection `client`, for sending and for closing it at the end.
    func register(_ writer: WebSocketOutboundWriter, client: Int) {
        writers.withLock { $0[client] = writer }
    }

    func writer(of client: Int) -> WebSocketOutboundWriter? {
        writers.withLock { $0[client] }
    }

    /// The writers of every connection that opened (and may have closed since).
    var openedWriters: [WebSocketOutboundWriter] { writers.withLock { Array($0.values) } }

    /// Marks connection `client` as done connecting: joined (or open, when it does not join at
    /// once), or failed before it could.
    func settle(_ client: Int) {
        settled.withLock { _ = $0.insert(client) }
    }

    var settledCount: Int { settled.withLock { $0.count } }

    /// Counts a failure, by what happened: a connection that failed or was closed by the server,
    /// a sender that could not write, connections given up on.
    func recordFailure(_ description: String) {
        failures.withLock { $0[description, default: 0] += 1 }
    }

    var failureCounts: [String: Int] { failures.withLock { $0 } }

    /// Closes every connection with a normal close; the server's answering close ends each one.
    func closeAll() async {
        stopping.store(true, ordering: .relaxed)
        for writer in openedWriters {
            try? await writer.close(.normalClosure, reason: nil)
        }
    }

    // MARK: Messages

    /// Records that message `counter` of `sender` is written at `nanos` (`NIODeadline` uptime).
    func recordSend(sender: Int, counter: Int, at nanos: UInt64) {
        sendTimes.withLock { $0[sender][counter] = nanos }
        sent.add(1, ordering: .relaxed)
    }

    /// Records the server's `ack`, received at `nanos`, of message `counter` of `sender`.
    func acknowledge(sender: Int, counter: Int, at nanos: UInt64) {
        guard sender < senders, counter < messagesPerSender else { return }
        guard acknowledgedMessages.withLock({ $0[sender].insert(counter) }) else { return }
        acknowledged.add(1, ordering: .relaxed)
        let sentAt = sendTimes.withLock { $0[sender][counter] }
        if sentAt > 0, nanos > sentAt { ackLatencies.withLock { _ = $0.record(nanos - sentAt) } }
    }

    func recordErrorFrame(code: String) {
        errorFrameCount.add(1, ordering: .relaxed)
        errorFrames.withLock { $0[code, default: 0] += 1 }
    }

    var errorFrameCounts: [String: Int] { errorFrames.withLock { $0 } }

    /// Adds latencies, in nanoseconds, to the histogram; `crossInstance` ones (a receiver on
    /// another server than the sender's) to theirs too.
    func recordLatencies(_ nanoseconds: [UInt64], crossInstance: Bool = false) {
        latencies.withLock { histogram in
            for value in nanoseconds { _ = histogram.record(value) }
        }
        guard crossInstance else { return }
        crossLatencies.withLock { histogram in
            for value in nanoseconds { _ = histogram.record(value) }
        }
    }

    /// Server of connection (or sender) `client`.
    func instance(of client: Int) -> Int { client % instances }

    /// From a sender's write to each receiver's read of the message.
    var latencyHistogram: Histogram<UInt64> { latencies.withLock { $0 } }

    /// The same, only for receivers on another server than the sender's.
    var crossInstanceLatencyHistogram: Histogram<UInt64> { crossLatencies.withLock { $0 } }

    /// From a sender's write to its read of the `ack`: storing the message, without the fan-out.
    var ackLatencyHistogram: Histogram<UInt64> { ackLatencies.withLock { $0 } }

    /// Keeps the record of a connection that ended.
    func add(_ record: ReceivedMessages) {
        records.withLock { $0.append(record) }
    }

    /// The deliveries the connections that joined should have received and what they did
    /// receive: every acknowledged message, once each.
    struct Deliveries {
        var receivers = 0
        var expected = 0
        var received = 0
        var lost = 0
        var duplicates = 0
        var seqBreaks = 0
        /// Deliveries of messages whose send was never acknowledged.
        var unacknowledged = 0
        /// When the last delivery arrived (`NIODeadline` uptime).
        var lastDeliveryNanos: UInt64 = 0
    }

    /// Totals the records handed in so far; call once every connection has ended.
    func deliveriesSummary() -> Deliveries {
        let acknowledged = acknowledgedMessages.withLock { $0 }
        let perReceiver = acknowledged.reduce(0) { $0 + $1.count }
        return records.withLock { records in
            var total = Deliveries()
            for record in records where record.joined {
                total.receivers += 1
                total.expected += perReceiver
                for (sender, seen) in record.seen.enumerated() {
                    let missing = acknowledged[sender].countMissing(from: seen)
                    total.lost += missing
                    total.received += acknowledged[sender].count - missing
                    total.unacknowledged += seen.countMissing(from: acknowledged[sender])
                }
                total.duplicates += record.duplicates
                total.seqBreaks += record.seqBreaks
                total.lastDeliveryNanos = max(total.lastDeliveryNanos, record.lastDeliveryNanos)
            }
            return total
        }
    }
}

/// A set of message counters 0..<capacity, as bits.
struct MessageSet: Sendable {
    private var words: [UInt64]

    init(capacity: Int) {
        words = Array(repeating: 0, count: (capacity + 63) / 64)
    }

    /// Inserts `n`; false if it was already there.
    mutating func insert(_ n: Int) -> Bool {
        let bit: UInt64 = 1 << UInt64(n % 64)
        let index = n / 64
        guard words[index] & bit == 0 else { return false }
        words[index] |= bit
        return true
    }

    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// How many members of this set `other` lacks.
    func countMissing(from other: MessageSet) -> Int {
        zip(words, other.words).reduce(0) { $0 + ($1.0 & ~$1.1).nonzeroBitCount }
    }
}
