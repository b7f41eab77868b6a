import Foundation

/// A process's resident memory and CPU time, read from Linux's `/proc` (nil elsewhere, or once
/// the process is gone).
struct ProcessStatus {
    let pid: Int32

    /// `VmRSS` of `/proc/<pid>/status`, in bytes.
    var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let match = status.firstMatch(of: /VmRSS:\s+(\d+) kB/), let kilobytes = Int(match.1)
        else { return nil }
        return kilobytes * 1024
    }

    /// User plus system CPU time so far, in seconds (`utime` and `stime` of `/proc/<pid>/stat`).
    var cpuSeconds: Double? {
        // The fields after the command name, which is in parentheses and may contain spaces:
        // state is the first, utime the 12th, stime the 13th.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Waits until the process uses less than `threshold` of a core over half a second, for at most
    /// `limit`; returns whether it did.
    func waitUntilIdle(threshold: Double = 0.05, limit: Duration = .seconds(120)) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        guard var before = cpuSeconds else { return false }
        while clock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            guard let now = cpuSeconds else { return false }
            if now - before < threshold * 0.5 { return true }
            before = now
        }
        return false
    }
}
