@testable import App
import Testing

/// One sample file and what the inspector must find in it.
struct MediaSample: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let contentType: String
    let width: Int?
    let height: Int?

    var testDescription: String { name }

    static let all: [MediaSample] = [
        MediaSample(name: "PNG", bytes: SampleMedia.png(width: 640, height: 480), contentType: "image/png", width: 640, height: 480),
        MediaSample(name: "baseline JPEG", bytes: SampleMedia.jpeg(width: 1024, height: 768), contentType: "image/jpeg",
                    width: 1024, height: 768),
        MediaSample(name: "progressive JPEG", bytes: SampleMedia.jpeg(width: 300, height: 200, progressive: true),
                    contentType: "image/jpeg", width: 300, height: 200),
        // Three EXIF segments put the frame header past the first 128 KiB chunk read from disk.
        MediaSample(name: "JPEG with large EXIF segments before SOF",
                    bytes: SampleMedia.jpeg(width: 4032, height: 3024, exifSegments: [65_000, 65_000, 65_000]),
                    contentType: "image/jpeg", width: 4032, height: 3024),
        MediaSample(name: "GIF", bytes: SampleMedia.gif(width: 17, height: 9), contentType: "image/gif", width: 17, height: 9),
        MediaSample(name: "lossy WebP (VP8)", bytes: SampleMedia.webpLossy(width: 800, height: 600), contentType: "image/webp",
                    width: 800, height: 600),
        MediaSample(name: "lossless WebP (VP8L)", bytes: SampleMedia.webpLossless(width: 16383, height: 1),
                    contentType: "image/webp", width: 16383, height: 1),
        MediaSample(name: "extended WebP (VP8X)", bytes: SampleMedia.webpExtended(width: 20000, height: 3),
                    contentType: "image/webp", width: 20000, height: 3),
        MediaSample(name: "PDF", bytes: SampleMedia.pdf, contentType: "application/pdf", width: nil, height: nil),
    ]

    var expected: MediaInspector.Verdict {
        .accepted(.init(contentType: contentType, width: width, height: height))
    }
}

/// The first bytes of a file of `format`, cut inside its header.
struct TruncatedSample: Sendable, CustomTestStringConvertible {
    let format: String
    let bytes: [UInt8]

    init(_ format: String, _ whole: [UInt8], keeping count: Int) {
        self.format = format
        bytes = Array(whole.prefix(count))
    }

    var testDescription: String { "\(format), first \(bytes.count) bytes" }
}

@Suite("Media inspection")
struct MediaInspectorTests {
    @Test("each supported type is detected with its dimensions", arguments: MediaSample.all)
    func detects(sample: MediaSample) {
        #expect(MediaInspector.inspect(sample.bytes) == sample.expected)
    }

    @Test("the verdict is the same when the bytes arrive one at a time", arguments: MediaSample.all)
    func incremental(sample: MediaSample) {
        var inspector = MediaInspector()
        for byte in sample.bytes where inspector.verdict == nil {
            inspector.feed([byte])
        }
        #expect(inspector.finish() == sample.expected)
    }

    @Test("the verdict is the same in chunks of 7 bytes, which split headers and skipped segments", arguments: MediaSample.all)
    func chunked(sample: MediaSample) {
        var inspector = MediaInspector()
        var offset = 0
        while offset < sample.bytes.count, inspector.verdict == nil {
            inspector.feed(sample.bytes[offset..<min(offset + 7, sample.bytes.count)])
            offset += 7
        }
        #expect(inspector.finish() == sample.expected)
    }

    @Test("a JPEG's frame header is found without buffering the segments before it")
    func jpegSkipsSegments() {
        let bytes = SampleMedia.jpeg(width: 10, height: 20, exifSegments: [60_000])
        var inspector = MediaInspector()
        // The EXIF segment arrives in one piece; only its length is read.
        inspector.feed(bytes.prefix(30))
        #expect(inspector.verdict == nil)
        inspector.feed(bytes.dropFirst(30))
        #expect(inspector.verdict == .accepted(.init(contentType: "image/jpeg", width: 10, height: 20)))
    }

