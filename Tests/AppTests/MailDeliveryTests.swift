import App
import Foundation
import Logging
import Queue
import SMTPTestSupport
import Testing

@Suite("Mail over SMTP", .needsSMTPTestServer)
struct MailDeliveryTests {
    private func settings(_ server: SMTPTestServer) -> AppSettings {
        testSettings { $0.smtpURL = "smtp://127.0.0.1:\(server.port)?starttls=never" }
    }

    private func mailJobs(_ api: API) async throws -> [JobRecord] {
        try await api.services.queue.driver.jobs(in: nil, queue: "mail", before: nil, limit: 100).filter { $0.kind == SendMailJob.name }
    }

    @Test("the verification mail reaches a real SMTP server with a Korean nickname intact, and its code verifies", arguments: TestEngine.allCases)
    func verificationMailArrives(engine: TestEngine) async throws {
        try await SMTPTestServer.with { server in
            try await withAgora(on: engine, settings(server)) { api in
                let user = try await api.user("김민수", verified: false)
                #expect(try await eventually { try server.receivedMessages().count == 1 })
                let mail = try #require(try server.receivedMessages().first)
                #expect(mail.rcptTos == [user.email] && mail.to == [.init(name: "김민수", address: user.email)])
                #expect(mail.body?.contains("Hello 김민수,") == true)
                let code = try #require(mail.subject?.firstMatch(of: /code: (\d{6})$/).map { String($0.1) })
                #expect(try await api.post("/api/auth/verify", ["email": user.email, "code": code]).status == .ok)
            }
        }
    }

    @Test("a 451 reply is retried and the mail is delivered once", arguments: TestEngine.allCases)
    func transientFailureIsRetried(engine: TestEngine) async throws {
        try await SMTPTestServer.with(SMTPTestServer.Options(failOnce: 451)) { server in
            try await withAgora(on: engine, settings(server)) { api in
                _ = try await api.user(verified: false)
                #expect(try await eventually(within: 30) { try await mailJobs(api).first?.state == .completed })
                let job = try #require(try await mailJobs(api).first)
                #expect(job.attempt == 2 && job.errors.count == 1 && job.errors[0].error.contains("451"))
                #expect(try server.receivedMessages().count == 1)
            }
        }
    }

    @Test("a 550 reply makes the mail job dead at once, without a retry", arguments: TestEngine.allCases)
    func permanentFailureIsDead(engine: TestEngine) async throws {
        try await SMTPTestServer.with(SMTPTestServer.Options(reject: 550)) { server in
            try await withAgora(on: engine, settings(server)) { api in
                _ = try await api.user(verified: false)
                #expect(try await eventually { try await mailJobs(api).first?.state == .dead })
                let job = try #require(try await mailJobs(api).first)
                #expect(job.attempt == 1 && job.lastError?.contains("550") == true)
                #expect(try server.receivedMessages().isEmpty)
            }
        }
    }
}

@Suite("Mail settings")
struct MailSettingsTests {
    @Test("an AGORA_SMTP_URL that is not smtp:// or smtps:// stops start-up with an error")
    func badSMTPURLFailsFast() async throws {
        let settings = testSettings { $0.smtpURL = "ftp://mail.example.com" }
        defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
        await #expect(throws: (any Error).self) {
            let services = try await AgoraServices.open(settings: settings, logger: Logger(label: "agora-test"))
            try await services.close()
        }
    }
}
