import App
import ArgumentParser
import Foundation
import Histogram
import Logging
import NIOCore
import Synchronization

/// `agora bench signups`: load levelling. A burst of concurrent sign-ups against a server of its
/// own (the release build), each of which queues a verification mail; measures the sign-up
/// latency while the mail queue drains, then checks that exactly one mail reached each address —
/// optionally with the server killed (SIGKILL) halfway through the drain and restarted.
struct SignupBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signups",
        abstract: "Measure a burst of sign-ups and the drain of their verification mail (load levelling).")

    @Option(help: "Sign-ups to send.")
    var users = 10_000

    @Option(help: "Sign-ups in flight at once.")
    var concurrency = 256

    @Option(help: "bcrypt cost of the server under test (its default is 10); bcrypt runs in queued jobs, after the answer.")
    var bcryptCost = 4

    @Flag(help: "Kill the server with SIGKILL when half the mail is written, then restart it.")
    var killDuringDrain = false

    @Option(help: "Directory for the server's data (default: a fresh temporary one, deleted afterwards).")
    var dataDir: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard users > 0, concurrency > 0, (4...31).contains(bcryptCost) else {
            throw ValidationError("--users and --concurrency must be positive, --bcrypt-cost 4…31")
        }
    }

    struct Result: Encodable {
        var users: Int
        var concurrency: Int
        var bcryptCost: Int
        var created: Int
        var otherStatuses: [String: Int]
        var retriedAfterKill: Int
        var signupSeconds: Double
        var signupsPerSecond: Double
        var latencyP50Ms: Double
        var latencyP99Ms: Double
        var latencyMaxMs: Double
        var mailsWrittenWhenBurstEnded: Int
        var drainSeconds: Double
        var killed: Bool
        var mailFiles: Int
        var addressesWithMail: Int
        var addressesWithoutMail: Int
        var mailsSent: Int
        var duplicateSends: Int
        /// Mail jobs that ran more than once (a run lost to the kill, its lease rescued): the most
        /// mails that can have gone out twice.
        var mailJobsRunAgain: Int
    }

    func run() async throws {
        let directory = dataDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("agora-bench-signups-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if dataDir == nil { try? FileManager.default.removeItem(at: directory) } }
        let server = BenchServer(dataDirectory: directory, environment: [
            "AGORA_BCRYPT_COST": "\(bcryptCost)", "AGORA_LOG_LEVEL": "info",
        ])
        let outbox = directory.appendingPathComponent("outbox")
        try await server.start()
        defer { server.stop() }

        let tally = Tally(port: server.port)
        let clock = ContinuousClock()
        let users = self.users, killDuringDrain = self.killDuringDrain, concurrency = self.concurrency

        // The kill happens from its own task, once half the mail is written.
        let killer = Task {
            guard killDuringDrain else { return false }
            while !Task.isCancelled {
                if Self.count(outbox) >= users / 2 {
                    server.kill()
                    try await server.start()
                    tally.port.store(server.port, ordering: .relaxed)
                    return true
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            return false
        }

        // Every connection is opened and used once before the burst, as a client pool in front of
        // a server would hold them: the burst measures sign-ups, not TCP handshakes and first uses.
        let burstStart = try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var connection = try await BenchHTTPConnection(host: "127.0.0.1", port: tally.port.load(ordering: .relaxed))
                    _ = try await connection.send(.GET, "/healthz")
                    tally.ready.add(1, ordering: .relaxed)
                    while tally.ready.load(ordering: .relaxed) < concurrency { try await Task.sleep(for: .milliseconds(1)) }
                    let start = clock.now
                    while true {
                        let n = tally.next.add(1, ordering: .relaxed).oldValue
                        guard n < users else { break }
                        let body = #"{"email":"bench-\#(n)@example.com","password":"bench password \#(n)","nickname":"bench-\#(n)"}"#
                        while true {
                            let sent = clock.now
                            do {
                                let answer = try await connection.send(.POST, "/api/auth/signup", json: body)
                                let elapsed = clock.now - sent
                                // 409: the account was committed before a kill cut off its answer.
                                if answer.status == 409 && tally.retries.load(ordering: .relaxed) > 0 {
                                    tally.statuses.withLock { $0[201, default: 0] += 1 }
                                    break
                                }
                                tally.latencies.withLock { _ = $0.record(UInt64(elapsed.seconds * 1e9)) }
                                tally.statuses.withLock { $0[answer.status, default: 0] += 1 }
                                break
                            } catch where killDuringDrain {
                                // The server is being killed and restarted: send it again.
                                tally.retries.add(1, ordering: .relaxed)
                                await connection.close()
                                try await Task.sleep(for: .milliseconds(50))
                                if let fresh = try? await BenchHTTPConnection(host: "127.0.0.1", port: tally.port.load(ordering: .relaxed)) {
                                    connection = fresh
                                }
                            }
                        }
                    }
                    await connection.close()
                    return start
                }
            }
            var first = clock.now
            for try await start in group { first = min(first, start) }
            return first
        }
        let burst = clock.now - burstStart
        let writtenWhenBurstEnded = Self.count(outbox)

        let drainStart = clock.now
        while Self.count(outbox) < users, clock.now - drainStart < .seconds(600) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let drain = clock.now - drainStart
        killer.cancel()
        let killed = (try? await killer.value) ?? false
        // A graceful stop, so that every log line is written.
        server.stop()

        let addresses = try Self.recipients(in: outbox)
        let rerun = try await Self.mailJobsRunAgain(dataDirectory: directory)
        let sends = try Self.sentMessageIDs(in: server.logFile)
        let expected = Set((0..<users).map { "bench-\($0)@example.com" })
        let histogram = tally.latencies.withLock { $0 }
        let statusCounts = tally.statuses.withLock { $0 }
        func ms(_ nanos: UInt64) -> Double { Double(nanos) / 1_000_000 }
        let result = Result(
            users: users, concurrency: concurrency, bcryptCost: bcryptCost, created: statusCounts[201] ?? 0,
            otherStatuses: Dictionary(uniqueKeysWithValues: statusCounts.filter { $0.key != 201 }.map { ("\($0.key)", $0.value) }),
            retriedAfterKill: tally.retries.load(ordering: .relaxed),
            signupSeconds: burst.seconds, signupsPerSecond: Double(users) / burst.seconds,
            latencyP50Ms: ms(histogram.valueAtPercentile(50)), latencyP99Ms: ms(histogram.valueAtPercentile(99)),
            latencyMaxMs: ms(histogram.max),
            mailsWrittenWhenBurstEnded: writtenWhenBurstEnded, drainSeconds: drain.seconds, killed: killed,
            mailFiles: Self.count(outbox), addressesWithMail: addresses.intersection(expected).count,
            addressesWithoutMail: expected.subtracting(addresses).count,
            mailsSent: sends.count, duplicateSends: sends.count - Set(sends).count, mailJobsRunAgain: rerun)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print("""
                sign-ups : \(result.created)/\(users) answered 201 \(result.otherStatuses.isEmpty ? "" : "(others: \(result.otherStatuses)) ")\
                in \(String(format: "%.1f", burst.seconds)) s = \(Int(result.signupsPerSecond))/s, \(concurrency) at a time, bcrypt cost \(bcryptCost)
                latency  : p50 \(String(format: "%.1f", result.latencyP50Ms)) ms, p99 \(String(format: "%.1f", result.latencyP99Ms)) ms, \
                max \(String(format: "%.1f", result.latencyMaxMs)) ms
                mail     : \(writtenWhenBurstEnded) written when the burst ended; the rest drained in \(String(format: "%.1f", drain.seconds)) s\
                \(killed ? " (server killed with SIGKILL at half and restarted; \(result.retriedAfterKill) sign-ups resent)" : "")
                check    : \(result.mailFiles) mail files, \(result.addressesWithMail) addresses with mail, \
                \(result.addressesWithoutMail) without; \(result.mailsSent) sends logged, \(result.duplicateSends) duplicate sends; \
                \(rerun) mail jobs ran more than once
                """)
        }
    }

    /// What the sign-up tasks share.
    final class Tally: Sendable {
        let next = Atomic<Int>(0)
        let retries = Atomic<Int>(0)
        let latencies = Mutex(Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three))
        let statuses = Mutex<[Int: Int]>([:])
        /// Connections opened and ready for the burst.
        let ready = Atomic<Int>(0)
        /// The server's port, which changes when it is restarted.
        let port: Atomic<Int>
        init(port: Int) { self.port = Atomic(port) }
    }

    /// Mail jobs whose attempt count shows a second run.
    static func mailJobsRunAgain(dataDirectory: URL) async throws -> Int {
        var settings = AppSettings()
        settings.dataDirectory = dataDirectory.path
        var logger = Logger(label: "agora-bench")
        logger.logLevel = .error
        let services = try await AgoraServices.open(settings: settings, logger: logger)
        var count = 0
        var before: Int64?
        do {
            while true {
                let page = try await services.queue.driver.jobs(in: nil, queue: SendMailJob.queue, before: before, limit: 1_000)
                count += page.filter { $0.kind == SendMailJob.name && $0.attempt > 1 }.count
                guard let last = page.last, page.count == 1_000 else { break }
                before = last.id
            }
        } catch {
            try? await services.close()
            throw error
        }
        try await services.close()
        return count
    }

    static func count(_ directory: URL) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".eml") }.count
    }

    /// The `To` address of every mail in the outbox.
    static func recipients(in directory: URL) throws -> Set<String> {
        var addresses = Set<String>()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".eml") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            if let match = text.firstMatch(of: /\r\nTo: [^\r]*?<?([^<>\s]+@[^<>\s]+)>?\r\n/) { addresses.insert(String(match.1)) }
        }
        return addresses
    }

    /// The Message-ID of every send the server logged, in order (a retried send appears twice).
    static func sentMessageIDs(in log: URL) throws -> [String] {
        try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("mail sent") }
            .compactMap { line in line.firstMatch(of: /mail\.id=(\S+)/).map { String($0.1) } }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
