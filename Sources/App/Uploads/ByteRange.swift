/// What a `Range` request header (RFC 9110 §14.2) asks of a representation of `size` bytes.
///
/// Hand-written because Hummingbird's file middleware reads `bytes=-n` as the first n + 1 bytes
/// rather than the last n, and answers a malformed header with 416 where the RFC says to ignore it.
/// One range is served as 206; several ranges may be answered with the whole file, which we do.
enum ByteRangeRequest: Equatable, Sendable {
    /// Send the whole representation: no header, another unit, several ranges, or a malformed one.
    case whole
    /// Send these bytes, both ends included (206 with `Content-Range`).
    case partial(ClosedRange<Int64>)
    /// No byte of the representation is in the range (416 with `Content-Range: bytes */size`).
    case unsatisfiable

    init(header: String?, size: Int64) {
        guard let header else {
            self = .whole
            return
        }
        let parts = header.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, parts[0].trimmingSpaces.lowercased() == "bytes", !parts[1].contains(",") else {
            self = .whole
            return
        }
        let spec = parts[1].trimmingSpaces
        guard let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        switch (Self.position(first), Self.position(last)) {
        case (let start?, let end?):
            guard start <= end else { self = .whole; return }
            self = start < size ? .partial(start...min(end, size - 1)) : .unsatisfiable
        case (let start?, nil) where last.isEmpty:
            self = start < size ? .partial(start...(size - 1)) : .unsatisfiable
        case (nil, let suffix?) where first.isEmpty:
            self = suffix > 0 && size > 0 ? .partial(max(0, size - suffix)...(size - 1)) : .unsatisfiable
        default:
            self = .whole
        }
    }

    /// A non-negative decimal position; digits past Int64 read as Int64.max (beyond any file).
    private static func position(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return Int64(text) ?? Int64.max
    }
}

private extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional white space).
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
