import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process for the tests, started with `posix_spawn`.
///
/// Not Foundation's `Process`: on Linux its `run()` copies the whole 256-byte name field of each
/// `/proc/self/fd` entry, and reads past glibc's buffer when an entry sits at its end. With the
/// ~1,800 descriptors a full test run holds, that crashed the whole run now and then (fixed in
/// swift-corelibs-foundation after Swift 6.3.1). Every descriptor the tests open is close-on-exec
/// in NIO and here; the child gets only its standard streams.
public final class ChildProcess: Sendable {
    /// Where the child's standard output and error go.
    public enum Output: Sendable {
        /// /dev/null.
        case discarded
        /// Appended to this file (created if missing).
        case file(String)
        /// A pipe: read it from `output`.
        case pipe
    }

    /// Held while a pipe is made close-on-exec and while a child is spawned.
    private static let spawning = Mutex(())

    public let pid: pid_t
    /// The read end of the pipe, with `.pipe`.
    public let output: FileHandle?
    private let reaped = Mutex<Int32?>(nil)

    /// Starts `executable` (a path) with `arguments`, `environment` (the whole environment) and,
    /// if given, `directory` as its working directory. Standard error goes where `errors` says (a
    /// file or nowhere), or with standard output when it is nil.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                directory: String? = nil, output: Output = .discarded, errors: Output? = nil) throws {
        // A working directory through coreutils' `env --chdir` (posix_spawn's own is a GNU extension).
        let argv = directory.map { ["/usr/bin/env", "--chdir=\($0)", executable] + arguments } ?? [executable] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnd: Int32 = -1, childEnd: Int32 = -1
        switch output {
        case .discarded:
            childEnd = open("/dev/null", O_WRONLY | O_CLOEXEC)
        case .file(let path):
            childEnd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        case .pipe:
            // Close-on-exec before any other child can be spawned: a child of another test holding
            // the write end would keep this pipe from ever reaching its end. (`pipe2` is not in
            // Swift's Glibc module; the tests start children only through this class.)
            var ends: [Int32] = [-1, -1]
            let made = Self.spawning.withLock { _ -> Bool in
                guard pipe(&ends) == 0 else { return false }
                _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
                return true
            }
            guard made else { throw ChildProcessFailed(executable: executable, errno: errno) }
            parentEnd = ends[0]
            childEnd = ends[1]
        }
        guard childEnd >= 0 else { throw ChildProcessFailed(executable: executable, errno: errno) }
        defer { close(childEnd) }
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if input >= 0 { close(input) } }
        if input >= 0 { posix_spawn_file_actions_adddup2(&actions, input, 0) }
        posix_spawn_file_actions_adddup2(&actions, childEnd, 1)
        var errorEnd: Int32 = -1
        switch errors {
        case nil, .pipe?: break
        case .discarded?: errorEnd = open("/dev/null", O_WRONLY | O_CLOEXEC)
        case .file(let path)?: errorEnd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        }
        defer { if errorEnd >= 0 { close(errorEnd) } }
        posix_spawn_file_actions_adddup2(&actions, errorEnd >= 0 ? errorEnd : childEnd, 2)

        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnvironment: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid = pid_t()
        let started = Self.spawning.withLock { _ in posix_spawn(&pid, argv[0], &actions, nil, cArguments, cEnvironment) }
        guard started == 0 else {
            if parentEnd >= 0 { close(parentEnd) }
            throw ChildProcessFailed(executable: executable, errno: started)
        }
        self.pid = pid
        self.output = parentEnd >= 0 ? FileHandle(fileDescriptor: parentEnd, closeOnDealloc: true) : nil
    }

    /// Sends `signal` to the child (harmless once it has exited and been waited for: the pid is then not reused by it).
    public func signal(_ signal: Int32) {
        if reaped.withLock({ $0 }) == nil { kill(pid, signal) }
    }

    /// Whether the child has not exited yet (reaps it if it has).
    public var isRunning: Bool {
        reaped.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            switch waitpid(pid, &raw, WNOHANG) {
            case 0: return true
            case pid: status = Self.decode(raw); return false
            default: return false // reaped by a `wait()` that has not stored its status yet
            }
        }
    }

    /// The child's exit code (or ending signal) once `isRunning` or `wait()` has seen it exit.
    public var status: Int32? { reaped.withLock { $0 } }

    /// Blocks until the child exits; its exit code, or the number of the signal that ended it.
    /// Call it off Swift's cooperative pool.
    @discardableResult
    public func wait() -> Int32 {
        if let status = reaped.withLock({ $0 }) { return status }
        var raw: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &raw, 0) } while result == -1 && errno == EINTR
        return reaped.withLock { status in
            if status == nil { status = result == pid ? Self.decode(raw) : -1 }
            return status!
        }
    }

    private static func decode(_ raw: Int32) -> Int32 {
        raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }
}

/// `posix_spawn` (or the pipe or file for the child's output) failed.
public struct ChildProcessFailed: Error, CustomStringConvertible {
    public let executable: String
    public let errno: Int32
    public var description: String { "cannot start \(executable): \(String(cString: strerror(errno)))" }
}

/// A loopback port nobody listens on now (a server started next may still lose it to another).
public func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
