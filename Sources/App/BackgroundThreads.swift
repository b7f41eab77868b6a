import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Threads for background work that must not take CPU from requests: the bcrypt of queued
/// password strengthening and the outbox's file writes. Each runs in Linux's SCHED_IDLE class, so a
/// backlog after a burst uses only the CPU that requests leave (the queue levels the load; the
/// kernel's scheduler enforces it). SCHED_IDLE still gets a small share under constant load, so
/// the backlog never starves. In profiles of a sign-up burst the two threads took 21 % of the
/// two cores at nice 10, and 5–12 % as SCHED_IDLE.
enum BackgroundThreads {
    /// A started pool of `count` SCHED_IDLE threads.
    static func lowPriorityPool(threads count: Int = 1) -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: count)
        pool.start()
        // Each thread lowers itself on its first work item; with one thread, this is it.
        for _ in 0..<count { pool.submit { _ in lowerThisThreadsPriority() } }
        return pool
    }

    /// The calling thread to SCHED_IDLE (on Linux scheduling is per thread, and pid 0 is the
    /// calling one). A no-op elsewhere.
    static func lowerThisThreadsPriority() {
        #if os(Linux)
        var parameters = sched_param(sched_priority: 0)
        _ = sched_setscheduler(0, 5 /* SCHED_IDLE */, &parameters)
        #endif
    }
}
