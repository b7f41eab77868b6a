import Foundation
import Storage

/// A five-field cron expression (`minute hour day-of-month month day-of-week`), evaluated in UTC.
///
/// Each field takes `*`, numbers, ranges `a-b`, lists `a,b`, and steps `*/n` or `a-b/n`.
/// Days of the week run 0–7 with both 0 and 7 for Sunday. As in cron, when both day fields are
/// restricted a time matches if either does. Written by hand: no available package parses cron.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    private let minutes: Set<Int>
    private let hours: Set<Int>
    private let daysOfMonth: Set<Int>
    private let months: Set<Int>
    private let daysOfWeek: Set<Int>
    private let daysOfMonthRestricted: Bool
    private let daysOfWeekRestricted: Bool

    /// A cron expression that does not parse.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else { throw Invalid(description: "\"\(text)\" needs 5 fields, has \(fields.count)") }
        description = fields.joined(separator: " ")
        minutes = try Self.parse(fields[0], name: "minute", range: 0...59)
        hours = try Self.parse(fields[1], name: "hour", range: 0...23)
        daysOfMonth = try Self.parse(fields[2], name: "day of month", range: 1...31)
        months = try Self.parse(fields[3], name: "month", range: 1...12)
        daysOfWeek = Set(try Self.parse(fields[4], name: "day of week", range: 0...7).map { $0 % 7 })
        daysOfMonthRestricted = fields[2] != "*"
        daysOfWeekRestricted = fields[4] != "*"
    }

    /// The first matching minute strictly after `time`, or nil if none comes within eight years
    /// (an expression such as `0 0 31 2 *` never matches).
    public func next(after time: Timestamp) -> Timestamp? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = (time.milliseconds / 60_000 + 1) * 60_000
        var date = Date(timeIntervalSince1970: Double(start) / 1000)
        let limit = date.addingTimeInterval(8 * 366 * 86_400)
        while date < limit {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
            guard let month = parts.month, let day = parts.day, let hour = parts.hour, let minute = parts.minute,
                  let weekday = parts.weekday else { return nil }
            if !months.contains(month) {
                date = calendar.date(from: DateComponents(year: parts.year, month: month + 1, day: 1))!
            } else if !dayMatches(dayOfMonth: day, dayOfWeek: weekday - 1) {
                date = calendar.date(from: DateComponents(year: parts.year, month: month, day: day + 1))!
            } else if !hours.contains(hour) {
                date = calendar.date(from: DateComponents(year: parts.year, month: month, day: day, hour: hour + 1))!
            } else if !minutes.contains(minute) {
                date = date.addingTimeInterval(60)
            } else {
                return Timestamp(date)
            }
        }
        return nil
    }

    private func dayMatches(dayOfMonth: Int, dayOfWeek: Int) -> Bool {
        switch (daysOfMonthRestricted, daysOfWeekRestricted) {
        case (true, true): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(dayOfWeek)
        case (true, false): daysOfMonth.contains(dayOfMonth)
        case (false, true): daysOfWeek.contains(dayOfWeek)
        case (false, false): true
        }
    }

    private static func parse(_ field: String, name: String, range: ClosedRange<Int>) throws -> Set<Int> {
        var values = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw Invalid(description: "bad \(name) \"\(part)\"") }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value > 0 else { throw Invalid(description: "bad step in \(name) \"\(part)\"") }
                step = value
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                guard (1...2).contains(ends.count), let low = ends[0], let high = ends.count == 2 ? ends[1] : (pieces.count == 2 ? range.upperBound : low),
                      range.contains(low), range.contains(high), low <= high else {
                    throw Invalid(description: "\(name) \"\(part)\" is outside \(range.lowerBound)-\(range.upperBound)")
                }
                bounds = low...high
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }
}
