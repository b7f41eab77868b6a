@testable import App
import Foundation
import JSONWriting
import Storage
import Testing

@Suite("Hand-written JSON equals Foundation's")
struct JSONWriterTests {
    func foundationJSON(_ value: some Encodable) throws -> String {
        String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)
    }

    func writerJSON(_ value: some JSONWritable) -> String {
        var json = JSONWriter()
        value.write(to: &json)
        return String(buffer: json.buffer)
    }

    @Test("a post, with and without likedByMe, with text that needs escaping", arguments: [nil, true, false] as [Bool?])
    func post(likedByMe: Bool?) throws {
        let text = "quote \" backslash \\ slash / newline \n tab \t bell \u{7} 한국어 😀 e\u{301}"
        let record = PostRecord(id: 42, authorID: 7, authorNickname: "앨리스 \"A\"", title: text, body: text, category: "general",
                                tags: ["swift", "태그"], likeCount: 3, commentCount: 4, viewCount: 5,
                                createdAt: Timestamp(milliseconds: 1_763_758_690_123), updatedAt: Timestamp(milliseconds: 0),
                                likedByMe: likedByMe)
        let dto = PostDTO(record)
        #expect(writerJSON(dto) == (try foundationJSON(dto)))
        let page = Page(items: [dto, dto], nextCursor: "abc")
        #expect(writerJSON(page) == (try foundationJSON(page)))
        let last = Page(items: [dto], nextCursor: nil)
        #expect(writerJSON(last) == (try foundationJSON(last)))
    }

    @Test("a post with attachments, images with dimensions and a PDF without")
    func postWithAttachments() throws {
        var record = PostRecord(id: 1, authorID: 2, authorNickname: "a", title: "t", body: "b", category: "general", tags: [],
                                likeCount: 0, commentCount: 0, viewCount: 0, createdAt: Timestamp(milliseconds: 0),
                                updatedAt: Timestamp(milliseconds: 0), likedByMe: nil)
        record.attachments = [Attachment(id: 9, contentType: "image/png", size: 1234, width: 640, height: 480),
                              Attachment(id: 3, contentType: "application/pdf", size: 5, width: nil, height: nil)]
        let dto = PostDTO(record)
        #expect(writerJSON(dto) == (try foundationJSON(dto)))
        #expect(writerJSON(dto).contains(#""attachments":[{"contentType":"image/png","height":480,"id":9,"size":1234,"url":"/uploads/9","width":640},{"contentType":"application/pdf","id":3,"size":5,"url":"/uploads/3"}]"#))
    }

    @Test("timestamps format as ISO-8601 UTC with exact milliseconds (Foundation's formatter rounds 999 down to 998)",
          arguments: [
            (0, "1970-01-01T00:00:00.000Z"), (999, "1970-01-01T00:00:00.999Z"),
            (1_763_758_690_123, "2025-11-21T20:58:10.123Z"), (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (4_102_444_799_999, "2099-12-31T23:59:59.999Z"), (-1, "1969-12-31T23:59:59.999Z"),
            (-86_400_001, "1969-12-30T23:59:59.999Z"), (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
          ] as [(Int64, String)])
    func timestamps(milliseconds: Int64, expected: String) {
        #expect(Timestamp(milliseconds: milliseconds).iso8601 == expected)
        var json = JSONWriter()
        json.value(Timestamp(milliseconds: milliseconds))
        #expect(String(buffer: json.buffer) == "\"\(expected)\"")
    }

    @Test("integers write in full, the extremes included", arguments: [
        (Int.min, "-9223372036854775808"), (Int.max, "9223372036854775807"), (0, "0"), (-7, "-7"),
    ] as [(Int, String)])
    func numbers(value: Int, expected: String) {
        var json = JSONWriter()
        json.value(value)
        #expect(String(buffer: json.buffer) == expected)
    }
}
