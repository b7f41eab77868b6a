import SMTPTestSupport
import Mail
import Testing

@Suite("SMTP authentication", .needsSMTPTestServer)
struct SMTPAuthenticationTests {
    private let auth = (user: "agora", password: "s3cret:p@ss 비밀")

    @Test("AUTH PLAIN with the right password delivers")
    func plain() async throws {
        try await SMTPTestServer.with(.init(auth: auth, authMechanisms: ["PLAIN"])) { server in
            let credentials = SMTPConfiguration.Credentials(username: auth.user, password: auth.password)
            try await SMTPClient(configuration: clientConfiguration(for: server, credentials: credentials), logger: testLogger)
                .send(testMessage())
            #expect(try server.receivedMessages().map(\.authUser) == ["agora"])
        }
    }

    @Test("AUTH LOGIN is used when PLAIN is not offered, and delivers")
    func login() async throws {
        try await SMTPTestServer.with(.init(auth: auth, authMechanisms: ["LOGIN"])) { server in
            let credentials = SMTPConfiguration.Credentials(username: auth.user, password: auth.password)
            try await SMTPClient(configuration: clientConfiguration(for: server, credentials: credentials), logger: testLogger)
                .send(testMessage())
            #expect(try server.receivedMessages().map(\.authUser) == ["agora"])
        }
    }

    @Test("a wrong password fails permanently with 535, and the error does not show it",
          arguments: ["PLAIN", "LOGIN"])
    func wrongPassword(_ mechanism: String) async throws {
        try await SMTPTestServer.with(.init(auth: auth, authMechanisms: [mechanism])) { server in
            let credentials = SMTPConfiguration.Credentials(username: auth.user, password: "wrong-password")
            let client = SMTPClient(configuration: clientConfiguration(for: server, credentials: credentials), logger: testLogger)
            let error = try await #require(throws: SMTPReplyError.self) { try await client.send(testMessage()) }
            #expect(error.code == 535)
            #expect(error.stage == .auth)
            #expect(error.isPermanent)
            #expect(!"\(error)".contains("wrong-password"))
            #expect(try server.receivedMessages().isEmpty)
        }
    }

    @Test("without credentials, a server that requires AUTH refuses MAIL permanently")
    func missingCredentials() async throws {
        try await SMTPTestServer.with(.init(auth: auth)) { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger)
            let error = try await #require(throws: SMTPReplyError.self) { try await client.send(testMessage()) }
            #expect(error.stage == .mail)
            #expect(error.code == 530)
            #expect(error.isPermanent)
        }
    }
}
