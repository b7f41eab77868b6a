import NIOCore

/// The bytes sent after `DATA`: the message with dot-stuffing and the end-of-data marker
/// (RFC 5321 4.5.2), so a line of the message can never end the transfer early.
enum SMTPMessageData {
    /// `message` with every line that starts with `.` given a second `.`, every line ended by
    /// CRLF (a bare LF is taken as a line end too), and `.` CRLF appended.
    static func stuffed(_ message: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: message.count + message.count / 40 + 5)
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            if atLineStart && byte == UInt8(ascii: ".") {
                buffer.writeInteger(UInt8(ascii: "."))
            }
            if byte == UInt8(ascii: "\r"), index + 1 < message.count, message[index + 1] == UInt8(ascii: "\n") {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\n") {
                buffer.writeStaticString("\r\n")
                atLineStart = true
            } else {
                buffer.writeInteger(byte)
                atLineStart = false
            }
            index += 1
        }
        if !atLineStart {
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString(".\r\n")
        return buffer
    }
}
