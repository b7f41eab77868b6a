@testable import App
import Foundation
import HTTPTypes
// @testable for `TestResponse`'s initialiser, which HummingbirdTesting keeps internal: the API
// helpers speak `TestClientProtocol`, and here its answers come from nginx.
@testable import HummingbirdTesting
import Logging
import NIOCore
import PostgresTestSupport
import ProcessTestSupport
import Synchronization
import Testing

/// Several instances on one PostgreSQL behind nginx (issue 6): three real `agora serve` processes
/// and an nginx started from `deploy/nginx.conf`, all on loopback. Needs `AGORA_TEST_DATABASE_URL`
/// and nginx (`.ci/run` installs it); without either it prints why and passes without running.
@Suite("Several instances behind nginx", .serialized)
struct ClusterTests {
    @Test("three instances behind nginx: every chat message reaches every client once and in order, a job enqueued through one runs on any, and an instance killed with SIGKILL loses no message and no job")
    func threeInstancesBehindNginx() async throws {
        guard let nginx = Nginx.executable else {
            print("Cluster test skipped: nginx is not installed (apt-get install nginx)")
            return
        }
        let ran: Void? = try await PostgresTestServer.withDatabase(prefix: "agora_cluster") { url in
            try await Cluster.run(instances: 3, nginx: nginx, databaseURL: url) { cluster, api in
                try await Self.scenario(cluster, api)
            }
        }
        if ran == nil { print("Cluster test skipped: AGORA_TEST_DATABASE_URL is unset") }
    }

