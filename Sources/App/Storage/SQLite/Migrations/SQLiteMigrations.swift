/// The SQLite schema history, oldest first. Append; never edit a landed entry.
enum SQLiteMigrations {
    static let all: [any Migration] = [
        CreateAccounts(),
        CreateBoard(),
    ]
}
