/// The OpenAPI 3.1 description of every route, built from a list of operations so that the
/// document and the router can be compared route by route (see the OpenAPI test).
public enum OpenAPIDocument {
    /// Who may call an operation.
    enum Access { case anyone, signedIn, optionalSignIn }

    struct Operation {
        var method: String
        var path: String
        var summary: String
        /// Longer text, where the summary is not enough (the WebSocket protocol).
        var description: String?
        var tag: String
        var access: Access = .anyone
        var query: [(String, JSONValue, String)] = []
        /// Request headers the operation reads, as (name, schema, description).
        var headers: [(String, JSONValue, String)] = []
        var body: String?
        /// The body is a file's raw bytes (of any type) instead of JSON.
        var binaryBody = false
        var success: (Int, String?)
        /// Other success answers, such as 202 beside 204.
        var extraSuccess: [(Int, String)] = []
        /// The media type of a success body that is a file rather than JSON.
        var fileType: String?
        /// The success is a file's bytes, with 206 for a byte range and 304 for a matching ETag.
        var fileResponse = false
        var errors: [Int] = []
        /// Set where the path alone would repeat another operation's id.
        var operationID: String?
        /// The success is a protocol switch (101) to a WebSocket, not a body.
        var upgradesToWebSocket = false
    }

    static let fileRequestHeaders: [(String, JSONValue, String)] = [
        ("Range", ["type": "string", "pattern": #"^bytes="#],
         "One byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n` (the last n bytes). Several ranges get the whole file."),
        ("If-None-Match", ["type": "string"], "ETags the client holds; a match answers 304."),
        ("If-Range", ["type": "string"], "Serve `Range` only while the ETag is still this one; otherwise the whole file."),
    ]

    static let pageQuery: [(String, JSONValue, String)] = [
        ("limit", ["type": "integer", "minimum": 1, "maximum": 100, "default": 20], "Items per page, 1–100."),
        ("cursor", ["type": "string"], "The `nextCursor` of the previous page."),
    ]

    static let operations: [Operation] = [
        Operation(method: "GET", path: "/healthz", summary: "The process is alive.", tag: "health", success: (200, "Status")),
        Operation(method: "GET", path: "/readyz", summary: "The database answers.", tag: "health", success: (200, "Status"), errors: [503]),
        Operation(method: "GET", path: "/api/openapi.json", summary: "This document.", tag: "meta", success: (200, nil)),

        Operation(method: "POST", path: "/api/auth/signup", summary: "Create an account (unverified member).", tag: "auth",
                  body: "SignupRequest", success: (201, "UserEnvelope"), errors: [400, 409, 413, 415, 422]),
        Operation(method: "POST", path: "/api/auth/login", summary: "Sign in: an access token and a refresh token.", tag: "auth",
                  body: "LoginRequest", success: (200, "Session"), errors: [400, 401, 413, 415, 429]),
        Operation(method: "POST", path: "/api/auth/refresh", summary: "Rotate a refresh token; reuse revokes its family.", tag: "auth",
                  body: "RefreshRequest", success: (200, "Session"), errors: [400, 401, 413, 415, 422]),
        Operation(method: "POST", path: "/api/auth/logout", summary: "Revoke a refresh token's family.", tag: "auth",
                  body: "RefreshRequest", success: (204, nil), errors: [400, 413, 415, 422]),
        Operation(method: "POST", path: "/api/auth/verify", summary: "Verify the email address with the mailed 6-digit code.",
                  tag: "auth", body: "VerifyEmailRequest", success: (200, "EmailVerified"), errors: [400, 413, 415, 422]),
        Operation(method: "POST", path: "/api/auth/verify/resend", summary: "Mail a new verification code (one a minute, five an hour).",
                  tag: "auth", body: "EmailRequest", success: (202, "Accepted"), errors: [400, 413, 415, 422, 429]),
        Operation(method: "POST", path: "/api/auth/password/forgot",
                  summary: "Mail a password reset code; the same answer whether or not the account exists.",
                  tag: "auth", body: "EmailRequest", success: (202, "Accepted"), errors: [400, 413, 415, 422, 429]),
        Operation(method: "POST", path: "/api/auth/password/reset",
                  summary: "Set a new password with the mailed code; signs out every session.",
                  tag: "auth", body: "ResetPasswordRequest", success: (204, nil), errors: [400, 413, 415, 422]),

        Operation(method: "GET", path: "/api/users/me", summary: "The caller's account with counts.", tag: "users",
                  access: .signedIn, success: (200, "Account"), errors: [401]),
        Operation(method: "PATCH", path: "/api/users/me", summary: "Change nickname and/or bio.", tag: "users",
                  access: .signedIn, body: "UpdateProfileRequest", success: (200, "Account"), errors: [400, 401, 409, 413, 415, 422]),
        Operation(method: "DELETE", path: "/api/users/me",
                  summary: "Delete the account with its posts, comments, likes, follows, rooms and chat messages.",
                  tag: "users", access: .signedIn, success: (204, nil), errors: [401]),
        Operation(method: "PUT", path: "/api/users/me/password", summary: "Change the password; signs out every session.", tag: "users",
                  access: .signedIn, body: "ChangePasswordRequest", success: (204, nil), errors: [400, 401, 413, 415, 422]),
        Operation(method: "GET", path: "/api/users/{id}", summary: "A public profile with follower, following and post counts.",
                  tag: "users", success: (200, "Profile"), errors: [404]),
        Operation(method: "PUT", path: "/api/users/{id}/follow", summary: "Follow a user (idempotent).", tag: "users",
                  access: .signedIn, success: (200, "FollowState"), errors: [401, 404, 422]),
        Operation(method: "DELETE", path: "/api/users/{id}/follow", summary: "Unfollow a user (idempotent).", tag: "users",
                  access: .signedIn, success: (200, "FollowState"), errors: [401, 404, 422]),
        Operation(method: "GET", path: "/api/users/{id}/followers", summary: "Users following this user, newest first.", tag: "users",
                  query: pageQuery, success: (200, "UserSummaryPage"), errors: [404, 422]),
        Operation(method: "GET", path: "/api/users/{id}/following", summary: "Users this user follows, newest first.", tag: "users",
                  query: pageQuery, success: (200, "UserSummaryPage"), errors: [404, 422]),

        Operation(method: "GET", path: "/api/posts", summary: "Posts, newest first, filtered and searched.", tag: "posts",
                  access: .optionalSignIn,
                  query: pageQuery + [
                    ("category", ["type": "string"], "Only this category."),
                    ("tag", ["type": "string"], "Only posts with this tag."),
                    ("author", ["type": "integer", "minimum": 1], "Only posts by this user id."),
                    ("q", ["type": "string", "maxLength": 200], "Text searched for literally in titles and bodies."),
                  ],
                  success: (200, "PostPage"), errors: [401, 422]),
        Operation(method: "POST", path: "/api/posts", summary: "Write a post as the caller.", tag: "posts",
                  access: .signedIn, body: "PostRequest", success: (201, "Post"), errors: [400, 401, 413, 415, 422]),
        Operation(method: "GET", path: "/api/posts/{id}", summary: "One post; `likedByMe` when signed in.", tag: "posts",
                  access: .optionalSignIn, success: (200, "Post"), errors: [401, 404]),
        Operation(method: "PATCH", path: "/api/posts/{id}", summary: "Edit a post (author or admin).", tag: "posts",
                  access: .signedIn, body: "PostPatchRequest", success: (200, "Post"), errors: [400, 401, 403, 404, 413, 415, 422]),
        Operation(method: "DELETE", path: "/api/posts/{id}", summary: "Delete a post (author or admin).", tag: "posts",
                  access: .signedIn, success: (204, nil), errors: [401, 403, 404]),
        Operation(method: "PUT", path: "/api/posts/{id}/like", summary: "Like a post (idempotent).", tag: "posts",
                  access: .signedIn, success: (200, "LikeState"), errors: [401, 404]),
        Operation(method: "DELETE", path: "/api/posts/{id}/like", summary: "Unlike a post (idempotent).", tag: "posts",
                  access: .signedIn, success: (200, "LikeState"), errors: [401, 404]),
        Operation(method: "GET", path: "/api/posts/{id}/related", summary: "Up to 5 posts sharing tags (Jaccard), ties newest first.",
                  tag: "posts", access: .optionalSignIn, success: (200, "PostList"), errors: [401, 404]),
        Operation(method: "GET", path: "/api/posts/{id}/comments", summary: "Comments, oldest first.", tag: "comments",
                  query: pageQuery, success: (200, "CommentPage"), errors: [404, 422]),
        Operation(method: "POST", path: "/api/posts/{id}/comments", summary: "Comment on a post.", tag: "comments",
                  access: .signedIn, body: "CommentRequest", success: (201, "Comment"), errors: [400, 401, 404, 413, 415, 422]),
        Operation(method: "PATCH", path: "/api/comments/{id}", summary: "Edit a comment (author or admin).", tag: "comments",
                  access: .signedIn, body: "CommentRequest", success: (200, "Comment"), errors: [400, 401, 403, 404, 413, 415, 422]),
        Operation(method: "DELETE", path: "/api/comments/{id}", summary: "Delete a comment (author or admin).", tag: "comments",
                  access: .signedIn, success: (204, nil), errors: [401, 403, 404]),

        Operation(method: "GET", path: "/api/notifications", summary: "The caller's notifications, newest first.",
                  tag: "notifications", access: .signedIn,
                  query: pageQuery + [("unread", ["type": "boolean"], "Only unread notifications when true.")],
                  success: (200, "NotificationPage"), errors: [401, 422]),
        Operation(method: "POST", path: "/api/notifications/read", summary: "Mark notifications read: `ids` (up to 100) or `all`.",
                  tag: "notifications", access: .signedIn, body: "MarkReadRequest", success: (200, "UnreadCount"),
                  errors: [400, 401, 413, 415, 422]),

        Operation(method: "POST", path: "/api/users/me/export",
                  summary: "Start a ZIP export of the caller's profile, posts and comments (or get the one under way).",
                  tag: "exports", access: .signedIn, success: (202, "Export"), errors: [401]),
        Operation(method: "GET", path: "/api/exports/{id}", summary: "An export's status and progress (its owner only).",
                  tag: "exports", access: .signedIn, success: (200, "Export"), errors: [401, 404]),
        Operation(method: "GET", path: "/api/exports/{id}/file", summary: "The export's ZIP, once ready (its owner only).",
                  tag: "exports", access: .signedIn, success: (200, nil), fileType: "application/zip", errors: [401, 404]),

        Operation(method: "GET", path: "/api/admin/queues", summary: "Every queue with its depth by state (admins).",
                  tag: "admin", access: .signedIn, success: (200, "QueueList"), errors: [401, 403]),
        Operation(method: "POST", path: "/api/admin/queues/{name}/pause", summary: "Stop workers claiming from a queue (admins).",
                  tag: "admin", access: .signedIn, success: (200, "Queue"), errors: [401, 403, 404]),
        Operation(method: "POST", path: "/api/admin/queues/{name}/resume", summary: "Let workers claim from a queue again (admins).",
                  tag: "admin", access: .signedIn, success: (200, "Queue"), errors: [401, 403, 404]),
        Operation(method: "GET", path: "/api/admin/jobs", summary: "Jobs newest first, by state and queue (admins).",
                  tag: "admin", access: .signedIn,
                  query: pageQuery + [
                    ("state", ["type": "string", "enum": ["pending", "running", "completed", "dead", "cancelled"]], "Only jobs in this state."),
                    ("queue", ["type": "string"], "Only jobs of this queue."),
                  ],
                  success: (200, "JobPage"), errors: [401, 403, 422]),
        Operation(method: "POST", path: "/api/admin/jobs/{id}/retry", summary: "Run a dead or cancelled job again (admins).",
                  tag: "admin", access: .signedIn, success: (200, "Job"), errors: [401, 403, 404, 409]),
        Operation(method: "DELETE", path: "/api/admin/jobs/{id}",
                  summary: "Delete a pending, dead or cancelled job (204), or cancel a running one (202) (admins).",
                  tag: "admin", access: .signedIn, success: (204, nil), extraSuccess: [(202, "Job")], errors: [401, 403, 404, 409]),

        Operation(method: "POST", path: "/api/uploads",
                  summary: "Upload a file (PNG, JPEG, GIF, WebP or PDF, detected from its bytes); inspected in the background.",
                  tag: "uploads", access: .signedIn, binaryBody: true, success: (201, "UploadAccepted"), errors: [400, 401, 413, 422]),
        Operation(method: "GET", path: "/api/uploads/{id}", summary: "One of the caller's uploads: status, type, size, hash, dimensions.",
                  tag: "uploads", access: .signedIn, success: (200, "Upload"), errors: [401, 404]),
        Operation(method: "GET", path: "/uploads/{id}", summary: "The file of a ready upload (public), with ETag and byte ranges.",
                  tag: "uploads", headers: fileRequestHeaders, success: (200, nil), fileResponse: true, errors: [404, 416],
                  operationID: "getUploadFileById"),

        Operation(method: "GET", path: "/api/rooms", summary: "Public rooms and the caller's private rooms, newest first.",
                  tag: "chat", access: .signedIn, query: pageQuery, success: (200, "RoomPage"), errors: [401, 422]),
        Operation(method: "POST", path: "/api/rooms", summary: "Create a chat room; the caller owns it and is its first member.",
                  tag: "chat", access: .signedIn, body: "RoomRequest", success: (201, "Room"), errors: [400, 401, 403, 413, 415, 422]),
        Operation(method: "GET", path: "/api/rooms/{id}", summary: "One room (a private one for its members only).",
                  tag: "chat", access: .signedIn, success: (200, "Room"), errors: [401, 404]),
        Operation(method: "PUT", path: "/api/rooms/{id}/members/{userId}",
                  summary: "Join a public room (your own id), or add a member (owner); idempotent, answers the room.",
                  tag: "chat", access: .signedIn, success: (200, "Room"), errors: [401, 403, 404]),
        Operation(method: "DELETE", path: "/api/rooms/{id}/members/{userId}",
                  summary: "Leave a room (your own id), or remove a member (owner); idempotent. The owner cannot leave (409).",
                  tag: "chat", access: .signedIn, success: (204, nil), errors: [401, 403, 404, 409]),
        Operation(method: "GET", path: "/api/rooms/{id}/messages",
                  summary: "A window of the room's messages in ascending seq: after a seq, before one, or the latest.",
                  tag: "chat", access: .signedIn,
                  query: [
                    ("before", ["type": "integer", "format": "int64", "minimum": 1], "The messages just below this seq."),
                    ("after", ["type": "integer", "format": "int64", "minimum": 0], "The messages from this seq + 1 on; not with `before`."),
                    ("limit", ["type": "integer", "minimum": 1, "maximum": 200, "default": 50], "Messages, 1–200."),
                  ],
                  success: (200, "ChatMessageList"), errors: [401, 404, 422]),
        Operation(method: "GET", path: "/ws",
                  summary: "The chat WebSocket: one per client, for every room it joins (protocol in docs/CHAT.md).",
                  description: chatProtocol, tag: "chat", access: .signedIn,
                  query: [("token", ["type": "string"], "The access token, for clients that cannot set `Authorization` (browsers).")],
                  success: (101, nil), errors: [401, 426], upgradesToWebSocket: true),
    ]

    /// The WebSocket protocol of `/ws`, in short; docs/CHAT.md has it in full.
    static let chatProtocol = """
        Upgrade with `Upgrade: websocket` and the access token (`?token=` or `Authorization: Bearer`); \
        a missing, invalid or expired token is answered 401 before the upgrade. Every frame is a text \
        frame of one JSON object with a `type`.

        Client → server: `{"type":"join","room":ID,"since":SEQ?}` (subscribe; a public room makes you a \
        member; with `since`, every message after that seq first), `{"type":"leave","room":ID}` (stop \
        receiving on this connection), `{"type":"send","room":ID,"body":"…","clientMsgId":"…"?}`, \
        `{"type":"typing","room":ID}`, `{"type":"ping"}`.

        Server → client: `joined` {room, lastSeq, members:[{id, nickname, online}]}, `message` {room, seq, \
        id, sender:{id, nickname}, body, sentAt, clientMsgId?}, `ack` {room, clientMsgId?, seq}, `presence` \
        {room, joined:[{id, nickname}], left:[…]}, `typing` {room, user}, `notification` {notification, \
        unreadCount}, `pong`, `error` {code, message, room?}.

        A room's messages arrive in seq order, stored before anyone receives them; a resent `clientMsgId` \
        is stored once and acknowledged with the same seq. Limits: a body over 16 KiB is refused \
        (`too_large`); a frame over 64 KiB closes with 1009; 40 frames at once, then 20 per second \
        (`rate_limited`); a client that falls 1,024 frames behind is closed with 4008 and rejoins with \
        `since`. The server pings every 30 s; on shutdown it closes with 1001; a deleted account's \
        sockets close with 4001. `presence` frames come at most one per 100 ms per room (less often \
        in rooms of over 1,000 connections) and may name several users, the receiver included.
        """

    /// The routes the document describes, as `RouteDescription`s.
    public static var routes: [RouteDescription] {
        operations.map { RouteDescription(method: $0.method, path: $0.path) }.sorted()
    }

    /// The whole document.
    public static func document(categories: [String]) -> JSONValue {
        var paths: [(String, JSONValue)] = []
        for operation in operations {
            let entry = (operation.method.lowercased(), describe(operation))
            if let index = paths.firstIndex(where: { $0.0 == operation.path }), case .object(var methods) = paths[index].1 {
                methods.append(entry)
                paths[index].1 = .object(methods)
            } else {
                paths.append((operation.path, .object([entry])))
            }
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Agora API",
                "version": "1.0.0",
                "description": """
                    Accounts, a board (posts, comments, likes, follows), uploads and chat rooms. JSON with camelCase \
                    keys; timestamps are ISO-8601 UTC; ids are integers. Lists are `{items, nextCursor}` with keyset \
                    pagination. Every error is `{"error": {"code", "message", "details"?}}`; a path id that is not a \
                    positive integer names nothing and answers 404.
                    """,
            ],
            "servers": [["url": "/"]],
            "paths": .object(paths),
            "components": ["schemas": OpenAPISchemas.all(categories: categories), "securitySchemes": [
                "bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"],
            ]],
        ]
    }

    private static func describe(_ operation: Operation) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("summary", .string(operation.summary)),
            ("operationId", .string(operationID(operation))),
            ("tags", [.string(operation.tag)]),
        ]
        if let description = operation.description { fields.append(("description", .string(description))) }
        switch operation.access {
        case .anyone: break
        case .signedIn: fields.append(("security", [["bearer": []]]))
        case .optionalSignIn: fields.append(("security", [[:], ["bearer": []]]))
        }
        var parameters: [JSONValue] = []
        if operation.path.contains("{id}") {
            parameters.append(["name": "id", "in": "path", "required": true,
                               "schema": ["type": "integer", "minimum": 1], "description": "A positive integer id."])
        }
        if operation.path.contains("{userId}") {
            parameters.append(["name": "userId", "in": "path", "required": true,
                               "schema": ["type": "integer", "minimum": 1], "description": "A user's id."])
        }
        if operation.path.contains("{name}") {
            parameters.append(["name": "name", "in": "path", "required": true,
                               "schema": ["type": "string", "minLength": 1, "maxLength": 100], "description": "A queue's name."])
        }
        for (name, schema, description) in operation.query {
            parameters.append(["name": .string(name), "in": "query", "required": false, "schema": schema,
                               "description": .string(description)])
        }
        for (name, schema, description) in operation.headers {
            parameters.append(["name": .string(name), "in": "header", "required": false, "schema": schema,
                               "description": .string(description)])
        }
        if !parameters.isEmpty { fields.append(("parameters", .array(parameters))) }
        if let body = operation.body {
            fields.append(("requestBody", ["required": true, "content": ["application/json": ["schema": ref(body)]]]))
        }
        if operation.binaryBody {
            fields.append(("requestBody", [
                "required": true,
                "description": "The file's bytes. Any `Content-Type` is accepted: the type is detected from the content.",
                "content": ["application/octet-stream": ["schema": ["type": "string", "contentMediaType": "application/octet-stream"]]],
            ]))
        }
        var responses: [(String, JSONValue)] = []
        let (status, schema) = operation.success
        if operation.upgradesToWebSocket {
            responses.append(("101", ["description": "Switching Protocols: the connection is now the chat WebSocket."]))
        } else if operation.fileResponse {
            responses += fileResponses
        } else if let fileType = operation.fileType {
            responses.append((String(status), ["description": "The file.",
                                               "content": [fileType: ["schema": ["type": "string", "format": "binary"]]]]))
        } else if let schema {
            responses.append((String(status), ["description": "Success.", "content": ["application/json": ["schema": ref(schema)]]]))
        } else if status == 204 {
            responses.append(("204", ["description": "Done; no body."]))
        } else {
            responses.append((String(status), ["description": "Success.", "content": ["application/json": ["schema": ["type": "object"]]]]))
        }
        for (status, schema) in operation.extraSuccess {
            responses.append((String(status), ["description": "Success.", "content": ["application/json": ["schema": ref(schema)]]]))
        }
        var errors = operation.errors
        if operation.method != "GET" || operation.access == .signedIn { errors.append(405) }
        for code in Set(errors + [500]).sorted() {
            responses.append((String(code), ["description": .string(errorDescriptions[code] ?? "Error."),
                                             "content": ["application/json": ["schema": ref("Error")]]]))
        }
        fields.append(("responses", .object(responses)))
        return .object(fields)
    }

    /// 200, 206 and 304 of a file download.
    static let fileResponses: [(String, JSONValue)] = {
        let bytes: JSONValue = ["*/*": ["schema": ["type": "string", "contentMediaType": "application/octet-stream"]]]
        let header: (String) -> JSONValue = { description in ["description": .string(description), "schema": ["type": "string"]] }
        let common: [(String, JSONValue)] = [
            ("ETag", header("The SHA-256 of the file in quotes; the file never changes.")),
            ("Accept-Ranges", header("`bytes`.")),
            ("Cache-Control", header("`public, max-age=31536000, immutable`.")),
        ]
        return [
            ("200", ["description": "The whole file, typed as detected; PDFs with `Content-Disposition: attachment`.",
                     "headers": .object(common), "content": bytes]),
            ("206", ["description": "The requested byte range.",
                     "headers": .object(common + [("Content-Range", header("`bytes a-b/size`."))]), "content": bytes]),
            ("304", ["description": "Not modified: `If-None-Match` names the file's ETag.", "headers": .object(common)]),
        ]
    }()

    static let errorDescriptions: [Int: String] = [
        400: "Malformed JSON or a field of the wrong type (`malformed_json`, `invalid_body`); a malformed request (`bad_request`).",
        401: "No, an invalid or an expired token (`unauthorized`, `invalid_token`).",
        403: "Signed in but not allowed (`forbidden`), or a write before the email is verified (`email_not_verified`).",
        404: "No such resource (`not_found`).",
        405: "The path exists but not with this method (`method_not_allowed`, with `Allow`).",
        409: "Conflicts with stored data (`email_taken`, `nickname_taken`, `job_not_retryable`, `job_completed`, `owner_cannot_leave`).",
        413: "The body is larger than the limit: 1 MiB for JSON, 20 MiB for uploads by default (`body_too_large`).",
        415: "The body is not `application/json` (`unsupported_media_type`).",
        416: "The range asks for no byte of the file (`range_not_satisfiable`, with `Content-Range: bytes */size`).",
        422: "A field breaks a rule; `details` names each (`validation_failed`); a wrong or expired code (`invalid_code`, `code_expired`).",
        426: "A WebSocket endpoint asked without `Upgrade: websocket` (`upgrade_required`).",
        429: "Too many failed attempts; see `Retry-After` (`rate_limited`).",
        500: "A fault on the server (`internal_error`); never caused by client input.",
        503: "Storage is unavailable (`unavailable`, `not_ready`).",
    ]

    private static func operationID(_ operation: Operation) -> String {
        if let operationID = operation.operationID { return operationID }
        let words = operation.path.split(separator: "/").filter { $0 != "api" }.map { part in
            part.hasPrefix("{") ? "ById" : part.replacingOccurrences(of: ".", with: "_").capitalized
        }
        return operation.method.lowercased() + words.joined()
    }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
}
