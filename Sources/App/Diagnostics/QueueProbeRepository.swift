import SQLKit
import Storage

/// What the queue probe jobs record.
protocol QueueProbeRepository: Sendable {
    /// Logs one execution of probe job `jobID`.
    func recordRun(jobID: Int64, attempt: Int, at time: Timestamp, on db: any SQLDatabase) async throws
    /// Applies the probe's effect unless one with `idempotencyKey` was applied already.
    func applyEffect(idempotencyKey: String, jobID: Int64, attempt: Int, at time: Timestamp, on db: any SQLDatabase) async throws
}
