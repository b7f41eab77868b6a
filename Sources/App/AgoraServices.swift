import Crypto
import Foundation
import Logging
import Mail
import NIOPosix
import Queue
import Realtime
import ServiceLifecycle
import Storage

/// Everything Agora runs on, assembled once from the settings: the database, the repositories
/// and the services over them. The HTTP application, the CLI commands and the tests all start here.
public final class AgoraServices: Sendable {
    public let settings: AppSettings
    public let database: any Database
    public let accessTokens: AccessTokens
    public let hasher: PasswordHasher
    public let accounts: AccountService
    /// Email verification and password reset codes.
    public let codes: AccountCodeService
    public let follows: FollowService
    public let posts: PostService
    public let comments: CommentService
    public let notifications: NotificationService
    public let exports: ExportService
    public let uploads: UploadService
    /// Chat rooms, their members and messages.
    public let rooms: RoomService
    /// The live side of chat: the WebSocket connections, each room's fan-out and presence.
    public let chatHub: ChatHub
    /// On PostgreSQL, what keeps the hubs of several instances in step; run it as a service.
    let chatRelay: PostgresChatRelay?
    public let searchIndexer: SearchIndexer
    /// Buffers post views and writes them in batches.
    public let viewCounter: ViewCounter
    /// The durable queue: enqueue and publish here; `makeWorker` runs the jobs.
    public let queue: JobQueue
    /// Where `SendMailJob` delivers.
    let mailTransport: any MailTransport
    /// The low-priority thread of background file work (the outbox).
    let backgroundFileThreads: NIOThreadPool
    /// The storage behind the services, for tools that write in bulk (the demo seeder).
    let repositories: Repositories

    struct Repositories: Sendable {
        let users: any UserRepository
        let posts: any PostRepository
        let comments: any CommentRepository
    }

    private init(settings: AppSettings, storage: DataStore, queue: JobQueue, secret: Data, accessTokens: AccessTokens,
                 hasher: PasswordHasher, mailTransport: any MailTransport, backgroundFileThreads: NIOThreadPool, logger: Logger) {
        let database = storage.database
        self.settings = settings
        self.queue = queue
        self.mailTransport = mailTransport
        self.backgroundFileThreads = backgroundFileThreads
        self.database = database
        self.accessTokens = accessTokens
        self.hasher = hasher
        let users = SQLUserRepository()
        let postRepository = SQLPostRepository(textSearch: storage.textSearch)
        let commentRepository = SQLCommentRepository()
        let uploadRepository = SQLUploadRepository()
        repositories = Repositories(users: users, posts: postRepository, comments: commentRepository)
        searchIndexer = SearchIndexer(database: database, index: storage.textSearch as? any BatchedTextIndex, logger: logger)
        let postCache = PostCache(capacity: settings.postCacheEntries)
        let refreshTokens = SQLRefreshTokenRepository()
        let roomRepository = SQLRoomRepository()
        let chatHub = ChatHub(history: RoomHistory(database: database, rooms: roomRepository), configuration: settings.chatHub,
                              logger: logger)
        self.chatHub = chatHub
        let chatRelay = storage.postgres.map {
            PostgresChatRelay(store: $0, hub: chatHub, rooms: roomRepository, postCache: postCache,
                              instanceTimeout: settings.chatInstanceTimeout, logger: logger)
        }
        self.chatRelay = chatRelay
        let relay: any ChatRelay = chatRelay ?? SingleInstance()
        codes = AccountCodeService(
            database: database, users: users, refreshTokens: refreshTokens,
            codes: AccountCodes(repository: SQLAccountCodeRepository(),
                                key: SymmetricKey(data: SHA256.hash(data: Data("agora account codes".utf8) + secret)),
                                mail: AccountMail(from: settings.mailFrom), queue: queue),
            hasher: hasher, queue: queue,
            requestsPerMinute: SlidingWindowLimiter(limit: 1, window: .seconds(60)),
            requestsPerHour: SlidingWindowLimiter(limit: 5, window: .seconds(3600)),
            requireVerifiedEmail: settings.requireVerifiedEmail)
        accounts = AccountService(
            database: database, users: users, refreshTokens: refreshTokens, hasher: hasher,
            accessTokens: accessTokens,
            rateLimiter: LoginRateLimiter(maxPerEmail: settings.maxLoginFailuresPerEmail,
                                          maxPerAddress: settings.maxLoginFailuresPerAddress,
                                          window: settings.loginFailureWindow),
            refreshTokenLifetime: settings.refreshTokenLifetime, postCache: postCache, rooms: roomRepository, chat: chatHub,
            relay: relay, events: queue, codeService: codes)
        let notifications = NotificationService(database: database, notifications: SQLNotificationRepository(),
                                                posts: postRepository, hub: chatHub, relay: relay)
        self.notifications = notifications
        chatRelay?.onNotifications { users in await notifications.pushConnected(users) }
        follows = FollowService(database: database, users: users, follows: SQLFollowRepository(), notifications: notifications)
        viewCounter = ViewCounter(database: database, posts: postRepository, cache: postCache,
                                  interval: settings.viewFlushInterval, logger: logger)
        posts = PostService(database: database, posts: postRepository, uploads: uploadRepository,
                            rules: BoardRules(categories: settings.categories), cache: postCache, relay: relay,
                            searchIndexer: searchIndexer,
                            events: queue, notifications: notifications, views: viewCounter)
        exports = ExportService(database: database, exports: SQLExportRepository(), users: users, posts: postRepository,
                                comments: commentRepository, queue: queue,
                                directory: URL(fileURLWithPath: settings.dataDirectory, isDirectory: true)
                                    .appendingPathComponent("exports", isDirectory: true))
        comments = CommentService(database: database, posts: postRepository, comments: commentRepository,
                                  postCache: postCache, relay: relay, notifications: notifications)
        uploads = UploadService(database: database, uploads: uploadRepository,
                                files: UploadFiles(directory: Self.uploadsDirectory(in: settings)), queue: queue,
                                maxBytes: settings.maxUploadBytes)
        rooms = RoomService(database: database, rooms: roomRepository, users: users, codes: codes, hub: chatHub, relay: relay)
    }

