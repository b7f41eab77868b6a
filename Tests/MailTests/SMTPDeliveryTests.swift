import SMTPTestSupport
import Foundation
import Mail
import Testing

@Suite("SMTP delivery", .needsSMTPTestServer)
struct SMTPDeliveryTests {
    @Test("a Korean message arrives intact: subject, display name and body decode to the originals")
    func koreanMessageArrivesIntact() async throws {
        let message = MailMessage(
            messageID: "welcome-7@agora.local", from: MailAddress("agora@agora.local", name: "아고라 운영팀"),
            to: [MailAddress("minsu@example.com", name: "김민수 (민수)")],
            subject: "[아고라] 김민수님, 가입을 환영합니다! 🎉 비밀번호 재설정 링크가 30분 동안 유효합니다",
            text: "안녕하세요, 김민수님 👋\n\n아래 링크를 눌러 가입을 마쳐 주세요:\nhttps://agora.example.com/verify?token=abc=def\n\n— 아고라 드림 🙇\n")
        try await SMTPTestServer.with { server in
            try await SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger).send(message)
            let received = try #require(try server.receivedMessages().first)
            #expect(received.subject == message.subject)
            #expect(received.fromName == "아고라 운영팀")
            #expect(received.fromAddress == "agora@agora.local")
            #expect(received.to == [.init(name: "김민수 (민수)", address: "minsu@example.com")])
            #expect(received.body == message.text)
            #expect(received.mailFrom == "agora@agora.local")
            #expect(received.rcptTos == ["minsu@example.com"])
            #expect(received.headerLinesMax <= 78)
            #expect(received.bodyLinesMax <= 76)
            #expect(received.rawBytes.allSatisfy { $0 < 0x80 })
            #expect(received.tls == false)
        }
    }

    @Test("lines that are a lone dot or start with dots arrive unchanged")
    func dotStuffing() async throws {
        let text = "before\n.\n..two dots\n.one dot\nafter\n"
        try await SMTPTestServer.with { server in
            try await SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger).send(testMessage(text: text))
            let received = try #require(try server.receivedMessages().first)
            #expect(received.contentTransferEncoding == "7bit")
            #expect(received.body == text)
        }
    }

    @Test("every recipient is named in RCPT TO and in the To header")
    func multipleRecipients() async throws {
        let recipients = [
            MailAddress("a@example.com", name: "에이"), MailAddress("b@example.org"), MailAddress("c@example.net", name: "C. Person"),
        ]
        try await SMTPTestServer.with { server in
            try await SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger).send(testMessage(to: recipients))
            let received = try #require(try server.receivedMessages().first)
            #expect(received.rcptTos == recipients.map(\.address))
            #expect(received.to.map(\.address) == recipients.map(\.address))
            #expect(received.to.map(\.name) == ["에이", "", "C. Person"])
        }
    }

    @Test("a server that refuses EHLO gets HELO and still receives the mail")
    func heloFallback() async throws {
        try await SMTPTestServer.with(.init(noEHLO: true)) { server in
            try await SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger).send(testMessage())
            #expect(try server.receivedMessages().count == 1)
        }
    }

    @Test("two sends are two connections and two messages")
    func twoSends() async throws {
        try await SMTPTestServer.with { server in
            let client = SMTPClient(configuration: clientConfiguration(for: server), logger: testLogger)
            try await client.send(testMessage(messageID: "one@agora.local"))
            try await client.send(testMessage(messageID: "two@agora.local"))
            #expect(try server.receivedMessages().count == 2)
        }
    }
}
