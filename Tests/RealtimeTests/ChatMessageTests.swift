import Foundation
import Realtime
import Testing

@Suite("Chat message values")
struct ChatMessageTests {
    @Test("a message round-trips through JSON with its client id")
    func roundTrip() throws {
        let message = ChatMessage(id: 7, room: 3, seq: 42, sender: ChatUser(id: 1, nickname: "민지"), body: "안녕 👋",
                                  sentAt: Date(timeIntervalSince1970: 1_700_000_000), clientMsgId: "c-1")
        let decoded = try JSONDecoder().decode(ChatMessage.self, from: JSONEncoder().encode(message))
        #expect(decoded == message)
    }
}
