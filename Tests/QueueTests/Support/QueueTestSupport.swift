import Foundation
import Logging
import Queue
import SQLKit
import Storage
import Testing

/// The engines every driver test runs on. PostgreSQL joins when its driver lands.
enum DriverKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    var testDescription: String { rawValue }
}

/// A fresh, migrated driver of `kind` on its own database, closed afterwards.
func withDriver<T>(_ kind: DriverKind, _ body: (any QueueDriver, any Database) async throws -> T) async throws -> T {
    switch kind {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agora-queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("queue.sqlite").path, readers: 2,
                                               logger: Logger(label: "queue-test"))
        let driver = SQLiteQueueDriver(store: store)
        try await driver.migrate()
        do {
            let result = try await body(driver, store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// A job for tests: `label` identifies it, `failTimes` makes its handler throw that many times first.
struct Probe: Job, Hashable {
    static let name = "test.probe"
    var label: String
    var failTimes: Int = 0
}

struct ProbeFailure: Error, CustomStringConvertible {
    let attempt: Int
    var description: String { "probe failed on attempt \(attempt)" }
}

extension QueueDriver {
    /// Inserts one probe job and returns its id.
    func insertProbe(_ label: String, queue: String = "default", priority: Int = 0, runAt: Timestamp = .now,
                     maxAttempts: Int = 25, uniqueKey: String? = nil) async throws -> JobID {
        try await insert([NewJob(kind: Probe.name, queue: queue, payload: #"{"label":"\#(label)"}"#, priority: priority,
                                 maxAttempts: maxAttempts, runAt: runAt, uniqueKey: uniqueKey)])[0].id
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; true if it held.
func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
