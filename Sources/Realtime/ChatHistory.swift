/// The stored history the hub reads: to catch a client up after `since`, and to fill a gap when
/// messages reach it out of seq order (two senders committing close together, or, across
/// instances, a notification that carries only the room and seq).
public protocol ChatHistory: Sendable {
    /// The messages of `room` with a seq above `seq`, in seq order, at most `limit` of them.
    func messages(in room: Int64, after seq: Int64, limit: Int) async throws -> [ChatMessage]
}
