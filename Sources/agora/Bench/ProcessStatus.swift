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

extension ProcessStatus {
    /// The fields of `/proc/<pid>/stat` after the command name (which is in parentheses and may
    /// contain spaces): state is the first, the parent's pid the second, utime the 12th, stime the
    /// 13th, and the CPU time of children already waited for (cutime, cstime) the 14th and 15th.
    private var statFields: [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 14 ? fields : nil
    }

    /// The parent's pid.
    var parentPID: Int32? { statFields.flatMap { Int32($0[1]) } }

    /// The CPU time so far of the process `root` and all its children, in seconds: the live
    /// children's own, and what the children that ended and were waited for had used (a
    /// PostgreSQL postmaster waits for its backends and parallel workers). Linux only.
    static func cpuSeconds(ofTreeRootedAt root: Int32) -> Double? {
        guard let rootFields = ProcessStatus(pid: root).statFields,
              let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc")
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = rootFields[11...14].compactMap { Double($0) }.reduce(0, +)
        for entry in entries where entry.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let pid = Int32(entry), pid != root, let fields = ProcessStatus(pid: pid).statFields,
                  Int32(fields[1]) == root
            else { continue }
            total += (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        }
        return total / ticks
    }
}

extension ProcessStatus {
    /// The CPU time the whole machine spent busy so far (every core: user, nice, system, irq,
    /// softirq and steal of `/proc/stat`), in seconds.
    static var machineBusySeconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 8 else { return nil }
        // user nice system idle iowait irq softirq steal
        let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
