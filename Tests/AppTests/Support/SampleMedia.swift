/// Small files of each supported type, built byte by byte: real headers as each format defines
/// them, followed by a little image data. Enough for type detection and dimensions.
enum SampleMedia {
    static func png(width: UInt32, height: UInt32) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + bigEndian(13, bytes: 4) + ascii("IHDR") + bigEndian(Int(width), bytes: 4) + bigEndian(Int(height), bytes: 4)
            + [8, 6, 0, 0, 0] + [0x12, 0x34, 0x56, 0x78]
            + bigEndian(4, bytes: 4) + ascii("IDAT") + [0x78, 0x9C, 0x63, 0x00] + [0x9A, 0xBC, 0xDE, 0xF0]
            + bigEndian(0, bytes: 4) + ascii("IEND") + [0xAE, 0x42, 0x60, 0x82]
    }

    /// A JFIF JPEG: APP0, optionally large APP1 (EXIF) segments, a quantisation table, the frame
    /// header (SOF0 baseline or SOF2 progressive), a Huffman table, then the scan.
    static func jpeg(width: Int, height: Int, progressive: Bool = false, exifSegments: [Int] = []) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        bytes += [0xFF, 0xE0] + bigEndian(16, bytes: 2) + ascii("JFIF") + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
        for size in exifSegments {
            let payload = ascii("Exif") + [0, 0] + [UInt8](repeating: 0x4D, count: size)
            bytes += [0xFF, 0xE1] + bigEndian(payload.count + 2, bytes: 2) + payload
        }
        bytes += [0xFF, 0xDB] + bigEndian(67, bytes: 2) + [0] + [UInt8](repeating: 1, count: 64)
        bytes += [0xFF, progressive ? 0xC2 : 0xC0] + bigEndian(17, bytes: 2) + [8]
            + bigEndian(height, bytes: 2) + bigEndian(width, bytes: 2) + [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
        bytes += [0xFF, 0xC4] + bigEndian(20, bytes: 2) + [0] + [1] + [UInt8](repeating: 0, count: 15) + [0]
        bytes += [0xFF, 0xDA] + bigEndian(12, bytes: 2) + [3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]
        bytes += [0xA2, 0x8A, 0x28, 0x00, 0xFF, 0x00, 0x3F] + [0xFF, 0xD9]
        return bytes
    }

    static func gif(width: Int, height: Int) -> [UInt8] {
        ascii("GIF89a") + littleEndian(width, bytes: 2) + littleEndian(height, bytes: 2) + [0x80, 0, 0]
            + [0, 0, 0, 0xFF, 0xFF, 0xFF]
            + [0x2C] + littleEndian(0, bytes: 4) + littleEndian(width, bytes: 2) + littleEndian(height, bytes: 2) + [0]
            + [2, 2, 0x44, 0x01, 0] + [0x3B]
    }

    /// Lossy WebP: a VP8 key frame header (frame tag, start code, 14-bit width and height).
    static func webpLossy(width: Int, height: Int) -> [UInt8] {
        riffWebP(chunk("VP8 ", [0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A] + littleEndian(width, bytes: 2)
                                + littleEndian(height, bytes: 2) + [0x00, 0x34, 0x25, 0x9F]))
    }

    /// Lossless WebP: signature 0x2F, then width - 1 and height - 1 in 14 bits each.
    static func webpLossless(width: Int, height: Int) -> [UInt8] {
        let bits = (width - 1) | (height - 1) << 14 | 1 << 28
        return riffWebP(chunk("VP8L", [0x2F] + littleEndian(bits, bytes: 4) + [0x00, 0x07, 0x10, 0x11]))
    }

    /// Extended WebP: VP8X (alpha flag; canvas width - 1 and height - 1 in 24 bits each), then a VP8L image.
    static func webpExtended(width: Int, height: Int) -> [UInt8] {
        riffWebP(chunk("VP8X", [0x10, 0, 0, 0] + littleEndian(width - 1, bytes: 3) + littleEndian(height - 1, bytes: 3))
                 + Array(webpLossless(width: width, height: height).dropFirst(12)))
    }

    static let pdf: [UInt8] = ascii("""
        %PDF-1.4
        1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
        2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj
        trailer << /Root 1 0 R >>
        %%EOF

        """)

    static let text: [UInt8] = ascii("Just some text, which is not an image.\n")

    // MARK: - Bytes

    static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func bigEndian(_ value: Int, bytes: Int) -> [UInt8] {
        (0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func littleEndian(_ value: Int, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func chunk(_ fourCC: String, _ data: [UInt8]) -> [UInt8] {
        ascii(fourCC) + littleEndian(data.count, bytes: 4) + data + (data.count % 2 == 1 ? [0] : [])
    }

    static func riffWebP(_ chunks: [UInt8]) -> [UInt8] {
        ascii("RIFF") + littleEndian(chunks.count + 4, bytes: 4) + ascii("WEBP") + chunks
    }
}
