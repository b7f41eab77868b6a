/// Tells what an upload is from its content: the type from its magic bytes (PNG, JPEG, GIF, WebP,
/// PDF) and, for images, the width and height from the headers. Anything else, and any header
/// that is cut short or contradicts its format, is rejected with a reason a person can read.
///
/// Fed incrementally (`feed` per chunk, then `finish`), so a JPEG whose frame header follows large
/// EXIF or ICC segments is found without holding the file: skipped segments are never buffered.
/// Only the headers are checked, not the image data; no package we depend on decodes images, and
/// the API promises no more than the type and the dimensions.
struct MediaInspector {
    /// What the inspection concluded.
    enum Verdict: Equatable, Sendable {
        case accepted(MediaInfo)
        case rejected(reason: String)
    }

    /// The detected type and, for images, the dimensions in pixels.
    struct MediaInfo: Equatable, Sendable {
        var contentType: String
        var width: Int?
        var height: Int?
    }

    private enum Stage {
        case signature, png, gif, webp
        /// Inside a JPEG, at the next marker (after SOI).
        case jpegMarker
        case done(Verdict)
    }

    private var stage = Stage.signature
    /// Bytes not yet parsed start at `cursor`.
    private var buffer: [UInt8] = []
    private var cursor = 0
    /// Bytes still to drop from the input before buffering again (the rest of a skipped segment).
    private var skip = 0

    /// The verdict once known; nil while more bytes are needed.
    var verdict: Verdict? {
        if case .done(let verdict) = stage { return verdict }
        return nil
    }

    /// Takes the next bytes of the content; returns the verdict once it is known.
    @discardableResult
    mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Verdict? {
        if let verdict { return verdict }
        var bytes = bytes[...]
        if skip > 0 {
            let dropped = min(skip, bytes.count)
            bytes = bytes.dropFirst(dropped)
            skip -= dropped
        }
        if cursor > 0 {
            buffer.removeFirst(cursor)
            cursor = 0
        }
        buffer.append(contentsOf: bytes)
        advance(atEnd: false)
        return verdict
    }

    /// Ends the content: a header still incomplete is truncated.
    mutating func finish() -> Verdict {
        advance(atEnd: true)
        if let verdict { return verdict }
        let reason = switch stage {
        case .png: "The PNG header (IHDR) is truncated."
        case .gif: "The GIF header is truncated."
        case .webp: "The WebP header is truncated."
        case .jpegMarker: "The JPEG ends before its frame header (SOF)."
        case .signature, .done: "The file is too short to be a supported type."
        }
        stage = .done(.rejected(reason: reason))
        return .rejected(reason: reason)
    }

    /// The verdict on a whole content held in memory.
    static func inspect(_ bytes: some Collection<UInt8>) -> Verdict {
        var inspector = MediaInspector()
        inspector.feed(bytes)
        return inspector.finish()
    }

    static let unsupported = "Not a supported type: only PNG, JPEG, GIF, WebP and PDF files are accepted."

    // MARK: - Parsing

    private var available: Int { buffer.count - cursor }

    private func byte(_ offset: Int) -> UInt8 { buffer[cursor + offset] }

    private func bigEndian16(_ offset: Int) -> Int { Int(byte(offset)) << 8 | Int(byte(offset + 1)) }

    private func bigEndian32(_ offset: Int) -> Int { bigEndian16(offset) << 16 | bigEndian16(offset + 2) }

    private func littleEndian16(_ offset: Int) -> Int { Int(byte(offset)) | Int(byte(offset + 1)) << 8 }

    private func littleEndian24(_ offset: Int) -> Int { littleEndian16(offset) | Int(byte(offset + 2)) << 16 }

    private func littleEndian32(_ offset: Int) -> Int { littleEndian24(offset) | Int(byte(offset + 3)) << 24 }

    private func matches(_ expected: [UInt8], at offset: Int = 0) -> Bool {
        guard available >= offset + expected.count else { return false }
        return expected.indices.allSatisfy { byte(offset + $0) == expected[$0] }
    }

    /// Drops `count` bytes, skipping the part not yet received as it arrives.
    private mutating func consume(_ count: Int) {
        if count <= available {
            cursor += count
        } else {
            skip = count - available
            cursor = buffer.count
        }
    }

    private mutating func conclude(_ verdict: Verdict) {
        stage = .done(verdict)
        buffer = []
        cursor = 0
    }

    private mutating func reject(_ reason: String) {
        conclude(.rejected(reason: reason))
    }

    private mutating func accept(_ contentType: String, width: Int? = nil, height: Int? = nil) {
        conclude(.accepted(MediaInfo(contentType: contentType, width: width, height: height)))
    }

    /// Runs the stages while they have the bytes they need.
    private mutating func advance(atEnd: Bool) {
        while true {
            let progressed: Bool
            switch stage {
            case .done: return
            case .signature: progressed = detectSignature(atEnd: atEnd)
            case .png: progressed = readPNGHeader()
            case .gif: progressed = readGIFHeader()
            case .webp: progressed = readWebPHeader()
            case .jpegMarker: progressed = readJPEGMarker()
            }
            if !progressed { return }
        }
    }

