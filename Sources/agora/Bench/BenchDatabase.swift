import Logging
import Storage

/// A fresh database a benchmark makes on a PostgreSQL server and drops when done, so runs never
/// see one another's rows.
struct BenchDatabase: Sendable {
    /// The database's name, `<prefix>_<random hex>`.
    let name: String
    /// The server as given to the benchmark (any database on it).
    let serverURL: String
    /// The same server with this database.
    let url: String
    /// The server's postmaster, when it runs on this machine: the root of the processes whose
    /// CPU the benchmarks count as PostgreSQL's (`ProcessStatus.cpuSeconds(ofTreeRootedAt:)`).
    let postmasterPID: Int32?

    static func create(prefix: String, serverURL: String) async throws -> BenchDatabase {
        let name = "\(prefix)_\(String(UInt32.random(in: 0 ... .max), radix: 16))"
        let url = try PostgresStoreConfiguration(url: serverURL).url(database: name)
        try await PostgresStore.createDatabase(name, serverURL: serverURL, logger: quietLogger)
        let postmaster = try? await postmasterPID(serverURL: url)
        return BenchDatabase(name: name, serverURL: serverURL, url: url, postmasterPID: postmaster)
    }

    /// The parent of the backend serving a connection, if that backend is a process of this
    /// machine (a server elsewhere has a pid that means nothing here).
    private static func postmasterPID(serverURL: String) async throws -> Int32? {
        let store = try await PostgresStore.open(url: serverURL, connections: 1, logger: quietLogger)
        // Read while the connection is open: its backend ends with it.
        let postmaster = try? await store.read { db -> Int32? in
            guard let backend = try await db.raw("SELECT pg_backend_pid() AS pid").first()?.decode(column: "pid", as: Int32.self),
                  let comm = try? String(contentsOfFile: "/proc/\(backend)/comm", encoding: .utf8), comm.hasPrefix("postgres")
            else { return nil }
            return ProcessStatus(pid: backend).parentPID
        }
        try await store.close()
        return postmaster ?? nil
    }

    /// Drops the database, ending any session still on it.
    func drop() async throws {
        try await PostgresStore.dropDatabase(name, serverURL: serverURL, logger: Self.quietLogger)
    }

    private static var quietLogger: Logger {
        var logger = Logger(label: "agora-bench")
        logger.logLevel = .warning
        return logger
    }
}
