import CoreMetrics
import Storage
import Synchronization

/// The queue's metrics through swift-metrics (a Prometheus or other backend is bootstrapped by
/// the process): counts per queue of jobs enqueued, started, succeeded, failed, retried and dead;
/// the enqueue-to-start latency and the run time; and the depth per queue and state.
public final class QueueMetrics: Sendable {
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

    /// - Parameter factory: where the metrics go; the process's bootstrapped system by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    func enqueued(_ count: Int, queue: String) { counter("agora_queue_jobs_enqueued_total", queue).increment(by: count) }
    func published(_ deliveries: Int, topic: String) {
        counter("agora_queue_events_published_total", topic, dimension: "topic").increment()
        counter("agora_queue_event_deliveries_enqueued_total", topic, dimension: "topic").increment(by: deliveries)
    }

    /// A claimed job starts: counts it and records how long it waited since it was due.
    func started(_ job: ClaimedJob) {
        counter("agora_queue_jobs_started_total", job.queue).increment()
        let due = max(job.createdAt.milliseconds, job.runAt.milliseconds)
        timer("agora_queue_pickup_latency_seconds", job.queue)
            .recordMilliseconds(max(0, Timestamp.now.milliseconds - due))
    }

    func finished(_ job: ClaimedJob, after duration: Duration) {
        timer("agora_queue_job_duration_seconds", job.queue).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func succeeded(queue: String) { counter("agora_queue_jobs_succeeded_total", queue).increment() }
    func failed(queue: String) { counter("agora_queue_jobs_failed_total", queue).increment() }
    func retried(queue: String) { counter("agora_queue_jobs_retried_total", queue).increment() }
    func dead(queue: String) { counter("agora_queue_jobs_dead_total", queue).increment() }

    /// Sets the depth gauges from fresh counts; states with no jobs read 0.
    func depth(_ counts: [QueueCount]) {
        for queue in Set(counts.map(\.queue)) {
            for state in JobState.allCases {
                let count = counts.first { $0.queue == queue && $0.state == state }?.count ?? 0
                Gauge(label: "agora_queue_jobs", dimensions: [("queue", queue), ("state", state.rawValue)], factory: factory)
                    .record(count)
            }
        }
    }

    private func counter(_ label: String, _ value: String, dimension: String = "queue") -> Counter {
        counters.withLock { counters in
            let key = label + "\u{0}" + value
            if let counter = counters[key] { return counter }
            let counter = Counter(label: label, dimensions: [(dimension, value)], factory: factory)
            counters[key] = counter
            return counter
        }
    }

    private func timer(_ label: String, _ queue: String) -> CoreMetrics.Timer {
        timers.withLock { timers in
            let key = label + "\u{0}" + queue
            if let timer = timers[key] { return timer }
            let timer = CoreMetrics.Timer(label: label, dimensions: [("queue", queue)], factory: factory)
            timers[key] = timer
            return timer
        }
    }
}
