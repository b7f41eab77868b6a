import Storage

/// A room's members in the order they joined, straight from an index: the `joined` frame of every
/// chat join lists them, so the list is read without sorting the room's members each time.
struct IndexRoomMemberOrder: Migration {
    let version = 9
    let name = "index_room_member_order"
    let sqlite = [
        "CREATE INDEX room_members_order ON room_members(room_id, joined_at, user_id)",
    ]

    let postgres = [
        "CREATE INDEX room_members_order ON room_members(room_id, joined_at, user_id)",
    ]
}