    @Test("text and unknown binary are rejected as unsupported")
    func unsupported() {
        #expect(MediaInspector.inspect(SampleMedia.text) == .rejected(reason: MediaInspector.unsupported))
        #expect(MediaInspector.inspect([0x00, 0x01, 0x02]) == .rejected(reason: MediaInspector.unsupported))
        #expect(MediaInspector.inspect(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8)) == .rejected(reason: MediaInspector.unsupported))
        #expect(MediaInspector.inspect(Array("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8))
            == .rejected(reason: MediaInspector.unsupported))
    }

    @Test("truncated headers are rejected with a reason naming the format", arguments: [
        TruncatedSample("PNG", SampleMedia.png(width: 1, height: 1), keeping: 20),
        TruncatedSample("PNG", SampleMedia.png(width: 1, height: 1), keeping: 8),
        TruncatedSample("GIF", SampleMedia.gif(width: 1, height: 1), keeping: 8),
        TruncatedSample("WebP", SampleMedia.webpLossy(width: 1, height: 1), keeping: 25),
        TruncatedSample("WebP", SampleMedia.webpLossless(width: 1, height: 1), keeping: 22),
        TruncatedSample("JPEG", SampleMedia.jpeg(width: 1, height: 1), keeping: 95),
        TruncatedSample("JPEG", SampleMedia.jpeg(width: 1, height: 1, exifSegments: [1000]), keeping: 500),
    ])
    func truncated(sample: TruncatedSample) {
        guard case .rejected(let reason) = MediaInspector.inspect(sample.bytes) else {
            Issue.record("accepted a truncated \(sample.format)")
            return
        }
        #expect(reason.contains(sample.format), "\(reason)")
    }

    @Test("a file cut inside its signature is too short, not unsupported")
    func cutSignature() {
        #expect(MediaInspector.inspect([0x89, 0x50, 0x4E]) == .rejected(reason: "The file is too short to be a supported type."))
        #expect(MediaInspector.inspect(Array("GIF8".utf8)) == .rejected(reason: "The file is too short to be a supported type."))
    }

    @Test("headers that contradict their format are rejected")
    func corrupt() {
        var zeroWidth = SampleMedia.png(width: 1, height: 1)
        zeroWidth.replaceSubrange(16..<20, with: [0, 0, 0, 0])
        #expect(MediaInspector.inspect(zeroWidth) == .rejected(reason: "The PNG header gives an invalid width or height."))
        var notIHDR = SampleMedia.png(width: 1, height: 1)
        notIHDR.replaceSubrange(12..<16, with: Array("IDAT".utf8))
        #expect(MediaInspector.inspect(notIHDR) == .rejected(reason: "The PNG does not start with an IHDR chunk."))
        #expect(MediaInspector.inspect(SampleMedia.gif(width: 0, height: 5)) == .rejected(reason: "The GIF header gives a zero width or height."))
        // A scan before any frame header, and a segment that does not start with a marker.
        #expect(MediaInspector.inspect([0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08] + [UInt8](repeating: 0, count: 20))
            == .rejected(reason: "The JPEG's image data starts before its frame header (SOF)."))
        #expect(MediaInspector.inspect([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0x12, 0x34] + [UInt8](repeating: 0, count: 20))
            == .rejected(reason: "The JPEG is corrupt: a segment does not start with a marker."))
        var badStartCode = SampleMedia.webpLossy(width: 2, height: 2)
        badStartCode[23] = 0x00
        #expect(MediaInspector.inspect(badStartCode) == .rejected(reason: "The WebP (VP8) frame header is corrupt."))
        #expect(MediaInspector.inspect(SampleMedia.riffWebP(SampleMedia.chunk("VP9 ", [UInt8](repeating: 0, count: 12))))
            == .rejected(reason: "The WebP starts with an unknown chunk."))
    }
}

@Suite("HTTP byte ranges")
struct ByteRangeTests {
    @Test("one range is resolved against the size; suffixes count from the end; ends past the size are clipped", arguments: [
        ("bytes=0-9", ByteRangeRequest.partial(0...9)),
        ("bytes=10-", .partial(10...99)),
        ("bytes=-10", .partial(90...99)),
        ("bytes=-1000", .partial(0...99)),
        ("bytes=50-5000", .partial(50...99)),
        ("bytes=99-99", .partial(99...99)),
        ("Bytes = 1-2", .partial(1...2)),
        ("bytes=100-", .unsatisfiable),
        ("bytes=100-200", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=99999999999999999999999-", .unsatisfiable),
        ("bytes=0-1,5-6", .whole),
        ("bytes=5-1", .whole),
        ("bytes=abc", .whole),
        ("bytes=-", .whole),
        ("bytes=1", .whole),
        ("items=0-1", .whole),
        ("bytes=+1-2", .whole),
    ] as [(String, ByteRangeRequest)])
    func ranges(header: String, expected: ByteRangeRequest) {
        #expect(ByteRangeRequest(header: header, size: 100) == expected)
    }

    @Test("no header means the whole file")
    func absent() {
        #expect(ByteRangeRequest(header: nil, size: 100) == .whole)
    }
}