    private static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    private static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]
    private static let gif87a = Array("GIF87a".utf8)
    private static let gif89a = Array("GIF89a".utf8)
    private static let riff = Array("RIFF".utf8)
    private static let webp = Array("WEBP".utf8)
    private static let pdf = Array("%PDF-".utf8)
    /// The longest signature (RIFF, size, WEBP).
    private static let signatureLength = 12

    private mutating func detectSignature(atEnd: Bool) -> Bool {
        if matches(Self.pngSignature) {
            stage = .png
        } else if matches(Self.jpegSignature) {
            consume(2)
            stage = .jpegMarker
        } else if matches(Self.gif87a) || matches(Self.gif89a) {
            stage = .gif
        } else if matches(Self.pdf) {
            accept("application/pdf")
        } else if matches(Self.riff), matches(Self.webp, at: 8) {
            stage = .webp
        } else if available >= Self.signatureLength {
            reject(Self.unsupported)
        } else if !atEnd {
            return false
        } else {
            let prefixes = [Self.pngSignature, Self.jpegSignature, Array("GIF8".utf8), Self.riff, Self.pdf]
            let isCutSignature = available > 0 && prefixes.contains { prefix in
                matches(Array(prefix.prefix(available))) || (available >= prefix.count && matches(prefix))
            }
            reject(isCutSignature ? "The file is too short to be a supported type." : Self.unsupported)
        }
        return true
    }

    /// PNG: the signature, then the IHDR chunk (length 13): width, height, bit depth, colour type.
    private mutating func readPNGHeader() -> Bool {
        guard available >= 8 + 8 + 13 else { return false }
        guard bigEndian32(8) == 13, matches(Array("IHDR".utf8), at: 12) else {
            reject("The PNG does not start with an IHDR chunk.")
            return true
        }
        let width = bigEndian32(16), height = bigEndian32(20)
        let bitDepth = byte(24), colourType = byte(25)
        guard (1...Int(Int32.max)).contains(width), (1...Int(Int32.max)).contains(height) else {
            reject("The PNG header gives an invalid width or height.")
            return true
        }
        guard [1, 2, 4, 8, 16].contains(bitDepth), [0, 2, 3, 4, 6].contains(colourType) else {
            reject("The PNG header gives an invalid bit depth or colour type.")
            return true
        }
        accept("image/png", width: width, height: height)
        return true
    }

    /// GIF: the signature, then the logical screen's width and height (little-endian).
    private mutating func readGIFHeader() -> Bool {
        guard available >= 10 else { return false }
        let width = littleEndian16(6), height = littleEndian16(8)
        guard width > 0, height > 0 else {
            reject("The GIF header gives a zero width or height.")
            return true
        }
        accept("image/gif", width: width, height: height)
        return true
    }

    /// WebP: RIFF, then the first chunk, which is VP8 (lossy), VP8L (lossless) or VP8X (extended).
    private mutating func readWebPHeader() -> Bool {
        guard available >= 20 else { return false }
        let chunkSize = littleEndian32(16)
        let data = 20
        if matches(Array("VP8 ".utf8), at: 12) {
            // Frame tag (3 bytes, bit 0 clear on a key frame), start code 9D 01 2A, then 14-bit sizes.
            guard available >= data + 10 else { return false }
            guard chunkSize >= 10, byte(data) & 1 == 0, matches([0x9D, 0x01, 0x2A], at: data + 3) else {
                reject("The WebP (VP8) frame header is corrupt.")
                return true
            }
            let width = littleEndian16(data + 6) & 0x3FFF, height = littleEndian16(data + 8) & 0x3FFF
            guard width > 0, height > 0 else {
                reject("The WebP (VP8) header gives a zero width or height.")
                return true
            }
            accept("image/webp", width: width, height: height)
        } else if matches(Array("VP8L".utf8), at: 12) {
            // Signature 0x2F, then width - 1 and height - 1 in 14 bits each and a 3-bit version of 0.
            guard available >= data + 5 else { return false }
            let bits = littleEndian32(data + 1)
            guard chunkSize >= 5, byte(data) == 0x2F, bits >> 29 == 0 else {
                reject("The WebP (VP8L) header is corrupt.")
                return true
            }
            accept("image/webp", width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
        } else if matches(Array("VP8X".utf8), at: 12) {
            // Flags (1 byte), reserved (3), then canvas width - 1 and height - 1 in 24 bits each.
            guard available >= data + 10 else { return false }
            guard chunkSize >= 10 else {
                reject("The WebP (VP8X) header is corrupt.")
                return true
            }
            accept("image/webp", width: littleEndian24(data + 4) + 1, height: littleEndian24(data + 7) + 1)
        } else {
            reject("The WebP starts with an unknown chunk.")
        }
        return true
    }

    /// JPEG: walks the segments after SOI until a start-of-frame marker, skipping the others
    /// (APPn with EXIF or ICC profiles, tables, comments) by their lengths.
    private mutating func readJPEGMarker() -> Bool {
        guard available >= 2 else { return false }
        guard byte(0) == 0xFF else {
            reject("The JPEG is corrupt: a segment does not start with a marker.")
            return true
        }
        let marker = byte(1)
        switch marker {
        case 0xFF:
            // Fill byte before a marker.
            consume(1)
            return true
        case 0x01, 0xD0...0xD7:
            // Markers without a length.
            consume(2)
            return true
        case 0xD9:
            reject("The JPEG ends before its frame header (SOF).")
            return true
        case 0xDA:
            reject("The JPEG's image data starts before its frame header (SOF).")
            return true
        case 0x00, 0xD8:
            reject("The JPEG is corrupt: an unexpected marker before the frame header.")
            return true
        default:
            break
        }
        guard available >= 4 else { return false }
        let length = bigEndian16(2)
        guard length >= 2 else {
            reject("The JPEG is corrupt: a segment has an invalid length.")
            return true
        }
        // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
        guard (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) else {
            consume(2 + length)
            return true
        }
        // Length, sample precision, height, width, component count.
        guard available >= 2 + 8 else { return false }
        let height = bigEndian16(5), width = bigEndian16(7)
        guard length >= 8 else {
            reject("The JPEG frame header is corrupt.")
            return true
        }
        guard width > 0, height > 0 else {
            reject("The JPEG frame header gives a zero width or height.")
            return true
        }
        accept("image/jpeg", width: width, height: height)
        return true
    }
}
