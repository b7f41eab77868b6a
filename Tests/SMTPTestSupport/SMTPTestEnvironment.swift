import Foundation
import ProcessTestSupport
import Synchronization

/// Whether the SMTP integration tests can run here: python3 with aiosmtpd (installed once with
/// pip if missing). Without it they are skipped with the reason printed, except on CI
/// (`CI=true`), where they run and fail, so a missing install step cannot pass unnoticed.
public enum SMTPTestEnvironment {
    /// `scripts/smtp-test-server.py`, found from this file's place in the package.
    public static let scriptPath: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SMTPTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package
        .appendingPathComponent("scripts/smtp-test-server.py").path

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// True when the integration tests should run: the server works, or this is CI.
    public static func shouldRun() async -> Bool {
        switch await availability.value {
        case .available:
            return true
        case .unavailable(let reason):
            if isCI { return true }
            if !reasonPrinted.exchange(true, ordering: .relaxed) {
                print("SMTP integration tests skipped: \(reason)")
            }
            return false
        }
    }

    /// Throws the reason the server cannot run, so a CI run fails with it.
    public static func requireServerScript() async throws {
        if case .unavailable(let reason) = await availability.value {
            throw SMTPTestServerError(description: "the SMTP test server cannot run: \(reason)")
        }
    }

    private static let reasonPrinted = Atomic<Bool>(false)

    private enum Availability: Sendable {
        case available
        case unavailable(String)
    }

    private static let availability = Task<Availability, Never> {
        if await python(["-c", "import aiosmtpd"]) {
            return .available
        }
        _ = await python(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "aiosmtpd"])
        if await python(["-c", "import aiosmtpd"]) {
            return .available
        }
        return .unavailable("python3 cannot import aiosmtpd and `python3 -m pip install aiosmtpd` failed")
    }

    private static func python(_ arguments: [String]) async -> Bool {
        let status = try? await BlockingWork.run {
            try ChildProcess("/usr/bin/env", ["python3"] + arguments).wait()
        }
        return status == 0
    }
}
