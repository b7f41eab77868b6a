/// Reads the few fields `agora bench chat` needs from a server frame by scanning its bytes for
/// `"key":`, without decoding the JSON.
///
/// At 50,000 frames a second on the two cores the server also runs on, decoding every frame with
/// JSONDecoder would cost the client more than the fan-out costs the server. The scan relies on
/// the compact JSON the server writes (Foundation's JSONEncoder: no white space), in any key
/// order, and on the benchmark's own message bodies and client message ids, which are digits and
/// colons and need no escapes.
struct ChatFrameScanner {
    enum Kind {
        case message, ack, joined, error, other
    }

    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The frame's `type`.
    var kind: Kind {
        guard let start = end(of: Self.typeKey) else { return .other }
        if matches(Self.messageType, at: start) { return .message }
        if matches(Self.ackType, at: start) { return .ack }
        if matches(Self.joinedType, at: start) { return .joined }
        if matches(Self.errorType, at: start) { return .error }
        return .other
    }

    /// A message frame's `seq`.
    var seq: Int64? { integer(after: Self.seqKey) }

    /// A joined frame's `lastSeq`.
    var lastSeq: Int64? { integer(after: Self.lastSeqKey) }

    /// A benchmark message's body, `sender:counter:sentNanos`.
    var body: (sender: Int, counter: Int, sentNanos: UInt64)? {
        guard var offset = end(of: Self.bodyKey),
              let sender = digits(at: &offset), skip(UInt8(ascii: ":"), at: &offset),
              let counter = digits(at: &offset), skip(UInt8(ascii: ":"), at: &offset),
              let sent = digits(at: &offset), skip(UInt8(ascii: "\""), at: &offset),
              let senderIndex = Int(exactly: sender), let counterIndex = Int(exactly: counter)
        else { return nil }
        return (senderIndex, counterIndex, sent)
    }

    /// An ack frame's `clientMsgId`, `sender:counter`.
    var clientMessageID: (sender: Int, counter: Int)? {
        guard var offset = end(of: Self.clientMsgIdKey),
              let sender = digits(at: &offset), skip(UInt8(ascii: ":"), at: &offset),
              let counter = digits(at: &offset), skip(UInt8(ascii: "\""), at: &offset),
              let senderIndex = Int(exactly: sender), let counterIndex = Int(exactly: counter)
        else { return nil }
        return (senderIndex, counterIndex)
    }

    /// An error frame's `code`.
    var errorCode: String? {
        guard let start = end(of: Self.codeKey) else { return nil }
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    private static let typeKey = Array(#""type":""#.utf8)
    private static let messageType = Array(#"message""#.utf8)
    private static let ackType = Array(#"ack""#.utf8)
    private static let joinedType = Array(#"joined""#.utf8)
    private static let errorType = Array(#"error""#.utf8)
    private static let seqKey = Array(#""seq":"#.utf8)
    private static let lastSeqKey = Array(#""lastSeq":"#.utf8)
    private static let bodyKey = Array(#""body":""#.utf8)
    private static let clientMsgIdKey = Array(#""clientMsgId":""#.utf8)
    private static let codeKey = Array(#""code":""#.utf8)

    /// The offset just past the first occurrence of `pattern`.
    private func end(of pattern: [UInt8]) -> Int? {
        guard let first = pattern.first, pattern.count <= bytes.count else { return nil }
        var start = 0
        while start <= bytes.count - pattern.count {
            if bytes[start] == first, matches(pattern, at: start) { return start + pattern.count }
            start += 1
        }
        return nil
    }

    private func matches(_ pattern: [UInt8], at offset: Int) -> Bool {
        guard offset + pattern.count <= bytes.count else { return false }
        for (index, byte) in pattern.enumerated() where bytes[offset + index] != byte { return false }
        return true
    }

    private func integer(after key: [UInt8]) -> Int64? {
        guard var offset = end(of: key), let value = digits(at: &offset) else { return nil }
        return Int64(exactly: value)
    }

    /// The decimal number at `offset`, which moves past it; nil without a digit or on overflow.
    private func digits(at offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        let start = offset
        while offset < bytes.count, case let digit = bytes[offset] &- UInt8(ascii: "0"), digit < 10 {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            offset += 1
        }
        return offset > start ? value : nil
    }

    private func skip(_ byte: UInt8, at offset: inout Int) -> Bool {
        guard offset < bytes.count, bytes[offset] == byte else { return false }
        offset += 1
        return true
    }
}
