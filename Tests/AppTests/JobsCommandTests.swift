import Foundation
import Testing

@Suite("The agora jobs commands", .serialized)
struct JobsCommandTests {
    let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("agora-jobs-\(UUID().uuidString)").path

    func agora(_ arguments: String...) async throws -> (status: Int32, output: String) {
        try await AgoraProcess.run(arguments, dataDir: dataDir, environment: ["AGORA_LOG_LEVEL": "error"])
    }

    @Test("probe, stats, pause and resume, list, retry and discard")
    func commands() async throws {
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        #expect(try await agora("jobs", "stats").output.contains("No jobs."))
        let probe = try await agora("jobs", "probe", "--count", "3")
        #expect(probe.status == 0 && probe.output.contains("Enqueued 3 probe jobs."))
        let stats = try await agora("jobs", "stats").output
        #expect(stats.contains("queue") && stats.contains("pending"))
        #expect(stats.split(separator: "\n").contains { $0.hasPrefix("default") && $0.split(separator: " ").dropFirst().first == "3" })

        #expect(try await agora("jobs", "pause", "default").output.contains("Queue default is paused."))
        #expect(try await agora("jobs", "stats").output.contains("default (paused)"))
        #expect(try await agora("jobs", "resume", "default").output.contains("Queue default is resumed."))
        #expect(!(try await agora("jobs", "stats").output.contains("paused")))

        #expect(try await agora("jobs", "list", "--state", "pending").output.contains("agora.queue-probe"))
        #expect(try await agora("jobs", "list", "--state", "dead").output.contains("No dead jobs."))
        let wrongState = try await agora("jobs", "list", "--state", "sleeping")
        #expect(wrongState.status != 0)
        let retry = try await agora("jobs", "retry", "1")
        #expect(retry.status == 1 && retry.output.contains("Job 1 is not dead or cancelled."))
        let discard = try await agora("jobs", "discard", "999")
        #expect(discard.status == 1)
    }
}
