import Storage

/// The queue's SQLite schema history, recorded in `queue_migrations`. Append; never edit a landed entry.
enum SQLiteQueueMigrations {
    static let all: [any Migration] = [CreateQueueJobs(), CreateQueueSubscriptions(), CreateQueueScheduleSlots()]
}

/// Jobs, their indexes for claiming, leases and uniqueness, and paused queues.
struct CreateQueueJobs: Migration {
    let version = 1
    let name = "create_queue_jobs"
    let statements = [
        """
        CREATE TABLE queue_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            queue TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'dead', 'cancelled')),
            priority INTEGER NOT NULL DEFAULT 0,
            attempt INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
            run_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            lease_token INTEGER NOT NULL DEFAULT 0,
            lease_expires_at INTEGER,
            unique_key TEXT,
            last_error TEXT,
            errors TEXT NOT NULL DEFAULT '[]'
        )
        """,
        // The claim: due pending jobs of a queue, highest priority, then earliest, then oldest.
        "CREATE INDEX queue_jobs_claim ON queue_jobs (queue, priority DESC, run_at, id) WHERE state = 'pending'",
        "CREATE INDEX queue_jobs_leases ON queue_jobs (lease_expires_at) WHERE state = 'running'",
        // At most one live job per unique key; a finished job frees its key.
        "CREATE UNIQUE INDEX queue_jobs_unique_key ON queue_jobs (unique_key) WHERE unique_key IS NOT NULL AND state IN ('pending', 'running')",
        // Only the rare states are indexed for listing: an index covering the hot states would be
        // updated at every claim and acknowledgement.
        "CREATE INDEX queue_jobs_failed ON queue_jobs (queue, id) WHERE state IN ('dead', 'cancelled')",
        "CREATE INDEX queue_jobs_finished ON queue_jobs (finished_at) WHERE state IN ('completed', 'cancelled')",
        "CREATE TABLE queue_paused (queue TEXT PRIMARY KEY, paused_at INTEGER NOT NULL)",
    ]
}

/// Topic subscriber groups, for fan-out at publish time.
struct CreateQueueSubscriptions: Migration {
    let version = 2
    let name = "create_queue_subscriptions"
    let statements = [
        """
        CREATE TABLE queue_subscriptions (
            topic TEXT NOT NULL,
            subscriber_group TEXT NOT NULL,
            job_kind TEXT NOT NULL,
            queue TEXT NOT NULL,
            max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
            PRIMARY KEY (topic, subscriber_group)
        )
        """,
    ]
}

/// One row per fired slot of a recurring schedule: the primary key lets each slot fire once.
struct CreateQueueScheduleSlots: Migration {
    let version = 3
    let name = "create_queue_schedule_slots"
    let statements = [
        """
        CREATE TABLE queue_schedule_slots (
            schedule TEXT NOT NULL,
            slot INTEGER NOT NULL,
            job_id INTEGER NOT NULL,
            fired_at INTEGER NOT NULL,
            PRIMARY KEY (schedule, slot)
        )
        """,
    ]
}
