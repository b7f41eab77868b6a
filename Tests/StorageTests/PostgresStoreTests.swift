@testable import Storage
import Foundation
import Logging
import PostgresTestSupport
import SQLKit
import Synchronization
import Testing

@Suite("PostgreSQL store: pooled transactions, conflicts, migrations and notifications")
struct PostgresStoreTests {
    let logger = Logger(label: "postgres-store-test")

    /// A fresh database on the test server for `body`, given its URL; dropped afterwards.
    func withDatabase(_ body: (String) async throws -> Void) async throws {
        try await PostgresTestServer.withDatabase(prefix: "agora_store_test", body)
    }

    struct Refused: Error {}

    @Test("URLs: user, password, port, database and sslmode are read; anything else is refused")
    func urls() throws {
        let full = try PostgresStoreConfiguration(url: "postgres://ag%40ora:s3cr%2Ft@db.example.com:6543/agora?sslmode=require")
        #expect(full.username == "ag@ora" && full.password == "s3cr/t" && full.host == "db.example.com")
        #expect(full.port == 6543 && full.database == "agora" && full.requireTLS)
        let plain = try PostgresStoreConfiguration(url: "postgresql://agora@127.0.0.1/agora")
        #expect(plain.port == 5432 && plain.password == nil && !plain.requireTLS)
        for bad in ["mysql://a@b/c", "postgres://127.0.0.1/agora", "postgres://a@/c", "postgres://a@b/c?sslmode=verify-full", "nonsense"] {
            #expect(throws: InvalidDatabaseURL.self) { try PostgresStoreConfiguration(url: bad) }
        }
        #expect(String(describing: InvalidDatabaseURL(url: "mysql://u:hunter2@h/d")).contains("hunter2") == false)
    }

