import Foundation
import NIOCore
import Realtime
import Storage
import Testing

@Suite("Chat message values")
struct ChatMessageTests {
    @Test("a message round-trips through JSON with its client id")
    func roundTrip() throws {
        let message = ChatMessage(id: 7, room: 3, seq: 42, sender: ChatUser(id: 1, nickname: "민지"), body: "안녕 👋",
                                  sentAt: Timestamp(milliseconds: 1_700_000_000_000), clientMsgId: "c-1")
        let decoded = try JSONDecoder().decode(ChatMessage.self, from: JSONEncoder().encode(message))
        #expect(decoded == message)
    }

    @Test("a message frame carries the protocol's fields, sentAt in UTC with milliseconds")
    func messageFrame() throws {
        let message = ChatMessage(id: 7, room: 3, seq: 42, sender: ChatUser(id: 1, nickname: "민지"), body: "안녕 👋",
                                  sentAt: Timestamp(milliseconds: 1_700_000_000_250), clientMsgId: nil)
        let encoded = ServerFrame.message(message).encoded()
        let frame = try #require(try JSONSerialization.jsonObject(with: Data(encoded.text.readableBytesView)) as? [String: Any])
        #expect(frame["type"] as? String == "message")
        #expect(frame["seq"] as? Int == 42)
        #expect(frame["sentAt"] as? String == "2023-11-14T22:13:20.250Z")
        #expect((frame["sender"] as? [String: Any])?["nickname"] as? String == "민지")
        #expect(frame["body"] as? String == "안녕 👋")
        #expect(frame["clientMsgId"] == nil)
    }
}
