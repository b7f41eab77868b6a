import Storage

/// What the queue probe jobs record: every execution, and each job's effect once.
struct CreateQueueProbe: Migration {
    let version = 3
    let name = "create_queue_probe"
    let statements = [
        """
        CREATE TABLE queue_probe_runs (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            started_at INTEGER NOT NULL
        )
        """,
        "CREATE INDEX queue_probe_runs_job ON queue_probe_runs (job_id)",
        """
        CREATE TABLE queue_probe_effects (
            idempotency_key TEXT PRIMARY KEY,
            job_id INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            applied_at INTEGER NOT NULL
        )
        """,
    ]
}