    /// Where uploaded files are kept: `<data dir>/uploads`.
    static func uploadsDirectory(in settings: AppSettings) -> String {
        URL(fileURLWithPath: settings.dataDirectory, isDirectory: true).appendingPathComponent("uploads", isDirectory: true).path
    }

    /// The database with what differs between engines: the queue's driver and the text search.
    struct DataStore {
        let database: any Database
        let queueDriver: any QueueDriver
        let textSearch: any PostTextSearch
        /// The database when it is PostgreSQL, which several instances may share.
        var postgres: PostgresStore? { database as? PostgresStore }
    }

    /// Creates the data directory, opens the database (PostgreSQL when the settings name one,
    /// else SQLite in the data directory), applies pending migrations (the app's and the queue's,
    /// in the same database so that jobs commit with the data that causes them) and registers the
    /// app's jobs.
    public static func open(settings: AppSettings, logger: Logger) async throws -> AgoraServices {
        let directory = URL(fileURLWithPath: settings.dataDirectory, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: uploadsDirectory(in: settings), withIntermediateDirectories: true)
        let storage = try await openStorage(settings: settings, directory: directory, logger: logger)
        let driver = storage.queueDriver
        let queue = JobQueue(driver: driver, registry: JobRegistry())
        let secret = try settings.jwtSecret.map { Data($0.utf8) } ?? SigningKeyFile.loadOrCreate(in: directory)
        // Its own key, so that rotating the token secret never invalidates a password.
        let pepper = try settings.passwordPepper.map { Data($0.utf8) } ?? SigningKeyFile.loadOrCreate(in: directory, named: "pepper.key")
        let accessTokens = await AccessTokens.make(secret: secret, lifetime: settings.accessTokenLifetime)
        let fileThreads = BackgroundThreads.lowPriorityPool()
        let services = AgoraServices(settings: settings, storage: storage, queue: queue, secret: secret, accessTokens: accessTokens,
                                     hasher: PasswordHasher(cost: settings.bcryptCost, pepper: SymmetricKey(data: pepper)),
                                     mailTransport: try settings.makeMailTransport(fileThreads: fileThreads, logger: logger),
                                     backgroundFileThreads: fileThreads, logger: logger)
        try services.registerJobs(in: queue.registry)
        try await queue.saveSubscriptions()
        return services
    }

