/// What one signed-in user may do with rooms, as the app decides it: the hub's sessions call it
/// for `join` and `send` frames. The app gives each connection one, bound to the token's user,
/// so the sender of a message is never a field a client can set.
public protocol ChatRoomAccess: Sendable {
    /// Checks that the user may be in `room` (making them a member of a public room they have
    /// not joined) and returns the room's last stored seq and its members. Throws `ChatRefusal`.
    func join(room: Int64) async throws -> (lastSeq: Int64, members: [ChatUser])

    /// Stores a message from the user, once per `clientMsgId`, and publishes it to the hub after
    /// it commits. Returns the stored message and whether it was already stored (a resend).
    /// Throws `ChatRefusal` (`not_a_member`, `not_found`, `invalid`, …).
    func send(_ body: String, clientMsgId: String?, to room: Int64) async throws -> (message: ChatMessage, duplicate: Bool)
}

/// A refusal the client is told about with an error frame: `code` is stable, `message` for people.
public struct ChatRefusal: Error, Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}
