import Configuration
import Foundation
import Logging
import Mail
import Realtime

/// Every setting Agora reads, typed, read once at start-up and passed down.
///
/// Values come from a `ConfigReader` (command-line flags, `AGORA_*` environment variables,
/// an optional `.env` file); nothing deeper in the code reads the environment.
public struct AppSettings: Sendable {
    /// Address the HTTP server binds to.
    public var host: String = "127.0.0.1"
    /// Port the HTTP server binds to (0 picks a free port).
    public var port: Int = 8080
    /// Directory holding the embedded database and generated keys.
    public var dataDirectory: String = "./agora-data"
    /// Minimum log level.
    public var logLevel: Logger.Level = .info

    /// bcrypt work factor for new password hashes.
    public var bcryptCost: Int = 10
    /// HMAC secret for access tokens; when nil a random key is generated and kept in the data directory.
    public var jwtSecret: String?
    /// The secret mixed into every password verifier; when nil a random one is generated and kept
    /// in the data directory (`pepper.key`). Every instance on one database needs the same.
    public var passwordPepper: String?
    /// Lifetime of an access token.
    public var accessTokenLifetime: Duration = .seconds(15 * 60)
    /// Lifetime of a refresh token.
    public var refreshTokenLifetime: Duration = .seconds(30 * 24 * 3600)
    /// Failed logins allowed per email within `loginFailureWindow`.
    public var maxLoginFailuresPerEmail: Int = 5
    /// Failed logins allowed per client address within `loginFailureWindow`.
    public var maxLoginFailuresPerAddress: Int = 20
    /// The window over which failed logins are counted.
    public var loginFailureWindow: Duration = .seconds(15 * 60)
    /// Trust the first address of `X-Forwarded-For` as the client address (only behind a proxy you run).
    public var trustForwardedFor: Bool = false

    /// Post categories a client may choose from; the first is the default.
    public var categories: [String] = ["general"]
    /// Largest JSON request body accepted, in bytes.
    public var maxJSONBodyBytes: Int = 1 << 20
    /// Largest upload accepted (`POST /api/uploads`), in bytes.
    public var maxUploadBytes: Int = 20 << 20
    /// Origins allowed by CORS; empty means same origin only (CORS off).
    public var corsAllowedOrigins: [String] = []

    /// Whether posts, comments, likes, follows and uploads need a verified email address.
    public var requireVerifiedEmail: Bool = true
    /// `smtp://user:pass@host:port` or `smtps://…`; nil writes mail into `<data dir>/outbox` instead.
    public var smtpURL: String?
    /// A PEM file of certificates to trust for the SMTP server's TLS (a private CA); nil trusts the system's roots.
    public var smtpCAFile: String?
    /// The sender of Agora's mail.
    public var mailFrom: MailAddress = MailAddress("no-reply@agora.local", name: "Agora")
    /// How often buffered post views are written to the database.
    public var viewFlushInterval: Duration = .seconds(1)

    /// Read-only SQLite connections beside the single writer.
    public var sqliteReaders: Int = 2

    /// A `postgres://` URL puts the data, the queue and the chat on that PostgreSQL server
    /// (several instances may share it); nil keeps the embedded SQLite in the data directory.
    public var databaseURL: String?
    /// Connections each instance keeps to PostgreSQL at most.
    public var postgresConnections: Int = 20
    /// How long a request waits for a PostgreSQL connection before it fails with 503.
    public var postgresAcquireTimeout: Duration = .seconds(5)
    /// On PostgreSQL, how long after an instance's last heartbeat the others count it as
    /// stopped, and its chat users as offline (they heartbeat every third of it).
    public var chatInstanceTimeout: Duration = .seconds(15)

    /// Posts kept in memory for `GET /api/posts/{id}`; 0 turns the cache off.
    public var postCacheEntries: Int = 10_000

    /// The chat WebSocket's limits: frame size, pings, message size and send rate (docs/CHAT.md).
    public var chatSocket = ChatSocket.Configuration()
    /// The chat hub's presence grace and outbound queue bound.
    public var chatHub = ChatHub.Configuration()

    /// Whether `agora serve` runs queue workers in its own process.
    public var runWorkers: Bool = true
    /// The queues a worker runs; empty means every queue the app registers jobs on.
    public var workerQueues: [String] = []
    /// Jobs run at once, per queue.
    public var workerConcurrency: Int = 10
    /// How long a claimed job is leased without a heartbeat; a crashed worker's jobs run again after it.
    public var queueLeaseDuration: Duration = .seconds(30)
    /// How often idle workers look for jobs enqueued by other processes.
    public var queuePollInterval: Duration = .seconds(1)
    /// On shutdown, how long running jobs may finish before they are cancelled and released.
    public var workerShutdownGrace: Duration = .seconds(10)
    /// Completed jobs are kept this long, then pruned.
    public var queueKeepFinished: Duration = .seconds(24 * 3600)

    public init() {}

