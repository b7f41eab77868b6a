import SMTPTestSupport
import Mail
import Testing

@Suite("SMTP implicit TLS", .needsSMTPTestServer)
struct SMTPImplicitTLSTests {
    @Test("smtps speaks TLS from the first byte")
    func implicitTLS() async throws {
        try await SMTPTestServer.with(.init(implicitTLS: true)) { server in
            try await SMTPClient(configuration: clientConfiguration(for: server, encryption: .implicitTLS), logger: testLogger)
                .send(testMessage())
            #expect(try server.receivedMessages().map(\.tls) == [true])
        }
    }

    @Test("smtps with credentials authenticates over TLS")
    func implicitTLSWithAuth() async throws {
        try await SMTPTestServer.with(.init(auth: ("agora", "pw"), implicitTLS: true)) { server in
            var configuration = try SMTPConfiguration(url: "smtps://agora:pw@localhost:\(server.port)")
            configuration.trustedCertificatesPath = server.certificate?.certificatePath
            try await SMTPClient(configuration: configuration, logger: testLogger).send(testMessage())
            #expect(try server.receivedMessages().map(\.authUser) == ["agora"])
        }
    }

    @Test("smtps against a plain-text server is a transient TLS failure")
    func plainServer() async throws {
        try await SMTPTestServer.with { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server, encryption: .implicitTLS), logger: testLogger)
            let error = try await #require(throws: SMTPConnectionError.self) { try await client.send(testMessage()) }
            guard case .tlsFailed = error.reason else {
                Issue.record("expected a TLS failure, got \(error)")
                return
            }
            #expect(!error.isPermanent)
        }
    }
}
