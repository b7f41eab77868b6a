import Foundation
import Synchronization

/// The job kinds this process knows: how to run each, and its defaults.
///
/// The app registers every kind once at start-up, in the processes that enqueue (for the
/// defaults) and in those that work (for the handlers).
public final class JobRegistry: Sendable {
    /// A registered kind.
    public struct Registration: Sendable {
        public let queue: String
        public let maxAttempts: Int
        public let retry: RetryPolicy
        let run: @Sendable (_ payload: String, _ context: JobContext) async throws -> Void
    }

    private let registrations = Mutex<[String: Registration]>([:])
    private let topicSubscriptions = Mutex<[String: TopicSubscription]>([:])
    private let decoder = JSONDecoder()
    private let recurring = Mutex<[String: RecurringSchedule]>([:])

    public init() {}

    /// Registers `J` with its handler and defaults. A kind registered twice keeps the last.
    public func register<J: Job>(
        _ type: J.Type, queue: String = "default", maxAttempts: Int = 25, retry: RetryPolicy = .default,
        handler: @escaping @Sendable (J, JobContext) async throws -> Void
    ) {
        let registration = makeRegistration(J.self, kind: J.name, queue: queue, maxAttempts: maxAttempts, retry: retry, handler: handler)
        registrations.withLock { $0[J.name] = registration }
    }

    /// Subscribes `group` to the topic of `E`: each event published from then on reaches the group
    /// once, as a job of its own on `queue`. (The subscription is stored when the queue starts, by
    /// `JobQueue.saveSubscriptions()`; events published before that do not reach the group.)
    public func subscribe<E: TopicEvent>(
        _ type: E.Type, group: String, queue: String = "default", maxAttempts: Int = 25, retry: RetryPolicy = .default,
        handler: @escaping @Sendable (E, JobContext) async throws -> Void
    ) {
        let subscription = TopicSubscription(topic: E.topic, group: group, queue: queue, maxAttempts: maxAttempts)
        let registration = makeRegistration(E.self, kind: subscription.jobKind, queue: queue, maxAttempts: maxAttempts,
                                            retry: retry, handler: handler)
        registrations.withLock { $0[subscription.jobKind] = registration }
        topicSubscriptions.withLock { $0[subscription.jobKind] = subscription }
    }

    /// A registration whose handler gets the payload decoded as `T`; a payload that does not
    /// decode fails with `UndecodablePayload` (the job is dead at once).
    private func makeRegistration<T: Decodable>(
        _ type: T.Type, kind: String, queue: String, maxAttempts: Int, retry: RetryPolicy,
        handler: @escaping @Sendable (T, JobContext) async throws -> Void
    ) -> Registration {
        precondition(maxAttempts > 0, "a job needs at least one attempt")
        return Registration(queue: queue, maxAttempts: maxAttempts, retry: retry) { [decoder] payload, context in
            let value: T
            do {
                value = try decoder.decode(T.self, from: Data(payload.utf8))
            } catch {
                throw UndecodablePayload(kind: kind, reason: "\(error)")
            }
            try await handler(value, context)
        }
    }

    /// The queues of every registered job kind, subscription and schedule.
    public var queues: Set<String> {
        Set(registrations.withLock { $0.values.map(\.queue) }).union(schedules.map(\.job.queue))
    }

    /// Every topic subscription registered here.
    public var subscriptions: [TopicSubscription] {
        topicSubscriptions.withLock { Array($0.values) }.sorted { ($0.topic, $0.group) < ($1.topic, $1.group) }
    }

    /// The stored form of `job`, with its registration's defaults where `options` are unset.
    public func newJob<J: Job>(_ job: J, options: EnqueueOptions) throws -> NewJob {
        let registration = registration(of: J.name)
        return NewJob(kind: J.name, queue: options.queue ?? registration?.queue ?? "default", payload: try Self.payload(job),
                      priority: options.priority, maxAttempts: options.maxAttempts ?? registration?.maxAttempts ?? 25,
                      runAt: options.runAt ?? .now, uniqueKey: options.uniqueKey)
    }

    /// A payload's stored JSON (sorted keys, so equal payloads are equal text).
    static func payload(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Adds a recurring schedule (see `schedule(_:cron:job:options:)`); a name added twice keeps the last.
    func addSchedule(_ schedule: RecurringSchedule) {
        recurring.withLock { $0[schedule.name] = schedule }
    }

    /// Every recurring schedule registered here.
    public var schedules: [RecurringSchedule] {
        recurring.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// The registration of `kind`, or nil.
    public func registration(of kind: String) -> Registration? {
        registrations.withLock { $0[kind] }
    }
}

/// A failure that another attempt cannot fix (a mail server's 5xx reply, a payload that no longer
/// decodes): a handler that throws one makes its job dead at once, with the error in its history.
public protocol UnretryableJobError: Error, CustomStringConvertible {}

/// Wraps any error as unretryable: `throw JobCannotSucceed(error)` ends the job now.
public struct JobCannotSucceed: UnretryableJobError {
    public let underlying: any Error
    public init(_ underlying: any Error) { self.underlying = underlying }
    public var description: String { "\(underlying)" }
}

/// A stored payload that does not decode as its kind: the job is dead at once, never retried.
public struct UndecodablePayload: UnretryableJobError {
    public let kind: String
    public let reason: String
    public var description: String { "the payload does not decode as \(kind): \(reason)" }
}
