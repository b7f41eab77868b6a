import Storage

/// Who may see a room: anyone signed in, or its members only.
public enum RoomVisibility: String, Codable, Sendable, CaseIterable {
    /// Listed to everyone signed in; anyone may join it and read its history.
    case `public`
    /// Seen only by its members; only the owner adds people.
    case `private`
}

/// A stored room as one user sees it.
public struct RoomRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var topic: String
    public var visibility: RoomVisibility
    public var ownerID: Int64
    /// The seq of the room's newest message; 0 before the first.
    public var lastSeq: Int64
    public var createdAt: Timestamp
    public var memberCount: Int
    /// Whether the viewer is a member.
    public var isMember: Bool
    /// Members connected right now; filled in by `RoomService` from the WebSocket hub, 0 from storage.
    public var onlineCount: Int = 0
}

/// A room about to be stored (already validated).
public struct NewRoom: Sendable {
    public var name: String
    public var topic: String
    public var visibility: RoomVisibility
    public var ownerID: Int64
    public var createdAt: Timestamp
}

/// What decides a user's rights in one room.
public struct RoomAccess: Sendable, Equatable {
    public var visibility: RoomVisibility
    public var ownerID: Int64
    /// Whether the user asked about is a member.
    public var isMember: Bool

    /// Whether the user may see the room, its members and its history: a public room, or a member.
    public var canRead: Bool { visibility == .public || isMember }
}
