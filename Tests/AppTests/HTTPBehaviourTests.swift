import Foundation
import HTTPTypes
import Testing

@Suite("Health probes and browser headers")
struct HTTPBehaviourTests {
    @Test("/healthz and /readyz answer 200 {status: ok}", arguments: TestEngine.allCases)
    func probes(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            for path in ["/healthz", "/readyz"] {
                let reply = try await api.get(path)
                #expect(reply.status == .ok)
                #expect(reply.json["status"].string == "ok")
            }
        }
    }

    @Test("/readyz is 503 in the error shape when the database is gone", arguments: TestEngine.allCases)
    func notReady(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            try await api.services.database.close()
            expectError(try await api.get("/readyz"), .serviceUnavailable, "not_ready")
        }
    }

    @Test("responses carry nosniff and a restrictive content security policy", arguments: TestEngine.allCases)
    func securityHeaders(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            for reply in [try await api.get("/healthz"), try await api.get("/api/nothing")] {
                #expect(reply.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(reply.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            }
        }
    }

    @Test("CORS is off by default and answers only configured origins", arguments: TestEngine.allCases)
    func cors(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let reply = try await api.request(.get, "/api/posts", headers: [.origin: "https://evil.example"])
            #expect(reply.headers[.accessControlAllowOrigin] == nil)
        }
        try await withAgora(on: engine, testSettings { $0.corsAllowedOrigins = ["https://app.example"] }) { api in
            let allowed = try await api.request(.get, "/api/posts", headers: [.origin: "https://app.example"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://app.example")
            let preflight = try await api.request(.options, "/api/posts", headers: [.origin: "https://app.example",
                                                                                     .accessControlRequestMethod: "POST"])
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.example")
            let other = try await api.request(.get, "/api/posts", headers: [.origin: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
        }
    }
}
