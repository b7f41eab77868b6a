// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "agora",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "agora", targets: ["agora"]),
        .library(name: "App", targets: ["App"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
    ],
    targets: [
        .executableTarget(
            name: "agora",
            dependencies: [
                "App",
                "Queue",
                "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                // The chat benchmark's WebSocket client.
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                // The benchmarks' HTTP client.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The SQL engines under the app and the queue: the `Database` protocol, migrations, the
        // embedded SQLite store (one writer with group commit, readers beside it) and the
        // PostgreSQL store (a pool of connections, and a LISTEN connection for notifications).
        // A C shim for the one SQLite setting Swift cannot reach (a variadic C function).
        .target(name: "CSQLiteWriterSupport"),
        .target(
            name: "Storage",
            dependencies: [
                "CSQLiteWriterSupport",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                // Only for its error type: the pool that `PostgresClient` is built on.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The durable queue: jobs, topics, workers, leases, drivers. Never imports the app.
        .target(
            name: "Queue",
            dependencies: [
                "Storage",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "SQLKit", package: "sql-kit"),
                // Its hottest statements (claim, acknowledge) are prepared statements on PostgreSQL.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Mail: MIME messages, an SMTP client on SwiftNIO and the outbox directory. Never imports the app.
        .target(
            name: "Mail",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Real-time chat: rooms' fan-out in seq order, resume, presence, bounded outbound queues.
        // JSON written byte by byte for the hottest responses and frames (Foundation's encoder is
        // several times slower); shared by the app and the chat.
        .target(
            name: "JSONWriting",
            dependencies: [
                "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Never imports the app (only Storage, for its timestamps); the app gives it a store and the WebSocket connections.
        .target(
            name: "Realtime",
            dependencies: [
                "Storage",
                "JSONWriting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "App",
            dependencies: [
                "Storage",
                "JSONWriting",
                "Queue",
                "Mail",
                "Realtime",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                // Asynchronous file I/O for uploads (Hummingbird's FileIO is built on it).
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The HTTP/1 channel with the `/ws` upgrade (see `ChatUpgradeChannel`).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ]
        ),
        // A bare Hummingbird server: the same-run reference for the HTTP benchmarks (scripts/bench-http.sh).
        .executableTarget(
            name: "agora-reference",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/ReferenceServer"
        ),
        // A database of its own on the PostgreSQL server of the tests, for every test target.
        .target(
            name: "PostgresTestSupport",
            dependencies: ["Storage", .product(name: "Logging", package: "swift-log")],
            path: "Tests/PostgresTestSupport"
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "Storage",
                "PostgresTestSupport",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "QueueTests",
            dependencies: [
                "Queue",
                "PostgresTestSupport",
                "Storage",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        // Child processes for the tests, started with posix_spawn (Foundation's Process.run() can crash on Linux).
        .target(
            name: "ProcessTestSupport",
            path: "Tests/ProcessTestSupport"
        ),
        // The real SMTP server of the mail tests (aiosmtpd in a subprocess), shared by MailTests and AppTests.
        .target(
            name: "SMTPTestSupport",
            dependencies: ["ProcessTestSupport"],
            path: "Tests/SMTPTestSupport"
        ),
        .testTarget(
            name: "RealtimeTests",
            dependencies: [
                "Realtime",
                "Storage",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MailTests",
            dependencies: [
                "Mail",
                "SMTPTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App",
                "JSONWriting",
                "Queue",
                "Storage",
                // The command-line tests run the real executable, so `swift test` must build it.
                "agora",
                "Mail",
                "Realtime",
                "SMTPTestSupport",
                "PostgresTestSupport",
                "ProcessTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
    ]
)
