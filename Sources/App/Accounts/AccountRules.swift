import Foundation

/// The rules an account's fields must follow, with the normal form each is stored in.
enum AccountRules {
    static let nicknameLength = 2...30
    static let minPasswordLength = 8
    /// bcrypt reads only the first 72 bytes; a longer cap just bounds the work a request can cause.
    static let maxPasswordLength = 256
    static let maxBioLength = 500
    static let maxEmailLength = 254

    /// Trimmed and lower-cased, or nil when it is not an address.
    static func normalizedEmail(_ raw: String) -> String? {
        let email = trimmed(raw).lowercased()
        guard email.count <= maxEmailLength else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last,
              !local.isEmpty, local.count <= 64,
              domain.contains("."), !domain.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty),
              !email.unicodeScalars.contains(where: { $0.properties.isWhitespace || isControl($0) })
        else { return nil }
        return email
    }

    /// `raw` without leading and trailing white space (Unicode's White_Space, which holds
    /// Foundation's `whitespacesAndNewlines`), without bridging to `NSString` as Foundation's
    /// trimming does: that was 1 % of a sign-up.
    static func trimmed(_ raw: String) -> String {
        let scalars = raw.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }

    /// Foundation's `controlCharacters` (general categories Cc and Cf), without building a
    /// `CharacterSet` per scalar, which cost 3 % of a sign-up.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format: true
        default: false
        }
    }

    static func email(_ raw: String?, problems: inout [FieldProblem]) -> String? {
        guard let raw else {
            problems.append(FieldProblem(field: "email", problem: "is required"))
            return nil
        }
        guard let email = normalizedEmail(raw) else {
            problems.append(FieldProblem(field: "email", problem: "must be an email address"))
            return nil
        }
        return email
    }

    /// Trimmed; 2–30 characters of any script, no control characters.
    static func nickname(_ raw: String?, required: Bool, problems: inout [FieldProblem]) -> String? {
        guard let raw else {
            if required { problems.append(FieldProblem(field: "nickname", problem: "is required")) }
            return nil
        }
        let nickname = trimmed(raw)
        if !nicknameLength.contains(nickname.count) {
            problems.append(FieldProblem(field: "nickname", problem: "must be 2 to 30 characters"))
            return nil
        }
        if nickname.unicodeScalars.contains(where: isControl) {
            problems.append(FieldProblem(field: "nickname", problem: "must not contain control characters"))
            return nil
        }
        return nickname
    }

    static func password(_ raw: String?, field: String = "password", problems: inout [FieldProblem]) -> String? {
        guard let raw else {
            problems.append(FieldProblem(field: field, problem: "is required"))
            return nil
        }
        guard raw.count >= minPasswordLength else {
            problems.append(FieldProblem(field: field, problem: "must be at least \(minPasswordLength) characters"))
            return nil
        }
        guard raw.count <= maxPasswordLength else {
            problems.append(FieldProblem(field: field, problem: "must be at most \(maxPasswordLength) characters"))
            return nil
        }
        return raw
    }

    static func bio(_ raw: String?, problems: inout [FieldProblem]) -> String? {
        guard let raw else { return nil }
        // Neither SQLite's text binding nor PostgreSQL's text type can hold U+0000.
        guard !raw.unicodeScalars.contains("\u{0}") else {
            problems.append(FieldProblem(field: "bio", problem: "must not contain NUL characters"))
            return nil
        }
        guard raw.count <= maxBioLength else {
            problems.append(FieldProblem(field: "bio", problem: "must be at most \(maxBioLength) characters"))
            return nil
        }
        return raw
    }

    static func throwIfAny(_ problems: [FieldProblem]) throws {
        if !problems.isEmpty { throw ServiceError.validation(problems) }
    }
}