    /// Opens and migrates the database the settings name; closes it again if migrating fails.
    static func openStorage(settings: AppSettings, directory: URL, logger: Logger) async throws -> DataStore {
        let database: any Database
        let storage: DataStore
        if let url = settings.databaseURL {
            let store = try await PostgresStore.open(url: url, connections: settings.postgresConnections,
                                                    acquireTimeout: settings.postgresAcquireTimeout, logger: logger)
            database = store
            storage = DataStore(database: store, queueDriver: PostgresQueueDriver(store: store), textSearch: PostgresPostTextSearch())
        } else {
            let store = try await SQLiteStore.open(
                path: directory.appendingPathComponent("agora.sqlite").path, readers: settings.sqliteReaders, logger: logger)
            database = store
            storage = DataStore(database: store, queueDriver: SQLiteQueueDriver(store: store), textSearch: SQLitePostTextSearch())
        }
        do {
            try await Migrator.agora.migrate(database, logger: logger)
            try await storage.queueDriver.migrate()
            return storage
        } catch {
            try? await database.close()
            throw error
        }
    }

    /// A worker for `queues` (every queue the app registers jobs on, and `default`, when empty),
    /// configured by the settings; run it as a service.
    public func makeWorker(queues: [String]? = nil, concurrency: Int? = nil, logger: Logger) -> QueueWorker {
        let names = queues.flatMap { $0.isEmpty ? nil : $0 } ?? (settings.workerQueues.isEmpty
            ? Array(queue.registry.queues.union(["default"])) : settings.workerQueues)
        let perQueue = concurrency ?? settings.workerConcurrency
        let configuration = WorkerConfiguration(
            queues: Dictionary(uniqueKeysWithValues: names.map { ($0, perQueue) }),
            leaseDuration: settings.queueLeaseDuration, pollInterval: settings.queuePollInterval,
            shutdownGrace: settings.workerShutdownGrace,
            maintenanceInterval: min(.seconds(5), settings.queueLeaseDuration / 2),
            keepFinishedFor: settings.queueKeepFinished)
        return QueueWorker(driver: queue.driver, registry: queue.registry, configuration: configuration, logger: logger,
                           metrics: queue.metrics)
    }

    /// Releases the database and worker threads.
    public func close() async throws {
        try await database.close()
        try await hasher.shutdown()
        try await backgroundFileThreads.shutdownGracefully()
    }
}

/// Keeps `AgoraServices` open while the application runs and closes it last on shutdown.
struct AgoraServicesLifecycle: Service {
    let services: AgoraServices

    func run() async throws {
        try? await gracefulShutdown()
        try await services.close()
    }
}

/// The random HMAC key kept in the data directory when no secret is configured.
enum SigningKeyFile {
    static func loadOrCreate(in directory: URL, named name: String = "jwt.key") throws -> Data {
        let url = directory.appendingPathComponent(name)
        if let text = try? String(contentsOf: url, encoding: .utf8), let key = Data(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count >= 32 {
            return key
        }
        // Several instances sharing the data directory may start at once: each writes its key to
        // a file of its own and links it into place, which only the first does; all then use that one.
        let key = Data(SecureBytes.random(32))
        let temporary = directory.appendingPathComponent(".\(name).\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(SecureBytes.hex(key).utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        if link(temporary.path, url.path) == 0 { return key }
        guard errno == EEXIST, let text = try? String(contentsOf: url, encoding: .utf8),
              let existing = Data(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), existing.count >= 32 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        return existing
    }
}

extension Data {
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
