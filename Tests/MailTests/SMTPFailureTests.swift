import SMTPTestSupport
import Mail
import Testing

@Suite("SMTP failures", .needsSMTPTestServer)
struct SMTPFailureTests {
    @Test("a 451 is transient: the first send throws, the retry is delivered")
    func transientThenDelivered() async throws {
        try await SMTPTestServer.with(.init(failOnce: 451)) { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger)
            let error = try await #require(throws: SMTPReplyError.self) { try await client.send(testMessage()) }
            #expect(error.code == 451)
            #expect(error.enhancedCode == "4.3.0")
            #expect(error.stage == .data)
            #expect(!error.isPermanent)
            try await client.send(testMessage())
            #expect(try server.receivedMessages().count == 1)
        }
    }

    @Test("a 451 to RCPT TO is transient too")
    func transientRecipient() async throws {
        try await SMTPTestServer.with(.init(failOnce: 451, failAt: "rcpt")) { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger)
            let error = try await #require(throws: SMTPReplyError.self) { try await client.send(testMessage()) }
            #expect(error.stage == .rcpt)
            #expect(!error.isPermanent)
            try await client.send(testMessage())
        }
    }

    @Test("a 550 to RCPT TO is permanent and names the recipient")
    func permanentRecipient() async throws {
        try await SMTPTestServer.with(.init(reject: 550, failAt: "rcpt")) { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger)
            let error = try await #require(throws: SMTPReplyError.self) { try await client.send(testMessage()) }
            #expect(error.code == 550)
            #expect(error.stage == .rcpt)
            #expect(error.isPermanent)
            #expect(error.command == "RCPT TO:<minsu@example.com>")
            #expect(try server.receivedMessages().isEmpty)
        }
    }

    @Test("a 550 at the end of DATA is permanent")
    func permanentData() async throws {
        try await SMTPTestServer.with(.init(reject: 550)) { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger)
            let error = try await #require(throws: SMTPReplyError.self) { try await client.send(testMessage()) }
            #expect(error.stage == .data)
            #expect(error.isPermanent)
        }
    }

    @Test("a refused connection is a transient error at the connect stage")
    func connectionRefused() async throws {
        // A port that was just listening and is now closed.
        let port = try await SMTPTestServer.with(.init(silent: true)) { $0.port }
        let configuration = SMTPConfiguration(host: "127.0.0.1", port: port, encryption: .none)
        let error = try await #require(throws: SMTPConnectionError.self) {
            try await SMTPClient(configuration: configuration, logger: testLogger).send(testMessage())
        }
        #expect(error.stage == .connect)
        #expect(error.reason == .connectFailed("connection refused"))
        #expect(!error.isPermanent)
    }

    @Test("a server that accepts the connection but never greets times out at the greeting stage")
    func silentServerTimesOut() async throws {
        try await SMTPTestServer.with(.init(silent: true)) { server in
            var configuration = SMTPConfiguration(host: "127.0.0.1", port: server.port, encryption: .none)
            configuration.commandTimeout = .seconds(1)
            let clock = ContinuousClock()
            let started = clock.now
            let error = try await #require(throws: SMTPConnectionError.self) {
                try await SMTPClient(configuration: configuration, logger: testLogger).send(testMessage())
            }
            let elapsed = clock.now - started
            #expect(error.stage == .greeting)
            #expect(error.reason == .timedOut(.seconds(1)))
            #expect(!error.isPermanent)
            // Wide margins: CI is a loaded 2-core machine.
            #expect(elapsed >= .milliseconds(900))
            #expect(elapsed < .seconds(15))
        }
    }

    @Test("a server that hangs up mid-conversation is a transient error naming the stage")
    func hangUp() async throws {
        try await SMTPTestServer.with(.init(hangUp: true)) { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger)
            let error = try await #require(throws: SMTPConnectionError.self) { try await client.send(testMessage()) }
            #expect(error.stage == .ehlo)
            #expect(error.reason == .closedByServer)
            #expect(!error.isPermanent)
            #expect("\(error)" == "SMTP EHLO to 127.0.0.1:\(server.port) failed: the server closed the connection")
        }
    }

    @Test("cancelling the sending task ends the wait for a reply at once")
    func cancellation() async throws {
        try await SMTPTestServer.with(.init(silent: true)) { server in
            let configuration = clientConfiguration(for: server)  // a 30 s command timeout
            let sending = Task { try await SMTPClient(configuration: configuration, logger: testLogger).send(testMessage()) }
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let cancelled = clock.now
            sending.cancel()
            await #expect(throws: CancellationError.self) { try await sending.value }
            #expect(clock.now - cancelled < .seconds(10))
        }
    }

    @Test("an invalid address is refused before connecting")
    func invalidAddressBeforeConnecting() async throws {
        // Nothing listens on this configuration; the error must come from validation, not the network.
        let configuration = SMTPConfiguration(host: "127.0.0.1", port: 9, encryption: .none)
        await #expect(throws: MailEncodingError.invalidAddress("not an address")) {
            try await SMTPClient(configuration: configuration, logger: testLogger)
                .send(testMessage(to: [MailAddress("not an address")]))
        }
    }
}
