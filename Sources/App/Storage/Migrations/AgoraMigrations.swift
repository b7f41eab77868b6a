import Storage

/// The app's schema history, oldest first, each with its SQLite and PostgreSQL statements. Append;
/// never edit a landed entry.
enum AgoraMigrations {
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
        CreateChatPresence(),
    ]
}

extension Migrator {
    /// The app's migrations.
    public static let agora = Migrator(migrations: AgoraMigrations.all)
}
