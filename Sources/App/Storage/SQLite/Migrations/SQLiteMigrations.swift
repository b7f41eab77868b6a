import Storage

/// The SQLite schema history, oldest first. Append; never edit a landed entry.
enum SQLiteMigrations {
    static let all: [any Migration] = [
        CreateAccounts(),
        CreateBoard(),
        CreateQueueProbe(),
        CreateAccountCodes(),
        CreateNotifications(),
        CreateExports(),
        CreateUploads(),
        CreateChatRooms(),
        IndexRoomMemberOrder(),
    ]
}

extension Migrator {
    /// The app's migrations for `engine`, in order.
    public static func agora(for engine: DatabaseEngine) -> Migrator {
        switch engine {
        case .sqlite: Migrator(migrations: SQLiteMigrations.all)
        }
    }
}
