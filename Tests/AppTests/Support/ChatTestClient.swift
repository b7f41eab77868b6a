import Foundation
import HummingbirdWSClient
import Logging
import Synchronization
import Testing

/// A real WebSocket client of `/ws` (hummingbird-websocket's), for the chat tests: it keeps every
/// frame it receives, and sends what the test gives it.
final class ChatTestClient: Sendable {
    /// The frames received, and how far `next` has read them.
    private final class Inbox: Sendable {
        let state = Mutex<(frames: [JSON], cursors: [String: Int])>(([], [:]))
    }

    private let received = Inbox()
    private let outgoing: AsyncStream<String>.Continuation
    private let run: Task<WebSocketCloseFrame?, any Error>

    /// Connects with `token` in the query (or in an Authorization header when `header` is true).
    init(port: Int, token: String, header: Bool = false) {
        let (stream, outgoing) = AsyncStream.makeStream(of: String.self)
        self.outgoing = outgoing
        let received = self.received
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20)
        if header { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        let url = header ? "ws://127.0.0.1:\(port)/ws" : "ws://127.0.0.1:\(port)/ws?token=\(token)"
        run = Task {
            try await WebSocketClient.connect(url: url, configuration: configuration, logger: Logger(label: "chat-test")) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in stream { try await outbound.write(.text(text)) }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message else { continue }
                        let json = JSON(value: try? JSONSerialization.jsonObject(with: Data(text.utf8)))
                        received.state.withLock { $0.frames.append(json) }
                    }
                    group.cancelAll()
                }
            }
        }
    }

    deinit {
        outgoing.finish()
    }

    /// Sends one frame of JSON.
    func send(_ frame: [String: Any]) throws {
        outgoing.yield(String(decoding: try JSONSerialization.data(withJSONObject: frame), as: UTF8.self))
    }

    /// Sends a raw text frame.
    func send(text: String) {
        outgoing.yield(text)
    }

    /// The next frame of `type` not returned yet (frames of other types are left for their own
    /// calls), waiting up to `seconds`; nil if none came.
    func next(_ type: String, within seconds: Double = 10) async -> JSON? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let found = received.state.withLock { state -> JSON? in
                var cursor = state.cursors[type, default: 0]
                defer { state.cursors[type] = cursor }
                while cursor < state.frames.count {
                    let frame = state.frames[cursor]
                    cursor += 1
                    if frame["type"].string == type { return frame }
                }
                return nil
            }
            if let found { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// The next presence frame whose `list` ("joined" or "left") names `userID`, skipping other
    /// presence frames (they name the receiver's own user too).
    func presence(_ list: String, naming userID: Int64, within seconds: Double = 10) async -> JSON? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, let frame = await next("presence", within: deadline.timeIntervalSinceNow) {
            if frame[list].array.contains(where: { $0["id"].int64 == userID }) { return frame }
        }
        return nil
    }

    /// Every frame received so far.
    var frames: [JSON] { received.state.withLock { $0.frames } }

    /// Joins `room` and returns the `joined` frame.
    @discardableResult
    func join(_ room: Int64, since: Int64? = nil) async throws -> JSON? {
        var frame: [String: Any] = ["type": "join", "room": room]
        if let since { frame["since"] = since }
        try send(frame)
        return await next("joined")
    }

    /// Closes from the client's side and returns the server's close frame.
    func close() async throws -> WebSocketCloseFrame? {
        outgoing.finish()
        return try await run.value
    }

    /// Waits for the server to close the connection and returns its close frame.
    func closedByServer() async throws -> WebSocketCloseFrame? {
        try await run.value
    }

    /// The server's close frame, or nil if the connection is still open after `seconds`.
    func closedByServer(within seconds: Double) async throws -> WebSocketCloseFrame? {
        let run = self.run
        let ended = Mutex<Result<WebSocketCloseFrame?, any Error>?>(nil)
        Task { let result = await run.result; ended.withLock { $0 = result } }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let result = ended.withLock({ $0 }) { return try result.get() }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
