import App
import HTTPTypes
import Foundation
import Queue
import Testing

/// A job kind for the admin tests: it fails for good, or succeeds, as told.
struct AdminTestJob: Job {
    static let name = "test.admin"
    var fail: Bool
}

struct AdminTestFailure: Error, CustomStringConvertible {
    var description: String { "failed on purpose" }
}

@Suite("Admin queue API")
struct AdminQueueTests {
    @Test("every admin route is 401 without a token and 403 for a member", arguments: TestEngine.allCases)
    func adminsOnly(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let member = try await api.user()
            let routes: [(HTTPRequest.Method, String)] = [
                (.get, "/api/admin/queues"), (.get, "/api/admin/jobs"), (.post, "/api/admin/jobs/1/retry"),
                (.delete, "/api/admin/jobs/1"), (.post, "/api/admin/queues/mail/pause"), (.post, "/api/admin/queues/mail/resume"),
            ]
            for (method, path) in routes {
                expectError(try await api.request(method, path), .unauthorized)
                expectError(try await api.request(method, path, token: member.accessToken), .forbidden, "forbidden")
            }
        }
    }

    @Test("queues show their depth by state; jobs are listed by state and queue, a page at a time", arguments: TestEngine.allCases)
    func depthsAndListing(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let admin = try await api.admin()
            for _ in 0..<3 { _ = try await api.user() }
            #expect(try await eventually {
                let queues = try await api.get("/api/admin/queues", token: admin.accessToken)
                let mail = queues.json["items"].array.first { $0["name"].string == "mail" }
                return mail?["counts"]["completed"].int == 4 && mail?["paused"].bool == false
            })
            let ids = try await api.allPageIDs("/api/admin/jobs?queue=mail&state=completed&limit=3", token: admin.accessToken)
            #expect(ids.count == 4 && ids == ids.sorted(by: >))
            let job = try await api.get("/api/admin/jobs?queue=mail&limit=1", token: admin.accessToken).json["items"][0]
            #expect(job["kind"].string == "mail.send" && job["payload"].string?.contains("verification code") == true)
            expectError(try await api.get("/api/admin/jobs?state=sleeping", token: admin.accessToken), .unprocessableContent)
        }
    }

    @Test("a dead job is retried or deleted; a pending one is deleted; a completed one is refused", arguments: TestEngine.allCases)
    func retryAndRemove(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let admin = try await api.admin()
            let queue = api.services.queue
            queue.registry.register(AdminTestJob.self) { job, _ in
                if job.fail { throw JobCannotSucceed(AdminTestFailure()) }
            }
            let doomed = try await queue.enqueue(AdminTestJob(fail: true))
            #expect(try await eventually { try await queue.driver.job(doomed.id)?.state == .dead })
            let dead = try await api.get("/api/admin/jobs?state=dead", token: admin.accessToken)
            #expect(dead.json["items"][0]["id"].int64 == doomed.id)
            #expect(dead.json["items"][0]["errors"][0]["error"].string == "failed on purpose")

            let retried = try await api.post("/api/admin/jobs/\(doomed.id)/retry", [:], token: admin.accessToken)
            // The answer is the job as read after the retry: an idle worker may have claimed it already.
            #expect(retried.status == .ok && ["pending", "running", "dead"].contains(retried.json["state"].string ?? ""), "\(retried.body)")
            #expect(retried.json["attempt"].int ?? 0 <= 1 && retried.json["id"].int64 == doomed.id, "\(retried.body)")
            #expect(try await eventually { try await queue.driver.job(doomed.id)?.state == .dead })
            #expect(try await api.delete("/api/admin/jobs/\(doomed.id)", token: admin.accessToken).status == .noContent)
            expectError(try await api.delete("/api/admin/jobs/\(doomed.id)", token: admin.accessToken), .notFound)
            expectError(try await api.post("/api/admin/jobs/\(doomed.id)/retry", [:], token: admin.accessToken), .notFound)

            let fine = try await queue.enqueue(AdminTestJob(fail: false))
            #expect(try await eventually { try await queue.driver.job(fine.id)?.state == .completed })
            expectError(try await api.post("/api/admin/jobs/\(fine.id)/retry", [:], token: admin.accessToken), .conflict, "job_not_retryable")
            expectError(try await api.delete("/api/admin/jobs/\(fine.id)", token: admin.accessToken), .conflict, "job_completed")

            let later = try await queue.enqueue(AdminTestJob(fail: false), options: EnqueueOptions(delay: .seconds(3600)))
            #expect(try await api.delete("/api/admin/jobs/\(later.id)", token: admin.accessToken).status == .noContent)
            #expect(try await queue.driver.job(later.id) == nil)
        }
    }

    @Test("a paused queue keeps its jobs pending until it is resumed", arguments: TestEngine.allCases)
    func pauseAndResume(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let admin = try await api.admin()
            let queue = api.services.queue
            queue.registry.register(AdminTestJob.self) { _, _ in }
            let paused = try await api.post("/api/admin/queues/default/pause", [:], token: admin.accessToken)
            #expect(paused.status == .ok && paused.json["paused"].bool == true, "\(paused.body)")
            let job = try await queue.enqueue(AdminTestJob(fail: false))
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await queue.driver.job(job.id)?.state == .pending)
            let resumed = try await api.post("/api/admin/queues/default/resume", [:], token: admin.accessToken)
            #expect(resumed.json["paused"].bool == false && resumed.json["counts"]["pending"].int != nil)
            #expect(try await eventually { try await queue.driver.job(job.id)?.state == .completed })
        }
    }
}
