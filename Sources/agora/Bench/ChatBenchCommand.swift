import ArgumentParser
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Storage

/// `agora bench chat`: the WebSocket fan-out. Many members of one public room connect over
/// `/ws` and join it; a few of them send at a steady rate; every connection checks that it
/// receives every acknowledged message once, in seq order, and measures each one's latency from
/// the sender's write to its own receipt (one process, one monotonic clock). With `--idle N` it
/// opens N connections that send nothing and measures the server's memory per connection, with
/// the connections open and then joined to the room.
///
/// Without `--url` it runs `agora serve` of its own on a temporary data directory (bcrypt cost 4,
/// no verified email needed); either way it makes the users and the room through the REST API.
/// With `--database-url` its servers run on a fresh database of that PostgreSQL server (created,
/// then dropped), and with `--instances N` it runs N of them on that one database, the same data
/// directory (the same token keys): connection `c` connects to server `c % N`, senders included,
/// so with two servers half of every message's deliveries cross from one instance to the other.
struct ChatBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Measure chat fan-out over WebSocket (deliveries/s, lost, duplicates, latency), or idle memory per connection.")

    @Option(help: "WebSocket connections, each a member of the room.")
    var clients = 1_000

    @Option(help: "Connections that also send (the first ones; they receive too).")
    var senders = 5

    @Option(help: "Messages per second per sender.")
    var rate = 10.0

    @Option(help: "Seconds of sending.")
    var duration = 20.0

    @Option(help: "Seconds to wait after the sending for deliveries still on their way.")
    var drain = 5.0

    @Option(help: "Instead of sending: open this many idle connections, then join each to the room, and measure the server's memory per connection (--clients, --senders, --rate, --duration and --drain are then unused).")
    var idle: Int?

    @Option(help: "Server to measure, as http://host:port (default: start `agora serve` of its own); repeat it for several instances of one Agora, connection c going to the c % N-th.")
    var url: [String] = []

    @Option(help: "Directory for the servers' data and logs (default: a fresh temporary one, deleted afterwards).")
    var dataDir: String?

    @Option(name: .customLong("database-url"),
            help: "postgres://user@host:port/database: run the benchmark's own servers on a fresh database of this PostgreSQL server, created and dropped by the benchmark (default: the embedded SQLite).")
    var databaseURL: String?

    @Option(help: "`agora serve` processes to start on the one PostgreSQL database (needs --database-url when more than 1).")
    var instances = 1

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// Upgrades in flight at once: well under the server's listen backlog, so no SYN is dropped
    /// and retried a second later.
    static let connectingAtOnce = 64

    func validate() throws {
        guard clients > 0, (0...clients).contains(senders), rate > 0, duration > 0, drain >= 0 else {
            throw ValidationError("--clients must be positive, --senders 0…clients, --rate and --duration positive, --drain not negative")
        }
        guard instances > 0 else { throw ValidationError("--instances must be positive") }
        if instances > 1 && databaseURL == nil {
            throw ValidationError("several instances share a PostgreSQL database: give --database-url")
        }
        if !url.isEmpty && (databaseURL != nil || instances > 1) {
            throw ValidationError("--url measures servers already running: leave out --database-url and --instances")
        }
        if let idle {
            guard idle > 0 else { throw ValidationError("--idle must be positive") }
            guard url.isEmpty, instances == 1 else {
                throw ValidationError("--idle measures the memory of the one server the benchmark starts: leave out --url and --instances")
            }
        }
        for url in url where URL(string: url)?.host == nil { throw ValidationError("--url must look like http://host:port") }
    }

    func run() async throws {
        let openFileLimit = Self.raiseOpenFileLimit()
        let connections = idle ?? clients
        let senders = idle == nil ? self.senders : 0
        let messagesPerSender = idle == nil ? Int((duration * rate).rounded()) : 0

        var servers: [BenchServer] = []
        let directory = dataDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("agora-bench-chat-\(UUID().uuidString)")
        // A temporary directory is kept when something went wrong, for the servers' logs.
        var keepDirectory = false
        var database: BenchDatabase?
        defer {
            for server in servers { server.stop() }
            if url.isEmpty && dataDir == nil && !keepDirectory { try? FileManager.default.removeItem(at: directory) }
        }
        do {
            var targets: [(host: String, port: Int)] = []
            if !url.isEmpty {
                targets = url.compactMap { URL(string: $0) }.compactMap { target in target.host.map { (host: $0, port: target.port ?? 80) } }
            } else {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                var environment = ["AGORA_BCRYPT_COST": "4", "AGORA_REQUIRE_VERIFIED_EMAIL": "false", "AGORA_LOG_LEVEL": "warning"]
                if let databaseURL {
                    let created = try await BenchDatabase.create(prefix: "agora_bench_chat", serverURL: databaseURL)
                    database = created
                    environment["AGORA_DATABASE_URL"] = created.url
                }
                // One after the other: the first applies the migrations.
                for instance in 0..<instances {
                    let started = BenchServer(dataDirectory: directory, environment: environment,
                                              logName: instances == 1 ? "server.log" : "server-\(instance + 1).log")
                    servers.append(started)
                    try await started.start()
                    targets.append(("127.0.0.1", started.port))
                }
            }
            try await measure(targets: targets, servers: servers, postmaster: database?.postmasterPID, connections: connections,
                              senders: senders, messagesPerSender: messagesPerSender, openFileLimit: openFileLimit,
                              keepDirectory: &keepDirectory)
        } catch {
            // The servers stop before their database is dropped.
            for server in servers { server.stop() }
            try? await database?.drop()
            throw error
        }
        for server in servers { server.stop() }
        try await database?.drop()
    }

    private func measure(targets: [(host: String, port: Int)], servers: [BenchServer], postmaster: Int32?, connections: Int, senders: Int,
                         messagesPerSender: Int, openFileLimit: Int, keepDirectory: inout Bool) async throws {
        let serverStatuses = servers.compactMap { $0.process.map { ProcessStatus(pid: $0.processIdentifier) } }
        let serverStatus = serverStatuses.first
        let clientStatus = ProcessStatus(pid: getpid())
        let (host, port) = targets[0]

        let clock = ContinuousClock()
        let setupStart = clock.now
        let room = try await ChatBenchRoom.create(host: host, port: port, users: connections, concurrency: 16)
        let setup = clock.now - setupStart
        // The sign-ups' queued jobs (mail, bcrypt) run in the background, on any instance: let
        // them finish first.
        for status in serverStatuses { _ = try await status.waitUntilIdle() }
        let residentBefore = serverStatus?.residentBytes

        let tally = ChatBenchTally(senders: senders, messagesPerSender: messagesPerSender, instances: targets.count)
        var residentOpen: Int?, residentJoined: Int?
        var joining = Duration.zero
        var sending: SendingOutcome?
        // Idle connections are measured open, then joined: the joins' own cost (each `joined`
        // lists the members, each join is announced to everyone) shows apart from the sockets'.
        let connected = try await Self.withConnections(to: room, targets: targets, joinOnConnect: idle == nil, tally: tally) {
            if idle != nil {
                _ = try await serverStatus?.waitUntilIdle()
                residentOpen = serverStatus?.residentBytes
                let joinStart = clock.now
                try await Self.joinAll(tally, room: room.id)
                joining = clock.now - joinStart
            }
            // Each join is announced to the others (presence): wait until that has all arrived.
            try await Self.waitUntilQuiet(tally)
            if idle != nil {
                _ = try await serverStatus?.waitUntilIdle()
                residentJoined = serverStatus?.residentBytes
            } else {
                sending = try await send(tally: tally, room: room.id, serverStatuses: serverStatuses, clientStatus: clientStatus,
                                         postmaster: postmaster)
            }
        }

        let failures = tally.failureCounts
        let deliveries = tally.deliveriesSummary()
        if idle != nil {
            let opened = tally.openedWriters.count, joined = tally.joined.load(ordering: .relaxed)
            func perConnection(_ after: Int?, _ count: Int) -> Double? {
                guard let residentBefore, let after, count > 0 else { return nil }
                return Double(after - residentBefore) / Double(count)
            }
            let result = ChatIdleResult(
                connections: connections, opened: opened, joined: joined, setupSeconds: setup.seconds,
                connectSeconds: connected.seconds, joinSeconds: joining.seconds,
                serverResidentBytesBefore: residentBefore, serverResidentBytesOpen: residentOpen, serverResidentBytesJoined: residentJoined,
                openBytesPerConnection: perConnection(residentOpen, opened), idleBytesPerConnection: perConnection(residentJoined, joined),
                openFileLimit: openFileLimit, failures: failures)
            try report(result)
        } else if let sending {
            let histogram = tally.latencyHistogram, acks = tally.ackLatencyHistogram, cross = tally.crossInstanceLatencyHistogram
            let last = deliveries.lastDeliveryNanos, first = sending.firstSendNanos
            let window = last > first ? Double(last - first) / 1e9 : 0
            func ms(_ nanos: UInt64) -> Double { Double(nanos) / 1_000_000 }
            let errors = tally.errorFrameCounts
            let result = ChatBenchResult(
                clients: connections, joined: deliveries.receivers, senders: senders, ratePerSender: rate, durationSeconds: duration,
                setupSeconds: setup.seconds, connectSeconds: connected.seconds,
                messagesSent: tally.sent.load(ordering: .relaxed), messagesAcknowledged: tally.acknowledged.load(ordering: .relaxed),
                rateLimited: errors["rate_limited"] ?? 0, errorFrames: errors,
                deliveriesExpected: deliveries.expected, deliveriesReceived: deliveries.received, lost: deliveries.lost,
                duplicates: deliveries.duplicates, seqBreaks: deliveries.seqBreaks,
                unacknowledgedDeliveries: deliveries.unacknowledged,
                deliveriesPerSecond: window > 0 ? Double(deliveries.received) / window : 0,
                latencyP50Ms: ms(histogram.valueAtPercentile(50)), latencyP99Ms: ms(histogram.valueAtPercentile(99)),
                latencyMaxMs: ms(histogram.max), ackP50Ms: ms(acks.valueAtPercentile(50)), ackP99Ms: ms(acks.valueAtPercentile(99)),
                drainSeconds: sending.drain.seconds,
                serverCPUCores: sending.serverCores, clientCPUCores: sending.clientCores,
                openFileLimit: openFileLimit, failures: failures,
                instances: targets.count, postgresCPUCores: sending.postgresCores, otherCPUCores: sending.otherCores,
                crossInstanceDeliveries: targets.count > 1 ? Int(cross.totalCount) : nil,
                crossInstanceLatencyP50Ms: targets.count > 1 ? ms(cross.valueAtPercentile(50)) : nil,
                crossInstanceLatencyP99Ms: targets.count > 1 ? ms(cross.valueAtPercentile(99)) : nil)
            try report(result)
        }
        let troubled = !failures.isEmpty || tally.errorFrameCount.load(ordering: .relaxed) > 0 || deliveries.lost > 0
        if troubled && !servers.isEmpty {
            keepDirectory = true
            for server in servers { FileHandle.standardError.write(Data("a server's log: \(server.logFile.path)\n".utf8)) }
        }
    }

    /// Opens a connection for every member of `room`, a bounded number still connecting at any
    /// time, runs `body` once they have all joined, or opened without `joinOnConnect` (or failed,
    /// or none has for 30 s), then closes them all. Returns how long the connecting took.
    private static func withConnections(
        to room: ChatBenchRoom, targets: [(host: String, port: Int)], joinOnConnect: Bool, tally: ChatBenchTally,
        body: () async throws -> Void
    ) async throws -> Duration {
        var logger = Logger(label: "agora-bench-chat")
        logger.logLevel = .critical
        let clock = ContinuousClock()
        let start = clock.now
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            var launched = 0
            var progress = (settled: 0, at: clock.now)
            while true {
                let settled = tally.settledCount
                while launched < min(room.members.count, settled + connectingAtOnce) {
                    let (host, port) = targets[tally.instance(of: launched)]
                    let client = ChatBenchClient(index: launched, url: "ws://\(host):\(port)/ws?token=\(room.members[launched].accessToken)",
                                                 room: room.id, joinsOnConnect: joinOnConnect, tally: tally, logger: logger)
                    group.addTask {
                        await client.run()
                        return true
                    }
                    launched += 1
                }
                if settled == room.members.count { break }
                if settled > progress.settled {
                    progress = (settled, clock.now)
                } else if clock.now - progress.at > .seconds(30) {
                    tally.recordFailure("no connection settled for 30 s: \(room.members.count - settled) given up")
                    break
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            let connecting = clock.now - start

            try await body()

            await tally.closeAll()
            // Connections whose close is not answered in 10 s are cancelled.
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return false
            }
            var ended = 0
            while ended < launched, let isClient = try await group.next() {
                if isClient { ended += 1 } else { group.cancelAll() }
            }
            group.cancelAll()
            return connecting
        }
    }

    /// The sending phase as the benchmark saw it.
    struct SendingOutcome {
        /// When the first message was due (`NIODeadline` uptime).
        var firstSendNanos: UInt64
        /// How long after the last send the deliveries took to complete (or the drain limit).
        var drain: Duration
        /// The CPU the servers (summed) and this process used from the first send to the end of the drain.
        var serverCores: Double?
        var clientCores: Double?
        /// The same for the PostgreSQL server's processes, when the servers run on a local one.
        var postgresCores: Double?
        /// What the machine's other processes used meanwhile (it is shared).
        var otherCores: Double?
    }

    /// Runs the senders for `duration`, then waits up to `drain` for every acknowledged message to
    /// reach every connection that joined.
    private func send(tally: ChatBenchTally, room: Int64, serverStatuses: [ProcessStatus], clientStatus: ProcessStatus,
                      postmaster: Int32?) async throws -> SendingOutcome {
        let clock = ContinuousClock()
        let receivers = tally.joined.load(ordering: .relaxed)
        func serversCPU() -> Double? {
            let readings = serverStatuses.compactMap(\.cpuSeconds)
            return readings.isEmpty || readings.count < serverStatuses.count ? nil : readings.reduce(0, +)
        }
        func postgresCPU() -> Double? { postmaster.flatMap { ProcessStatus.cpuSeconds(ofTreeRootedAt: $0) } }
        let (serverCPU, clientCPU, databaseCPU, machineCPU) = (serversCPU(), clientStatus.cpuSeconds, postgresCPU(), ProcessStatus.machineBusySeconds)
        let interval = Duration.seconds(1 / rate)
        let start = clock.now + .milliseconds(100)
        let firstSendNanos = NIODeadline.now().uptimeNanoseconds + 100_000_000
        let messages = tally.messagesPerSender
        await withTaskGroup(of: Void.self) { group in
            for sender in 0..<tally.senders {
                guard let writer = tally.writer(of: sender) else {
                    tally.recordFailure("sender \(sender) has no connection")
                    continue
                }
                // Senders are spread evenly over the interval rather than all sending at once.
                let first = start + interval * Double(sender) / Double(tally.senders)
                group.addTask {
                    for counter in 0..<messages {
                        try? await Task.sleep(until: first + interval * counter, clock: .continuous)
                        let sentNanos = NIODeadline.now().uptimeNanoseconds
                        let frame = #"{"type":"send","room":\#(room),"body":"\#(sender):\#(counter):\#(sentNanos)","clientMsgId":"\#(sender):\#(counter)"}"#
                        // Recorded before the write: the ack may arrive before the write returns.
                        tally.recordSend(sender: sender, counter: counter, at: sentNanos)
                        do {
                            try await writer.write(.text(frame))
                        } catch {
                            tally.recordFailure("sender \(sender) could not write: \(error)")
                            return
                        }
                    }
                }
            }
        }
        let drainStart = clock.now
        while clock.now - drainStart < .seconds(drain) {
            let acknowledged = tally.acknowledged.load(ordering: .relaxed)
            let answered = acknowledged + tally.errorFrameCount.load(ordering: .relaxed) >= tally.sent.load(ordering: .relaxed)
            if answered && tally.deliveries.load(ordering: .relaxed) >= acknowledged * receivers { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let drained = clock.now - drainStart
        let elapsed = (clock.now - start).seconds
        func cores(_ before: Double?, _ after: Double?) -> Double? {
            guard let before, let after, elapsed > 0 else { return nil }
            return (after - before) / elapsed
        }
        let (serverCores, clientCores, postgresCores) = (cores(serverCPU, serversCPU()), cores(clientCPU, clientStatus.cpuSeconds),
                                                         cores(databaseCPU, postgresCPU()))
        let otherCores = cores(machineCPU, ProcessStatus.machineBusySeconds)
            .map { max(0, $0 - (serverCores ?? 0) - (clientCores ?? 0) - (postgresCores ?? 0)) }
        return SendingOutcome(firstSendNanos: firstSendNanos, drain: drained, serverCores: serverCores, clientCores: clientCores,
                              postgresCores: postgresCores, otherCores: otherCores)
    }

    /// Joins every open connection to `room`, as many joins unanswered at a time as connections
    /// connecting in `withConnections`, until all have joined or none has for 30 s.
    private static func joinAll(_ tally: ChatBenchTally, room: Int64) async throws {
        let writers = tally.openedWriters
        let join = ChatBenchClient.joinFrame(room: room)
        let clock = ContinuousClock()
        var sent = 0
        var progress = (joined: 0, at: clock.now)
        while progress.joined < writers.count {
            while sent < min(writers.count, progress.joined + connectingAtOnce) {
                try? await writers[sent].write(.text(join))
                sent += 1
            }
            try await Task.sleep(for: .milliseconds(5))
            let joined = tally.joined.load(ordering: .relaxed)
            if joined > progress.joined {
                progress = (joined, clock.now)
            } else if clock.now - progress.at > .seconds(30) {
                tally.recordFailure("no join answered for 30 s: \(writers.count - joined) connections not joined")
                return
            }
        }
    }

    /// Waits until no frame has arrived for a second (at most two minutes).
    private static func waitUntilQuiet(_ tally: ChatBenchTally) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        var last = (frames: tally.framesReceived.load(ordering: .relaxed), at: clock.now)
        while clock.now < deadline, clock.now - last.at < .seconds(1) {
            try await Task.sleep(for: .milliseconds(100))
            let frames = tally.framesReceived.load(ordering: .relaxed)
            if frames != last.frames { last = (frames, clock.now) }
        }
    }

    /// Raises this process's open-file limit to its hard limit (the server it starts inherits
    /// it) and returns the limit now in force.
    private static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 { _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) }
        }
        return Int(limit.rlim_cur)
    }

    private func report(_ result: some ChatBenchReport) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(result.text)
        }
    }
}