    static func scenario(_ cluster: Cluster, _ api: API) async throws {
        // HTTP is balanced over the three instances.
        for _ in 0..<6 { #expect(try await api.get("/healthz").status == .ok) }
        // (nginx logs a request just after answering it.)
        #expect(await eventually(within: 10) { cluster.proxy.upstreams(of: "GET /healthz") == Set(cluster.instancePorts) },
                "\(cluster.proxy.accessLog)")

        // Users signed up and logged in through nginx (each request may land elsewhere), in a
        // room, with six sockets: nginx's round-robin puts two on each instance.
        var users: [TestUser] = []
        for _ in 0..<4 { users.append(try await api.user()) }
        let room = try await api.room(by: users[0])
        var clients: [ResumingChatClient] = []
        for k in 0..<6 {
            let client = ResumingChatClient(name: "c\(k)", port: cluster.proxy.port, token: users[k % users.count].accessToken, room: room)
            try await client.connect()
            clients.append(client)
        }

        // Everyone sends at once; everyone sees all of it, in seq order, once.
        try await sendConcurrently(from: clients, count: 5, tag: "a", pause: .zero)
        await expectEveryoneSawEverything(clients, api: api, room: room)

        // A job enqueued through one instance (the export of a user's data) is run by a worker of
        // any, and its file is served by any (the data directory is shared).
        let exporter = users[1]
        let started = try await api.post("/api/users/me/export", [:], token: exporter.accessToken)
        #expect(started.status == .accepted, "\(started.body)")
        let exportID = try #require(started.json["exportId"].int64, "\(started.body)")
        #expect(try await eventually(within: 60) {
            try await api.get("/api/exports/\(exportID)", token: exporter.accessToken).json["status"].string == "ready"
        })
        let archive = try await api.get("/api/exports/\(exportID)/file", token: exporter.accessToken)
        #expect(archive.status == .ok && archive.body.hasPrefix("PK"), "the export is a ZIP: \(archive.status)")

        // Mid-traffic (chat on every socket, probe jobs on every worker), one instance is killed.
        let probes = 600
        _ = try await api.services.queue.enqueue(batch: Array(repeating: QueueProbeJob(workMillis: 20), count: probes))
        let sending = Task { [clients] in try await sendConcurrently(from: clients, count: 20, tag: "b", pause: .milliseconds(40)) }
        let victim = cluster.instances[1]
        let midway = try await eventually(within: 60) {
            let acknowledged = await clients.asyncMap { await $0.acknowledged.count }.reduce(0, +)
            let effects = try await api.count("queue_probe_effects", where: "TRUE")
            return acknowledged >= 30 + 40 && effects >= probes / 5
        }
        #expect(midway, "traffic under way before the kill")
        let runningAtKill = try await api.count("queue_jobs", where: "state = 'running'")
        try await victim.kill()
        print("Cluster test: killed the instance on port \(victim.port) with \(runningAtKill) jobs running in the cluster")
        try await sending.value

        // Its clients came back through nginx on the other instances, and nobody missed anything.
        let reconnected = await clients.asyncMap { await $0.reconnects }.reduce(0, +)
        #expect(reconnected >= 1, "the killed instance's clients reconnected")
        await expectEveryoneSawEverything(clients, api: api, room: room)
        let messages = await clients.asyncMap { await $0.acknowledged.count }.reduce(0, +)
        print("Cluster test: \(messages) messages, each seen by \(clients.count) clients; \(reconnected) reconnected after the kill")

        // No job was lost: the killed worker's leases were reclaimed by the others, and every
        // effect applied once.
        let drained = try await eventually(within: 90) {
            try await api.count("queue_jobs", where: "kind = '\(QueueProbeJob.name)' AND state = 'completed'") == probes
        }
        #expect(drained, "every probe job completed")
        #expect(try await api.count("queue_probe_effects", where: "TRUE") == probes)
        #expect(try await api.count("queue_jobs", where: "kind = '\(QueueProbeJob.name)' AND state <> 'completed'") == 0)
        let reclaimed = try await api.count("queue_jobs", where: "kind = '\(QueueProbeJob.name)' AND errors LIKE '%lease expired%'")
        print("Cluster test: \(reclaimed) probe jobs were reclaimed from the killed instance")
        // Nothing anywhere in the cluster died, as the admin queue API reports it.
        let admin = try await api.admin()
        let dead = try await api.get("/api/admin/jobs?state=dead&limit=100", token: admin.accessToken)
        #expect(dead.status == .ok && dead.json["items"].array.isEmpty, "dead jobs: \(dead.body)")

        // nginx stopped sending to the dead instance; the two others answer everything.
        for _ in 0..<6 { #expect(try await api.get("/healthz").status == .ok) }
        for client in clients { await client.close() }
        #expect(await eventually(within: 10) { cluster.proxy.upstreams(of: "GET /ws") == Set(cluster.instancePorts) },
                "sockets landed on every instance: \(cluster.proxy.accessLog)")
    }

    /// Each client sends `count` messages, one after the other once the previous one is
    /// acknowledged; the clients send at the same time.
    static func sendConcurrently(from clients: [ResumingChatClient], count: Int, tag: String, pause: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    for n in 1...count {
                        try await client.send("\(client.name) \(tag)\(n)", clientMsgId: "\(client.name)-\(tag)\(n)")
                        if pause > .zero { try await Task.sleep(for: pause) }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Every client saw seqs 1…N exactly once and in order, N being every message acknowledged to
    /// anyone, each with the seq its sender's ack gave it; the room stores each message once.
    static func expectEveryoneSawEverything(_ clients: [ResumingChatClient], api: API, room: Int64,
                                            sourceLocation: SourceLocation = #_sourceLocation) async {
        var acknowledged: [String: Int64] = [:]
        for client in clients { acknowledged.merge(await client.acknowledged) { first, _ in first } }
        let total = Int64(acknowledged.count)
        let everySeq = Array(stride(from: Int64(1), through: total, by: 1))
        #expect(acknowledged.values.sorted() == everySeq, "acks: \(acknowledged.values.sorted())", sourceLocation: sourceLocation)
        let delivered = await ResumingChatClient.waitUntilEverySees(upTo: total, clients)
        #expect(delivered, "every client saw seq \(total)", sourceLocation: sourceLocation)
        for client in clients {
            let seen = await client.messages
            let seqs = seen.compactMap { $0["seq"].int64 }
            #expect(seqs == everySeq, "\(client.name) saw \(seqs.count) of \(total): \(seqs)", sourceLocation: sourceLocation)
            let bySender = Dictionary(seen.compactMap { frame in frame["clientMsgId"].string.map { ($0, frame["seq"].int64 ?? -1) } }) { first, _ in first }
            #expect(bySender == acknowledged, "\(client.name): each message has its acknowledged seq", sourceLocation: sourceLocation)
        }
        let stored = try? await api.count("chat_messages", where: "room_id = \(room)")
        #expect(stored == Int(total), "the room stores each message once, resends included", sourceLocation: sourceLocation)
    }
}

/// A chat user's socket through nginx that outlives the instance behind it: when the socket drops
/// it connects again (nginx picks a live instance), rejoins with `since` = the last seq it saw and
/// resends what was not acknowledged (the same `clientMsgId`, so it is stored once).
actor ResumingChatClient {
    nonisolated let name: String
    let port: Int
    let token: String
    let room: Int64
    private var socket: (client: ChatTestClient, dropped: Flag)?
    /// The messages of the sockets before the current one, in the order they came.
    private var earlier: [JSON] = []
    /// The seq of every message of this client's, by `clientMsgId`, as its acks gave it.
    private(set) var acknowledged: [String: Int64] = [:]
    private(set) var reconnects = 0

    init(name: String, port: Int, token: String, room: Int64) {
        self.name = name
        self.port = port
        self.token = token
        self.room = room
    }

    /// Every message frame of the room this client has seen, over all its sockets.
    var messages: [JSON] {
        earlier + (socket?.client.frames ?? []).filter { $0["type"].string == "message" && $0["room"].int64 == room }
    }

    /// Connects and joins the room from its first message.
    func connect() async throws {
        try await reconnectIfDropped()
    }

    /// Stores `body` and waits for its ack, reconnecting and resending as long as it takes (up to a minute).
    func send(_ body: String, clientMsgId: String) async throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            try await reconnectIfDropped()
            guard let current = socket else { continue }
            let (client, dropped) = current
            try client.send(["type": "send", "room": room, "body": body, "clientMsgId": clientMsgId])
            // No ack within 15 s on a live socket: send again, the server stores it once.
            let waitUntil = Date().addingTimeInterval(15)
            while Date() < waitUntil, !dropped.isSet {
                if let ack = client.frames.first(where: { $0["type"].string == "ack" && $0["clientMsgId"].string == clientMsgId }),
                   let seq = ack["seq"].int64 {
                    acknowledged[clientMsgId] = seq
                    return
                }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        throw ClusterTestError("\(name): \(clientMsgId) was never acknowledged")
    }

    /// Replaces a socket that dropped (or opens the first): a new one through nginx, joined with
    /// `since` = the last seq seen.
    func reconnectIfDropped() async throws {
        if let socket, !socket.dropped.isSet { return }
        if let socket {
            _ = try? await socket.client.close()
            earlier = messages
            self.socket = nil
            reconnects += 1
        }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let client = ChatTestClient(port: port, token: token)
            let dropped = Flag()
            Task {
                _ = try? await client.closedByServer()
                dropped.set()
            }
            try client.send(["type": "join", "room": room, "since": earlier.last?["seq"].int64 ?? 0])
            let joinedBy = Date().addingTimeInterval(15)
            while Date() < joinedBy, !dropped.isSet {
                if client.frames.contains(where: { $0["type"].string == "joined" && $0["room"].int64 == room }) {
                    socket = (client, dropped)
                    return
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            _ = try? await client.close()
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ClusterTestError("\(name) could not rejoin through nginx")
    }

    /// Closes the socket from this side.
    func close() async {
        if let socket { _ = try? await socket.client.close() }
    }

    /// Waits until every client has seen seq `total`, reconnecting those whose socket dropped;
    /// gives up when 20 s pass without anyone seeing a new message (or after 3 minutes).
    static func waitUntilEverySees(upTo total: Int64, _ clients: [ResumingChatClient]) async -> Bool {
        var seen = -1
        var progressed = Date()
        let limit = Date().addingTimeInterval(180)
        while Date() < limit, Date().timeIntervalSince(progressed) < 20 {
            var count = 0
            var done = true
            for client in clients {
                try? await client.reconnectIfDropped()
                let messages = await client.messages
                count += messages.count
                done = done && (messages.last?["seq"].int64 ?? 0) >= total
            }
            if done { return true }
            if count > seen { (seen, progressed) = (count, Date()) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

/// Set once, read from anywhere.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

struct ClusterTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The processes of one test: `agora serve` instances and nginx, each with its log in `directory`.
final class Cluster: Sendable {
    let directory: URL
    let instances: [Instance]
    let proxy: Nginx
    var instancePorts: [Int] { instances.map(\.port) }

    private init(directory: URL, instances: [Instance], proxy: Nginx) {
        self.directory = directory
        self.instances = instances
        self.proxy = proxy
    }

    /// Starts `count` instances on `databaseURL` with one shared data directory (at once, so that
    /// they race for the migrations and the key files as a real deployment does) and nginx in
    /// front, opens the services on the same database and data directory in this process (to
    /// arrange what the API cannot, such as a verified email), and runs `body` with an `API` whose
    /// every request goes through nginx. Every process started is killed afterwards, also when
    /// `body` throws, and the directory removed.
    static func run(instances count: Int, nginx executable: URL, databaseURL: String,
                    _ body: (Cluster, API) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agora-cluster-\(UUID().uuidString)")
        let dataDirectory = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let processes = Processes()
        defer {
            processes.stopAll()
            try? FileManager.default.removeItem(at: directory)
        }
        var launched: [ChildProcess] = []
        for k in 1...count {
            launched.append(try processes.launch(AgoraProcess.executable, [
                "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory.path, "--database-url", databaseURL,
            ], environment: Instance.environment, log: directory.appendingPathComponent("agora-\(k).log")))
        }
        var instances: [Instance] = []
        for (k, process) in launched.enumerated() {
            let log = directory.appendingPathComponent("agora-\(k + 1).log")
            instances.append(Instance(process: process, port: try await Instance.waitForPort(of: process, in: log), log: log))
        }
        let proxy = try await Nginx.start(executable, in: directory.appendingPathComponent("nginx"),
                                          upstreams: instances.map(\.port), processes: processes)
        let cluster = Cluster(directory: directory, instances: instances, proxy: proxy)

        var logger = Logger(label: "cluster-test")
        logger.logLevel = .warning
        let services = try await AgoraServices.open(settings: testSettings {
            $0.dataDirectory = dataDirectory.path
            $0.databaseURL = databaseURL
            $0.postgresConnections = 4
        }, logger: logger)
        do {
            try await body(cluster, API(client: ProxiedClient(port: proxy.port), services: services))
        } catch {
            print("Cluster test failed (\(error)); the logs' last lines:\n" + cluster.logTails())
            try? await services.close()
            throw error
        }
        try await services.close()
    }

    func logTails() -> String {
        (instances.map(\.log) + [proxy.prefix.appendingPathComponent("error.log")]).map { log in
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return "== \(log.lastPathComponent)\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// One `agora serve` of the cluster.
struct Instance: Sendable {
    let process: ChildProcess
    let port: Int
    let log: URL

    /// Short leases, so that a killed instance's jobs are reclaimed within the test; send limits
    /// no test client reaches, since resends after a reconnect come in a burst.
    static let environment = [
        "AGORA_BCRYPT_COST": "4", "AGORA_LOG_LEVEL": "warning", "AGORA_TRUST_FORWARDED_FOR": "true",
        "AGORA_QUEUE_LEASE_MILLIS": "2000", "AGORA_WORKER_SHUTDOWN_GRACE_MILLIS": "1000",
        "AGORA_POSTGRES_CONNECTIONS": "10", "AGORA_POSTGRES_ACQUIRE_TIMEOUT_MILLIS": "30000",
        "AGORA_CHAT_FRAMES_PER_SECOND": "1000", "AGORA_CHAT_FRAMES_BURST": "1000",
    ]

    /// The port `agora serve --port 0` printed in its log, waiting up to a minute.
    static func waitForPort(of process: ChildProcess, in log: URL) async throws -> Int {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
               let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                return port
            }
            guard process.isRunning else { throw ClusterTestError("agora serve exited: \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ClusterTestError("agora serve printed no URL within 60 s")
    }

    /// SIGKILL, and waits for the process to be gone.
    func kill() async throws {
        process.signal(SIGKILL)
        let process = self.process
        try await offCooperativePool { process.wait() }
    }
}

/// nginx from `deploy/nginx.conf`, as an ordinary process in the foreground: its pid file, logs
/// and temporary files in `prefix`, listening on a loopback port of its own.
struct Nginx: Sendable {
    let prefix: URL
    let port: Int

    /// nginx on the PATH or where Debian puts it (/usr/sbin is not on an ordinary user's PATH).
    static var executable: URL? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (path + ["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"])
            .map { URL(fileURLWithPath: $0).appendingPathComponent("nginx") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// The repository's `deploy/nginx.conf`.
    static let configuration = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/nginx.conf")

    /// Writes the configuration into `prefix` (as deploy/cluster.sh does), starts nginx on a free
    /// port and waits for it to answer; a port taken meanwhile is tried again with another.
    static func start(_ executable: URL, in prefix: URL, upstreams: [Int], processes: Processes) async throws -> Nginx {
        try FileManager.default.createDirectory(at: prefix, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: configuration, to: prefix.appendingPathComponent("nginx.conf"))
        try upstreams.map { "server 127.0.0.1:\($0) max_fails=1 fail_timeout=5s;\n" }.joined()
            .write(to: prefix.appendingPathComponent("upstreams.conf"), atomically: true, encoding: .utf8)
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            try "listen 127.0.0.1:\(port);\n".write(to: prefix.appendingPathComponent("listen.conf"), atomically: true, encoding: .utf8)
            let errorLog = prefix.appendingPathComponent("error.log").path
            let process = try processes.launch(executable, ["-p", prefix.path, "-c", prefix.appendingPathComponent("nginx.conf").path,
                                                            "-e", errorLog, "-g", "daemon off;"],
                                               environment: [:], log: prefix.appendingPathComponent("stderr.log"))
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning, Date() < deadline {
                if (try? await ProxiedClient(port: port).executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil))?.status == .ok {
                    return Nginx(prefix: prefix, port: port)
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let log = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
            guard !process.isRunning, log.contains("Address already in use") else {
                throw ClusterTestError("nginx did not answer on port \(port): \(log)")
            }
        }
        throw ClusterTestError("nginx found no free port")
    }

    var accessLog: String {
        (try? String(contentsOf: prefix.appendingPathComponent("access.log"), encoding: .utf8)) ?? ""
    }

    /// The instances' ports that answered `request` ("GET /ws"), from the access log (the last
    /// one tried, when nginx moved on from a dead one).
    func upstreams(of request: String) -> Set<Int> {
        Set(accessLog.split(separator: "\n").filter { $0.contains("\"\(request)\"") }.compactMap { line in
            line.firstRange(of: "upstream=").map { line[$0.upperBound...] }?.split(separator: " upstream_status=").first?
                .split(separator: ", ").last?.split(separator: ":").last.flatMap { Int($0) }
        })
    }
}

/// The processes a test started, each killed by its PID at the end (nginx with SIGTERM, which
/// stops its workers too; Agora with SIGKILL: its database is dropped next).
final class Processes: Sendable {
    private let started = Mutex<[(process: ChildProcess, nginx: Bool)]>([])

    /// Starts `executable` with the environment without `AGORA_*` plus `environment`, its output
    /// appended to `log`.
    func launch(_ executable: URL, _ arguments: [String], environment: [String: String], log: URL) throws -> ChildProcess {
        let process = try ChildProcess(
            executable.path, arguments,
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AGORA_") }.merging(environment) { $1 },
            output: .file(log.path))
        started.withLock { $0.append((process, executable.lastPathComponent == "nginx")) }
        return process
    }

    func stopAll() {
        for (process, nginx) in started.withLock({ $0 }) where process.isRunning {
            process.signal(nginx ? SIGTERM : SIGKILL)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            if process.isRunning { process.signal(SIGKILL) }
            process.wait()
        }
    }
}

/// `TestClientProtocol` over real connections to nginx: one per request, so that nginx balances
/// each request on its own, and none is left for it to close under the client.
struct ProxiedClient: TestClientProtocol {
    let proxyPort: Int
    var port: Int? { proxyPort }

    init(port: Int) {
        proxyPort = port
    }

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        try await TestClient.withClient(host: "127.0.0.1", port: proxyPort, configuration: .init(timeout: .seconds(60))) { client in
            let response = try await client.execute(.init(uri, method: method, authority: "127.0.0.1", headers: headers, body: body))
            return TestResponse(head: response.head, body: response.body ?? ByteBuffer(), trailerHeaders: response.trailerHeaders)
        }
    }
}

extension Array {
    /// `map` with an asynchronous transform, one element after the other.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