    @Test("a transaction commits or rolls back whole; the error its body threw comes out unchanged")
    func commitAndRollback() async throws {
        try await withDatabase { url in
            let store = try await PostgresStore.open(url: url, connections: 4, acquireTimeout: .seconds(30), logger: logger)
            try await store.transaction { db in try await db.raw("CREATE TABLE t (n BIGINT PRIMARY KEY)").run() }
            try await store.transaction { db in try await db.raw("INSERT INTO t (n) VALUES (1)").run() }
            await #expect(throws: Refused.self) {
                try await store.transaction { db in
                    try await db.raw("INSERT INTO t (n) VALUES (2)").run()
                    throw Refused()
                }
            }
            let rows = try await store.read { db in try await db.raw("SELECT n FROM t ORDER BY n").all(decoding: [String: Int64].self) }
            #expect(rows == [["n": 1]])
            try await store.close()
            await #expect(throws: DatabaseUnavailable.self) { try await store.ping() }
        }
    }

    @Test("transactions that collide on a unique index run again and then see the winner (check, then insert)")
    func uniqueConflictRunsAgain() async throws {
        try await withDatabase { url in
            let store = try await PostgresStore.open(url: url, connections: 16, acquireTimeout: .seconds(30), logger: logger)
            try await store.transaction { db in
                try await db.raw("CREATE TABLE names (name TEXT PRIMARY KEY, owner BIGINT NOT NULL)").run()
            }
            // 40 writers claim 4 names: each checks whether its name is free, then takes it. The
            // losers of a race hit the primary key, run again, and find the name taken.
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for writer in 0..<40 {
                    group.addTask {
                        try await store.transaction { db in
                            let name = "name-\(writer % 4)"
                            let taken = try await db.raw("SELECT owner FROM names WHERE name = \(bind: name)").first()
                            if taken != nil { return false }
                            try await Task.sleep(for: .milliseconds(5)) // widen the race
                            try await db.raw("INSERT INTO names (name, owner) VALUES (\(bind: name), \(bind: Int64(writer)))").run()
                            return true
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 4)
            let count = try await store.read { db in try await db.raw("SELECT COUNT(*) AS n FROM names").first()?.decode(column: "n", as: Int.self) }
            #expect(count == 4)
            try await store.close()
        }
    }

    @Test("a missing foreign row is MissingReference; an unreachable server is DatabaseUnavailable")
    func errorsAreStorageNeutral() async throws {
        try await withDatabase { url in
            let store = try await PostgresStore.open(url: url, connections: 2, acquireTimeout: .seconds(30), logger: logger)
            try await store.transaction { db in
                try await db.raw("CREATE TABLE parents (id BIGINT PRIMARY KEY)").run()
                try await db.raw("CREATE TABLE children (parent BIGINT NOT NULL REFERENCES parents(id))").run()
            }
            await #expect(throws: MissingReference.self) {
                try await store.transaction { db in try await db.raw("INSERT INTO children (parent) VALUES (7)").run() }
            }
            try await store.close()
        }
        // Nothing listens on port 1 of loopback.
        await #expect(throws: DatabaseUnavailable.self) {
            _ = try await PostgresStore.open(url: "postgres://agora@127.0.0.1:1/agora", connections: 1, logger: logger)
        }
    }

    @Test("after a call finds no connection in time, the next ones fail at once until the server answers again")
    func failsFastUntilTheProbeAnswers() async throws {
        try await withDatabase { url in
            // One connection, held by a slow statement: the pool cannot lend another. (Opening
            // pings within the same 300 ms, which a loaded machine may miss while it makes the
            // connection: then it is opened again. Once open, the pool keeps that connection idle.)
            var opened: PostgresStore?
            for _ in 0..<20 where opened == nil {
                opened = try? await PostgresStore.open(url: url, connections: 1, acquireTimeout: .milliseconds(300), logger: logger)
            }
            let store = try #require(opened)
            // Held once the slow statement's body runs (on a loaded machine a lease may time out
            // before its task is even scheduled: then it is tried again).
            final class Lent: Sendable { let flag = Atomic<Bool>(false) }
            let lent = Lent()
            let holding = Task {
                while true {
                    do {
                        return try await store.read { db in
                            lent.flag.store(true, ordering: .sequentiallyConsistent)
                            try await db.raw("SELECT pg_sleep(3)").run()
                        }
                    } catch is DatabaseUnavailable where !lent.flag.load(ordering: .sequentiallyConsistent) {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            while !lent.flag.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(10)) }
            let waited = await #expect(throws: DatabaseUnavailable.self) { try await store.read { db in try await db.raw("SELECT 1").run() } }
            #expect(waited?.description.contains("within") == true, "\(String(describing: waited))")
            // The next call does not wait for a connection: it fails at once, from the down state.
            let atOnce = await #expect(throws: DatabaseUnavailable.self) { try await store.read { db in try await db.raw("SELECT 1").run() } }
            #expect(atOnce?.description.contains("does not answer") == true, "\(String(describing: atOnce))")
            try await holding.value
            // The probe gets the freed connection and calls go through again.
            var answered = false
            for _ in 0..<100 where !answered {
                answered = (try? await store.read { db in try await db.raw("SELECT 1").run() }) != nil
                if !answered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(answered)
            try await store.close()
        }
    }

    @Test("instances starting at once apply each migration once")
    func concurrentMigrations() async throws {
        struct First: Migration {
            let version = 1, name = "first"
            let sqlite = ["CREATE TABLE a (n INTEGER)"]
            let postgres = ["CREATE TABLE a (n BIGINT)", "INSERT INTO a (n) VALUES (1)"]
        }
        struct Second: Migration {
            let version = 2, name = "second"
            let sqlite = ["CREATE TABLE b (n INTEGER)"]
            let postgres = ["CREATE TABLE b (n BIGINT)", "INSERT INTO a (n) VALUES (2)"]
        }
        try await withDatabase { url in
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<4 { group.addTask { try await PostgresStore.open(url: url, connections: 2, acquireTimeout: .seconds(30), logger: logger) } }
                return try await group.reduce(into: [PostgresStore]()) { $0.append($1) }
            }
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for store in stores {
                    group.addTask { try await Migrator(migrations: [First(), Second()]).migrate(store, logger: logger) }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == [1, 2])
            let rows = try await stores[0].read { db in try await db.raw("SELECT n FROM a ORDER BY n").all(decoding: [String: Int64].self) }
            #expect(rows == [["n": 1], ["n": 2]])
            for store in stores { try await store.close() }
        }
    }

    @Test("NOTIFY reaches every instance's listener; after its connection is killed it reconnects, resumes, and hears again")
    func listenerReconnects() async throws {
        try await withDatabase { url in
            let sender = try await PostgresStore.open(url: url, connections: 2, acquireTimeout: .seconds(30), logger: logger)
            let receiver = try await PostgresStore.open(url: url, connections: 2, acquireTimeout: .seconds(30), logger: logger)
            let heard = Mutex<[String]>([])
            let resumed = Atomic<Int>(0)
            try await receiver.listener.subscribe(channel: "agora_test", notify: { payload in heard.withLock { $0.append(payload) } },
                                                  resume: { resumed.add(1, ordering: .relaxed) })
            try await sender.transaction { db in try await db.raw("SELECT pg_notify('agora_test', 'one')").run() }
            // A rolled-back NOTIFY is never delivered.
            try? await sender.transaction { db in
                try await db.raw("SELECT pg_notify('agora_test', 'never')").run()
                throw Refused()
            }
            try await waitUntil { heard.withLock { $0 } == ["one"] }
            // Kill the listener's session, as a restart of the server or a network cut would.
            try await sender.read { db in
                try await db.raw("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'
                    """).run()
            }
            try await waitUntil { resumed.load(ordering: .relaxed) == 1 }
            try await sender.transaction { db in try await db.raw("SELECT pg_notify('agora_test', 'two')").run() }
            try await waitUntil { heard.withLock { $0 } == ["one", "two"] }
            try await receiver.close()
            try await sender.close()
        }
    }

    /// Polls `condition` every 10 ms for up to 10 seconds; records an issue if it never holds.
    func waitUntil(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for _ in 0..<1000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition never held", sourceLocation: sourceLocation)
    }
}
