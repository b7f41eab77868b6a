/// An event published to a topic: every subscriber group registered for the topic receives it
/// once, as a job of its own, retried independently of the other groups.
public protocol TopicEvent: Codable, Sendable {
    /// The topic's stored name (`"post.created"`).
    static var topic: String { get }
}

/// A subscriber group of a topic, as stored so that any process publishing to the topic fans out
/// to it, including processes that do not run its handler.
public struct TopicSubscription: Sendable, Hashable {
    public let topic: String
    /// The group's name, unique within the topic (`"notify-followers"`).
    public let group: String
    /// The queue whose workers run the group's deliveries.
    public let queue: String
    public let maxAttempts: Int

    /// The job kind of this group's deliveries.
    public var jobKind: String { Self.jobKind(topic: topic, group: group) }

    public static func jobKind(topic: String, group: String) -> String { "topic:\(topic):\(group)" }

    public init(topic: String, group: String, queue: String, maxAttempts: Int) {
        self.topic = topic
        self.group = group
        self.queue = queue
        self.maxAttempts = maxAttempts
    }
}
