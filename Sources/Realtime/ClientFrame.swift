import Foundation

/// A frame a client sends, as the WebSocket protocol defines them (docs/CHAT.md).
public enum ClientFrame: Sendable, Equatable {
    case join(room: Int64, since: Int64?)
    case leave(room: Int64)
    case send(room: Int64, body: String, clientMsgId: String?)
    case typing(room: Int64)
    case ping

    /// Why a text frame is not a valid client frame; answered with an error frame of this code.
    public struct Invalid: Error, Equatable {
        /// `malformed` (not a JSON object), `unknown_type` or `invalid` (a field is missing or of the wrong type).
        public var code: String
        public var message: String
        /// The frame's room, when it could be read.
        public var room: Int64?
    }

    /// Parses one text frame's JSON.
    public static func parse(_ text: some Collection<UInt8>) throws(Invalid) -> ClientFrame {
        let fields: Fields
        do {
            fields = try decoder.decode(Fields.self, from: Data(text))
        } catch {
            throw Invalid(code: "malformed", message: "A frame must be a JSON object with a \"type\".")
        }
        let room = fields.room
        func requireRoom() throws(Invalid) -> Int64 {
            guard let room else {
                throw Invalid(code: "invalid", message: "\"room\" must be a room id.")
            }
            return room
        }
        switch fields.type {
        case "join":
            if let since = fields.since, since < 0 {
                throw Invalid(code: "invalid", message: "\"since\" must be a seq of 0 or more.", room: room)
            }
            return .join(room: try requireRoom(), since: fields.since)
        case "leave":
            return .leave(room: try requireRoom())
        case "send":
            let room = try requireRoom()
            guard let body = fields.body else {
                throw Invalid(code: "invalid", message: "\"body\" must be a string.", room: room)
            }
            return .send(room: room, body: body, clientMsgId: fields.clientMsgId)
        case "typing":
            return .typing(room: try requireRoom())
        case "ping":
            return .ping
        default:
            throw Invalid(code: "unknown_type", message: "Unknown frame type \"\(fields.type.prefix(40))\".", room: room)
        }
    }

    private static let decoder = JSONDecoder()

    /// Every field any client frame has; which are required depends on `type`. A field of the
    /// wrong type makes the frame malformed.
    private struct Fields: Decodable {
        var type: String
        var room: Int64?
        var since: Int64?
        var body: String?
        var clientMsgId: String?
    }
}