    /// Reads settings from `config`, falling back to the defaults above for anything unset.
    ///
    /// Keys are relative to the `agora` scope, so `port` is `--port` on the command line and
    /// `AGORA_PORT` in the environment.
    public init(config: ConfigReader) {
        let defaults = AppSettings()
        host = config.string(forKey: "host", default: defaults.host)
        port = config.int(forKey: "port", default: defaults.port)
        dataDirectory = config.string(forKey: "data.dir", default: defaults.dataDirectory)
        logLevel = Logger.Level(rawValue: config.string(forKey: "log.level", default: "info")) ?? defaults.logLevel
        bcryptCost = config.int(forKey: "bcrypt.cost", default: defaults.bcryptCost)
        jwtSecret = config.string(forKey: "jwt.secret", isSecret: true)
        passwordPepper = config.string(forKey: "password.pepper", isSecret: true)
        accessTokenLifetime = .seconds(config.int(forKey: "access.token.seconds", default: 15 * 60))
        refreshTokenLifetime = .seconds(config.int(forKey: "refresh.token.seconds", default: 30 * 24 * 3600))
        maxLoginFailuresPerEmail = config.int(forKey: "login.max.failures.per.email", default: defaults.maxLoginFailuresPerEmail)
        maxLoginFailuresPerAddress = config.int(forKey: "login.max.failures.per.address", default: defaults.maxLoginFailuresPerAddress)
        loginFailureWindow = .seconds(config.int(forKey: "login.failure.window.seconds", default: 15 * 60))
        trustForwardedFor = config.bool(forKey: "trust.forwarded.for", default: false)
        categories = Self.list(config.string(forKey: "categories")) ?? defaults.categories
        maxJSONBodyBytes = config.int(forKey: "max.json.body.bytes", default: defaults.maxJSONBodyBytes)
        maxUploadBytes = max(1, config.int(forKey: "upload.max.bytes", default: defaults.maxUploadBytes))
        corsAllowedOrigins = Self.list(config.string(forKey: "cors.origins")) ?? []
        postCacheEntries = max(0, config.int(forKey: "post.cache.entries", default: defaults.postCacheEntries))
        chatSocket.pingInterval = .seconds(max(1, config.int(forKey: "chat.ping.seconds", default: 30)))
        chatSocket.limits.perSecond = Double(max(1, config.int(forKey: "chat.frames.per.second", default: 20)))
        chatSocket.limits.burst = max(1, config.int(forKey: "chat.frames.burst", default: 40))
        chatHub.presenceGrace = .milliseconds(max(0, config.int(forKey: "chat.presence.grace.millis", default: 5_000)))
        chatHub.outboundQueueLimit = max(1, config.int(forKey: "chat.outbound.queue", default: 1_024))
        sqliteReaders = max(1, config.int(forKey: "sqlite.readers", default: defaults.sqliteReaders))
        databaseURL = config.string(forKey: "database.url", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        postgresConnections = max(2, config.int(forKey: "postgres.connections", default: defaults.postgresConnections))
        postgresAcquireTimeout = .milliseconds(max(1, config.int(forKey: "postgres.acquire.timeout.millis", default: 5_000)))
        chatInstanceTimeout = .milliseconds(max(300, config.int(forKey: "chat.instance.timeout.millis", default: 15_000)))
        requireVerifiedEmail = config.bool(forKey: "require.verified.email", default: defaults.requireVerifiedEmail)
        smtpURL = config.string(forKey: "smtp.url", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        smtpCAFile = config.string(forKey: "smtp.ca.file").flatMap { $0.isEmpty ? nil : $0 }
        mailFrom = config.string(forKey: "mail.from").flatMap(Self.mailbox) ?? defaults.mailFrom
        viewFlushInterval = .milliseconds(max(10, config.int(forKey: "view.flush.millis", default: 1_000)))
        runWorkers = config.bool(forKey: "workers", default: defaults.runWorkers)
        workerQueues = Self.list(config.string(forKey: "worker.queues")) ?? []
        workerConcurrency = max(1, config.int(forKey: "worker.concurrency", default: defaults.workerConcurrency))
        queueLeaseDuration = .milliseconds(max(100, config.int(forKey: "queue.lease.millis", default: 30_000)))
        queuePollInterval = .milliseconds(max(10, config.int(forKey: "queue.poll.millis", default: 1_000)))
        workerShutdownGrace = .milliseconds(max(0, config.int(forKey: "worker.shutdown.grace.millis", default: 10_000)))
        queueKeepFinished = .seconds(max(0, config.int(forKey: "queue.keep.finished.seconds", default: 24 * 3600)))
    }

    /// `Name <address>` or a bare `address`.
    private static func mailbox(_ value: String) -> MailAddress? {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<") {
            let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            let name = text[..<open].trimmingCharacters(in: CharacterSet(charactersIn: " \""))
            return MailAddress(address, name: name.isEmpty ? nil : name)
        }
        return MailAddress(text)
    }

    private static func list(_ value: String?) -> [String]? {
        guard let value else { return nil }
        let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return items.isEmpty ? nil : items
    }
}
