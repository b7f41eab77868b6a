import Foundation
import Logging
import Storage

/// The PostgreSQL server the tests create their databases on: `AGORA_TEST_DATABASE_URL`
/// (`.ci/run` starts one and sets it). Without it the PostgreSQL cases print why, once, and pass
/// without running, so `swift test` alone still passes on a bare machine.
public enum PostgresTestServer {
    public static let url: String? = {
        let url = ProcessInfo.processInfo.environment["AGORA_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if url == nil { print("PostgreSQL tests skipped: AGORA_TEST_DATABASE_URL is unset") }
        return url
    }()

    /// Every test target runs in one process, and each test would otherwise create a database,
    /// migrate it and open its pool at the same moment; on two cores that starves the server's
    /// backends for seconds. At most this many tests hold a database at once.
    static let slots = TestSlots(6)

    /// Runs `body` with the URL of a new database (named `prefix_<random hex>`) and drops it
    /// afterwards, also when `body` throws. Returns nil without running `body` when no server is set.
    public static func withDatabase<T>(prefix: String, _ body: (String) async throws -> T) async throws -> T? {
        guard let server = url else { return nil }
        await slots.acquire()
        defer { Task { await slots.release() } }
        let logger = Logger(label: "postgres-test")
        let name = prefix + "_" + UUID().uuidString.lowercased().filter(\.isHexDigit)
        try await PostgresStore.createDatabase(name, serverURL: server, logger: logger)
        do {
            let result = try await body(try PostgresStoreConfiguration(url: server).url(database: name))
            try await PostgresStore.dropDatabase(name, serverURL: server, logger: logger)
            return result
        } catch {
            try? await PostgresStore.dropDatabase(name, serverURL: server, logger: logger)
            throw error
        }
    }
}

/// A counting semaphore: at most `count` holders at once, the others wait in order.
actor TestSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
