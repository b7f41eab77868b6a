import SMTPTestSupport
import Mail
import Testing

@Suite("SMTP STARTTLS", .needsSMTPTestServer)
struct SMTPStartTLSTests {
    @Test("STARTTLS is used when the server offers it")
    func usedWhenOffered() async throws {
        try await SMTPTestServer.with(.init(startTLS: true)) { server in
            try await SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger).send(testMessage())
            #expect(try server.receivedMessages().map(\.tls) == [true])
        }
    }

    @Test("STARTTLS is used with a host name, checked against the certificate's name")
    func hostName() async throws {
        try await SMTPTestServer.with(.init(startTLS: true)) { server in
            let configuration = clientConfiguration(for: server, host: "localhost", encryption: .startTLSRequired)
            try await SMTPClient(configuration: configuration, logger: testLogger).send(testMessage())
            #expect(try server.receivedMessages().map(\.tls) == [true])
        }
    }

    @Test("credentials go over STARTTLS to a server that requires it")
    func authenticatesOverTLS() async throws {
        try await SMTPTestServer.with(.init(auth: ("agora", "pw"), startTLS: true, requireStartTLS: true)) { server in
            let configuration = clientConfiguration(for: server, encryption: .startTLSRequired,
                                                    credentials: .init(username: "agora", password: "pw"))
            try await SMTPClient(configuration: configuration, logger: testLogger).send(testMessage())
            let received = try #require(try server.receivedMessages().first)
            #expect(received.tls)
            #expect(received.authUser == "agora")
        }
    }

    @Test("starttls=required against a server without STARTTLS fails before any mail is sent")
    func requiredButNotOffered() async throws {
        try await SMTPTestServer.with { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server, encryption: .startTLSRequired), logger: testLogger)
            let error = try await #require(throws: SMTPSecurityError.self) { try await client.send(testMessage()) }
            #expect(error == .startTLSNotOffered(server: "127.0.0.1:\(server.port)"))
            #expect("\(error)".contains("STARTTLS is required"))
            #expect(try server.receivedMessages().isEmpty)
        }
    }

    @Test("starttls=never sends in plain text even when STARTTLS is offered")
    func never() async throws {
        try await SMTPTestServer.with(.init(startTLS: true)) { server in
            try await SMTPClient(configuration: clientConfiguration(for: server, encryption: .none), logger: testLogger).send(testMessage())
            #expect(try server.receivedMessages().map(\.tls) == [false])
        }
    }

    @Test("an untrusted certificate is a transient TLS failure at the STARTTLS stage")
    func untrustedCertificate() async throws {
        try await SMTPTestServer.with(.init(startTLS: true)) { server in
            var configuration = clientConfiguration(for: server)
            configuration.trustedCertificatesPath = nil
            let client = SMTPClient(configuration: configuration, logger: testLogger)
            let error = try await #require(throws: SMTPConnectionError.self) { try await client.send(testMessage()) }
            #expect(error.stage == .starttls)
            guard case .tlsFailed = error.reason else {
                Issue.record("expected a TLS failure, got \(error)")
                return
            }
            #expect(!error.isPermanent)
            #expect(try server.receivedMessages().isEmpty)
        }
    }
}
