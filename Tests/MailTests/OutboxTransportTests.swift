import Foundation
import Mail
import Testing

@Suite("Outbox transport")
struct OutboxTransportTests {
    private func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("agora-outbox-\(UUID().uuidString)/outbox").path
    }

    private func files(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    @Test("a message becomes one .eml file named after its Message-ID, in a directory created on demand")
    func writesOneFile() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path) }
        let message = testMessage(subject: "환영합니다", text: "안녕하세요\n")
        let outbox = OutboxTransport(directory: directory, logger: testLogger)
        try await outbox.send(message)
        #expect(try files(in: directory) == ["job-42@agora.local.eml"])
        let written = try Data(contentsOf: outbox.fileURL(forMessageID: message.messageID))
        #expect(Array(written) == (try message.rendered()))
    }

    @Test("sending the same Message-ID again replaces the file, leaving one and no temporary files")
    func resendReplaces() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path) }
        let outbox = OutboxTransport(directory: directory, logger: testLogger)
        try await outbox.send(testMessage(subject: "first attempt"))
        try await outbox.send(testMessage(subject: "second attempt"))
        #expect(try files(in: directory) == ["job-42@agora.local.eml"])
        let text = try String(contentsOf: outbox.fileURL(forMessageID: "job-42@agora.local"), encoding: .utf8)
        #expect(text.contains("Subject: second attempt\r\n"))
    }

    @Test("concurrent deliveries of the same Message-ID leave one whole file")
    func concurrentDeliveries() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path) }
        let outbox = OutboxTransport(directory: directory, logger: testLogger)
        let messages = (1...8).map { testMessage(subject: "attempt \($0)", text: String(repeating: "line \($0)\n", count: 2000)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for message in messages {
                group.addTask { try await outbox.send(message) }
            }
            try await group.waitForAll()
        }
        #expect(try files(in: directory) == ["job-42@agora.local.eml"])
        let written = try Array(Data(contentsOf: outbox.fileURL(forMessageID: "job-42@agora.local")))
        #expect(try messages.contains { try $0.rendered() == written })
    }

    @Test("Message-IDs are made safe as file names")
    func sanitisedNames() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path) }
        let outbox = OutboxTransport(directory: directory, logger: testLogger)
        try await outbox.send(testMessage(messageID: "../../etc/passwd@x"))
        try await outbox.send(testMessage(messageID: ".hidden$id@x"))
        #expect(try files(in: directory) == ["_.._.._etc_passwd@x.eml", "_.hidden_id@x.eml"])
    }

    @Test("each delivered mail logs exactly one info line with id, recipients, subject and transport")
    func logsOneLine() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path) }
        let logs = CapturedLogs()
        try await OutboxTransport(directory: directory, logger: logs.logger).send(testMessage())
        let info = logs.all.filter { $0.level >= .info }
        #expect(info.count == 1)
        #expect(info.first?.metadata["mail.id"] == "job-42@agora.local")
        #expect(info.first?.metadata["mail.to"] == "minsu@example.com")
        #expect(info.first?.metadata["mail.subject"] == "Welcome")
        #expect(info.first?.metadata["mail.transport"] == "outbox")
    }

    @Test("an unwritable directory is a transient error; a header injection a permanent one")
    func errors() async throws {
        let outbox = OutboxTransport(directory: "/proc/agora-cannot-write-here", logger: testLogger)
        let error = try await #require(throws: OutboxError.self) { try await outbox.send(testMessage()) }
        #expect(!error.isPermanent)
        await #expect(throws: MailEncodingError.lineBreakInHeader(field: "Subject")) {
            try await outbox.send(testMessage(subject: "a\r\nBcc: x@example.com"))
        }
    }
}
