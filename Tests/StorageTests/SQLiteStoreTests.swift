@testable import Storage
import Foundation
import Logging
import SQLKit
import Testing

@Suite("SQLite store: group commit with one writer")
struct SQLiteStoreTests {
    struct Refused: Error, Equatable { let n: Int }

    func withStore(_ body: (SQLiteStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agora-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("t.sqlite").path, readers: 2,
                                               logger: Logger(label: "test"))
        try await store.transaction { db in try await db.raw("CREATE TABLE t (n INTEGER PRIMARY KEY)").run() }
        try await body(store)
        try await store.close()
    }

    @Test("concurrent transactions commit together, and a failing one rolls back alone")
    func failingTransactionRollsBackAlone() async throws {
        try await withStore { store in
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for n in 1...300 {
                    group.addTask {
                        do {
                            try await store.transaction { db in
                                try await db.raw("INSERT INTO t (n) VALUES (\(bind: n))").run()
                                if n % 3 == 0 { throw Refused(n: n) }
                            }
                            return (n, true)
                        } catch let error as Refused {
                            #expect(error.n == n)
                            return (n, false)
                        } catch {
                            Issue.record("unexpected \(error)")
                            return (n, false)
                        }
                    }
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            let stored = try await store.read { db in
                try await db.raw("SELECT n FROM t ORDER BY n").all().map { try $0.decode(column: "n", as: Int.self) }
            }
            #expect(stored == (1...300).filter { $0 % 3 != 0 })
            #expect(outcomes.filter(\.value).keys.sorted() == stored)
        }
    }

    @Test("a read that starts after a commit sees it, even while other reads are running")
    func readAfterCommitSeesIt() async throws {
        try await withStore { store in
            // Slow reads keep every reader connection busy. Two statements sharing a connection
            // share its read snapshot, so a read placed beside an older one would miss the commit.
            let busy = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            while !Task.isCancelled {
                                _ = try await store.read { db in
                                    try await db.raw("""
                                        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
                                        SELECT x FROM c WHERE x > (SELECT count(*) FROM t)
                                        """).all()
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            defer { busy.cancel() }
            var missed: [Int] = []
            for n in 1...200 {
                try await store.transaction { db in try await db.raw("INSERT INTO t (n) VALUES (\(bind: n))").run() }
                let found = try await store.read { db in
                    try await db.raw("SELECT n FROM t WHERE n = \(bind: n)").first()
                }
                if found == nil { missed.append(n) }
            }
            #expect(missed == [])
        }
    }

    @Test("a constraint violation fails only its own transaction")
    func constraintViolation() async throws {
        try await withStore { store in
            try await store.transaction { db in try await db.raw("INSERT INTO t (n) VALUES (1)").run() }
            let duplicate = Task { try await store.transaction { db in try await db.raw("INSERT INTO t (n) VALUES (1)").run() } }
            let fresh = Task { try await store.transaction { db in try await db.raw("INSERT INTO t (n) VALUES (2)").run() } }
            await #expect(throws: (any Error).self) { try await duplicate.value }
            try await fresh.value
            let count = try await store.read { db in try await db.raw("SELECT COUNT(*) AS c FROM t").first()?.decode(column: "c", as: Int.self) }
            #expect(count == 2)
        }
    }

    @Test("after close every call fails with DatabaseUnavailable, and closing twice is harmless")
    func closed() async throws {
        try await withStore { store in
            try await store.close()
            await #expect(throws: DatabaseUnavailable.self) { try await store.read { _ in 1 } }
            await #expect(throws: DatabaseUnavailable.self) { try await store.transaction { _ in 1 } }
        }
    }

    @Test("the writer reuses prepared statements past its cache limit, and sees schema changes")
    func statementCache() async throws {
        try await withStore { store in
            // More distinct statements than the cache holds, each run twice.
            for round in 0..<2 {
                for n in 1...(SQLiteWriterConnection.statementCacheLimit + 20) {
                    let sql = "INSERT OR REPLACE INTO t (n) VALUES (\(n * 1000 + round))"
                    try await store.transaction { db in try await db.raw(SQLQueryString(sql)).run() }
                }
            }
            try await store.transaction { db in try await db.raw("ALTER TABLE t ADD COLUMN label TEXT").run() }
            let labels = try await store.transaction { db in
                try await db.raw("UPDATE t SET label = \(bind: "héllo \"wörld\"") WHERE n = 1000 RETURNING label, n").all()
                    .map { try $0.decode(column: "label", as: String.self) }
            }
            #expect(labels == ["héllo \"wörld\""])
            let row = try await store.transaction { db in try await db.raw("SELECT * FROM t WHERE n = 1000").first() }
            #expect(row?.allColumns == ["n", "label"])
            #expect(try row?.decodeNil(column: "label") == false)
        }
    }

    @Test("a transaction body runs on the writer's own thread, and engine errors come out storage-neutral")
    func writerThreadAndErrors() async throws {
        try await withStore { store in
            let onWriterThread = try await store.transaction { db in db.eventLoop.inEventLoop }
            #expect(onWriterThread)
            try await store.transaction { db in
                try await db.raw("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES t(n))").run()
            }
            await #expect(throws: MissingReference.self) {
                try await store.transaction { db in try await db.raw("INSERT INTO child (parent) VALUES (424242)").run() }
            }
            await #expect(throws: SQLiteFailure.self) {
                try await store.transaction { db in try await db.raw("SELECT no_such_column FROM t").run() }
            }
        }
    }
}
