import SMTPTestSupport
import Mail
import Testing

@Suite("SMTP transport", .needsSMTPTestServer)
struct SMTPTransportTests {
    @Test("each delivered mail logs exactly one info line, without the password")
    func logsOneLine() async throws {
        try await SMTPTestServer.with(.init(auth: ("agora", "hunter2"))) { server in
            let logs = CapturedLogs()
            let configuration = clientConfiguration(for: server, credentials: .init(username: "agora", password: "hunter2"))
            let transport = SMTPTransport(configuration: configuration, logger: logs.logger)
            try await transport.send(testMessage(subject: "안녕하세요"))
            let info = logs.all.filter { $0.level >= .info }
            #expect(info.count == 1)
            #expect(info.first?.metadata["mail.transport"] == "smtp")
            #expect(info.first?.metadata["mail.subject"] == "안녕하세요")
            #expect(!logs.all.contains { "\($0.message) \($0.metadata)".contains("hunter2") })
            #expect(!logs.all.contains { "\($0.message) \($0.metadata)".contains("aHVudGVyMg") })
            #expect(try server.receivedMessages().count == 1)
        }
    }
}
