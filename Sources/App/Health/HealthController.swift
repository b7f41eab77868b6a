import Hummingbird
import Storage

/// `/healthz` (the process answers) and `/readyz` (the database answers too).
struct HealthController {
    let database: any Database

    struct Status: Encodable, ResponseEncodable { var status = "ok" }

    func addRoutes(to routes: RouteTable) {
        routes.get("/healthz") { _, _ in Status() }
        routes.get("/readyz") { _, _ in
            do {
                try await database.ping()
            } catch {
                throw APIError(.serviceUnavailable, code: "not_ready", message: "The database does not answer.")
            }
            return Status()
        }
    }
}
