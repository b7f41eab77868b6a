/// The schemas of the OpenAPI document: one per wire shape (DTO) and request body.
enum OpenAPISchemas {
    static func object(_ properties: [(String, JSONValue)], required: [String] = []) -> JSONValue {
        var fields: [(String, JSONValue)] = [("type", "object"), ("properties", .object(properties))]
        if !required.isEmpty { fields.append(("required", .array(required.map(JSONValue.string)))) }
        return .object(fields)
    }

    static let id: JSONValue = ["type": "integer", "format": "int64", "minimum": 1]
    static let timestamp: JSONValue = ["type": "string", "format": "date-time"]
    static let string: JSONValue = ["type": "string"]
    static let integer: JSONValue = ["type": "integer"]
    static let boolean: JSONValue = ["type": "boolean"]

    static func page(of item: String) -> JSONValue {
        object([("items", ["type": "array", "items": OpenAPIDocument.ref(item)]),
                ("nextCursor", ["type": ["string", "null"], "description": "Absent on the last page."])], required: ["items"])
    }

    static func all(categories: [String]) -> JSONValue {
        let tags: JSONValue = ["type": "array", "maxItems": 10,
                               "items": ["type": "string", "minLength": 1, "maxLength": 30],
                               "description": "Normalised: trimmed, lower-cased, inner spaces as `-`, duplicates dropped."]
        let category: JSONValue = ["type": "string", "enum": .array(categories.map(JSONValue.string)),
                                   "default": .string(categories.first ?? "general")]
        // Not only white space, and no U+0000 (which no engine stores).
        let text = #"^[^\u0000]*\S[^\u0000]*$"#
        let title: JSONValue = ["type": "string", "minLength": 1, "maxLength": 200, "pattern": .string(text)]
        let postBody: JSONValue = ["type": "string", "minLength": 1, "maxLength": 100_000, "pattern": .string(text)]
        let commentBody: JSONValue = ["type": "string", "minLength": 1, "maxLength": 5_000, "pattern": .string(text)]
        let nickname: JSONValue = ["type": "string", "minLength": 2, "maxLength": 30,
                                   "pattern": #"^[^\u0000-\u001f\u007f-\u009f]*$"#,
                                   "description": "Any script, no control characters; trimmed, then 2–30 characters; unique ignoring case."]
        let password: JSONValue = ["type": "string", "minLength": 8, "maxLength": 256]
        let code: JSONValue = ["type": "string", "pattern": "^[0-9]{6}$", "description": "The 6-digit code from the mail."]
        let attachments: JSONValue = ["type": "array", "maxItems": 10, "uniqueItems": true, "items": id,
                                      "description": "Ids of the author's ready uploads, in order; on an edit, the new list."]
        return [
            "Error": object([("error", object([
                ("code", ["type": "string", "description": "snake_case, stable"]),
                ("message", ["type": "string", "description": "A human sentence."]),
                ("details", ["type": "array", "items": object([("field", string), ("problem", string)], required: ["field", "problem"])]),
            ], required: ["code", "message"]))], required: ["error"]),
            "Status": object([("status", ["type": "string", "const": "ok"])], required: ["status"]),
            "Role": ["type": "string", "enum": ["member", "admin"]],
            "Account": object([
                ("id", id), ("email", ["type": "string", "format": "email"]), ("nickname", string), ("bio", string),
                ("role", OpenAPIDocument.ref("Role")), ("emailVerified", boolean), ("createdAt", timestamp),
                ("followerCount", integer), ("followingCount", integer), ("postCount", integer),
                ("unreadNotificationCount", ["type": "integer", "description": "On `GET /api/users/me` only."]),
            ], required: ["id", "email", "nickname", "bio", "role", "emailVerified", "createdAt"]),
            "Profile": object([
                ("id", id), ("nickname", string), ("bio", string), ("role", OpenAPIDocument.ref("Role")), ("createdAt", timestamp),
                ("followerCount", integer), ("followingCount", integer), ("postCount", integer),
            ], required: ["id", "nickname", "bio", "role", "createdAt", "followerCount", "followingCount", "postCount"]),
            "UserSummary": object([("id", id), ("nickname", string)], required: ["id", "nickname"]),
            "UserSummaryPage": page(of: "UserSummary"),
            "UserEnvelope": object([("user", OpenAPIDocument.ref("Account"))], required: ["user"]),
            "Session": object([
                ("accessToken", ["type": "string", "description": "JWT (HS256), 15 minutes."]),
                ("refreshToken", ["type": "string", "description": "Opaque, 30 days, single use."]),
                ("expiresIn", ["type": "integer", "description": "Seconds until the access token expires."]),
                ("user", OpenAPIDocument.ref("Account")),
            ], required: ["accessToken", "refreshToken", "expiresIn", "user"]),
            "FollowState": object([("following", boolean)], required: ["following"]),
            "LikeState": object([("liked", boolean), ("likeCount", integer)], required: ["liked", "likeCount"]),
            "Post": object([
                ("id", id), ("author", OpenAPIDocument.ref("UserSummary")), ("title", string), ("body", string),
                ("category", string), ("tags", ["type": "array", "items": string]), ("likeCount", integer),
                ("commentCount", integer), ("viewCount", integer),
                ("likedByMe", ["type": "boolean", "description": "Present when the caller is signed in."]),
                ("attachments", ["type": "array", "maxItems": 10, "items": OpenAPIDocument.ref("Attachment")]),
                ("createdAt", timestamp), ("updatedAt", timestamp),
            ], required: ["id", "author", "title", "body", "category", "tags", "likeCount", "commentCount", "viewCount",
                          "attachments", "createdAt", "updatedAt"]),
            "Attachment": object([
                ("id", id), ("contentType", string), ("size", integer),
                ("width", ["type": "integer", "description": "Images only."]),
                ("height", ["type": "integer", "description": "Images only."]),
                ("url", ["type": "string", "description": "`/uploads/{id}`, public."]),
            ], required: ["id", "contentType", "size", "url"]),
            "UploadStatus": ["type": "string", "enum": ["processing", "ready", "rejected"]],
            "UploadAccepted": object([("id", id), ("status", OpenAPIDocument.ref("UploadStatus"))], required: ["id", "status"]),
            "Upload": object([
                ("id", id), ("status", OpenAPIDocument.ref("UploadStatus")),
                ("contentType", ["type": "string", "enum": ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"],
                                 "description": "Detected from the content; present once ready."]),
                ("size", integer),
                ("sha256", ["type": "string", "pattern": "^[0-9a-f]{64}$", "description": "Present once inspected."]),
                ("width", ["type": "integer", "description": "Ready images only."]),
                ("height", ["type": "integer", "description": "Ready images only."]),
                ("reason", ["type": "string", "description": "Why the upload was rejected."]),
                ("createdAt", timestamp),
                ("url", ["type": "string", "description": "`/uploads/{id}` once ready."]),
            ], required: ["id", "status", "size", "createdAt"]),
            "PostPage": page(of: "Post"),
            "PostList": object([("items", ["type": "array", "maxItems": 5, "items": OpenAPIDocument.ref("Post")])], required: ["items"]),
            "Comment": object([
                ("id", id), ("postId", id), ("author", OpenAPIDocument.ref("UserSummary")), ("body", string),
                ("createdAt", timestamp), ("updatedAt", timestamp),
            ], required: ["id", "postId", "author", "body", "createdAt", "updatedAt"]),
            "CommentPage": page(of: "Comment"),
            "Notification": object([
                ("id", id), ("kind", ["type": "string", "enum": ["post", "comment", "like", "follow"]]),
                ("actor", OpenAPIDocument.ref("UserSummary")),
                ("post", object([("id", id), ("title", string)], required: ["id", "title"])),
                ("commentId", id), ("read", boolean), ("createdAt", timestamp),
            ], required: ["id", "kind", "actor", "read", "createdAt"]),
            "NotificationPage": page(of: "Notification"),
            "MarkReadRequest": object([("ids", ["type": "array", "minItems": 1, "maxItems": 100, "items": id]),
                                       ("all", ["type": "boolean", "const": true])]),
            "UnreadCount": object([("unreadCount", integer)], required: ["unreadCount"]),
            "Queue": object([
                ("name", string), ("paused", boolean),
                ("counts", object(["pending", "running", "completed", "dead", "cancelled"].map { ($0, integer) },
                                  required: ["pending", "running", "completed", "dead", "cancelled"])),
            ], required: ["name", "paused", "counts"]),
            "QueueList": object([("items", ["type": "array", "items": OpenAPIDocument.ref("Queue")])], required: ["items"]),
            "Job": object([
                ("id", id), ("kind", string), ("queue", string),
                ("state", ["type": "string", "enum": ["pending", "running", "completed", "dead", "cancelled"]]),
                ("payload", ["type": "string", "description": "The stored JSON payload."]),
                ("priority", integer), ("attempt", integer), ("maxAttempts", integer), ("runAt", timestamp),
                ("createdAt", timestamp), ("finishedAt", timestamp), ("uniqueKey", string), ("lastError", string),
                ("errors", ["type": "array", "items": object([("attempt", integer), ("at", timestamp), ("error", string)],
                                                             required: ["attempt", "at", "error"])]),
            ], required: ["id", "kind", "queue", "state", "payload", "priority", "attempt", "maxAttempts", "runAt", "createdAt", "errors"]),
            "JobPage": page(of: "Job"),
            "Export": object([
                ("exportId", id), ("status", ["type": "string", "enum": ["pending", "running", "ready", "failed"]]),
                ("progress", ["type": "integer", "minimum": 0, "maximum": 100]), ("size", integer), ("error", string),
                ("createdAt", timestamp), ("finishedAt", timestamp),
                ("downloadUrl", ["type": "string", "description": "Present once the export is ready."]),
            ], required: ["exportId", "status", "progress", "createdAt"]),
            "Room": object([
                ("id", id), ("name", string), ("topic", string), ("visibility", OpenAPIDocument.ref("RoomVisibility")),
                ("ownerId", id), ("memberCount", ["type": "integer", "minimum": 0]),
                ("onlineCount", ["type": "integer", "minimum": 0, "description": "Members connected over WebSocket now."]),
                ("lastSeq", ["type": "integer", "format": "int64", "minimum": 0, "description": "The newest message's seq; 0 before the first."]),
                ("createdAt", timestamp), ("isMember", ["type": "boolean", "description": "Whether the caller is a member."]),
            ], required: ["id", "name", "topic", "visibility", "ownerId", "memberCount", "onlineCount", "lastSeq", "createdAt",
                          "isMember"]),
            "RoomVisibility": ["type": "string", "enum": ["public", "private"]],
            "RoomPage": page(of: "Room"),
            "RoomRequest": object([
                ("name", ["type": "string", "minLength": 1, "maxLength": 80,
                          "pattern": #"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"#,
                          "description": "Trimmed, then 1–80 characters; no control characters."]),
                ("topic", ["type": "string", "maxLength": 300, "pattern": #"^[^\u0000]*$"#, "default": "",
                           "description": "Trimmed, then at most 300 characters."]),
                ("visibility", OpenAPIDocument.ref("RoomVisibility")),
            ], required: ["name", "visibility"]),
            "ChatMessage": object([
                ("id", id), ("room", id), ("seq", ["type": "integer", "format": "int64", "minimum": 1]),
                ("sender", OpenAPIDocument.ref("UserSummary")), ("body", string), ("sentAt", timestamp),
                ("clientMsgId", ["type": "string", "description": "The sender's id for the message; absent when none was given."]),
            ], required: ["id", "room", "seq", "sender", "body", "sentAt"]),
            "ChatMessageList": object([("items", ["type": "array", "maxItems": 200, "items": OpenAPIDocument.ref("ChatMessage")])],
                                      required: ["items"]),
            "SignupRequest": object([("email", ["type": "string", "format": "email"]), ("password", password), ("nickname", nickname)],
                                    required: ["email", "password", "nickname"]),
            "LoginRequest": object([("email", string), ("password", string)], required: ["email", "password"]),
            "RefreshRequest": object([("refreshToken", ["type": "string", "minLength": 1])], required: ["refreshToken"]),
            "UpdateProfileRequest": object([("nickname", nickname),
                                            ("bio", ["type": "string", "maxLength": 500, "pattern": #"^[^\u0000]*$"#])]),
            "ChangePasswordRequest": object([("currentPassword", string), ("newPassword", password)],
                                            required: ["currentPassword", "newPassword"]),
            "PostRequest": object([("title", title), ("body", postBody), ("category", category), ("tags", tags),
                                   ("attachments", attachments)],
                                  required: ["title", "body"]),
            "PostPatchRequest": object([("title", title), ("body", postBody), ("category", category), ("tags", tags),
                                        ("attachments", attachments)]),
            "CommentRequest": object([("body", commentBody)], required: ["body"]),
            "VerifyEmailRequest": object([("email", ["type": "string", "format": "email"]), ("code", code)], required: ["email", "code"]),
            "EmailRequest": object([("email", ["type": "string", "format": "email"])], required: ["email"]),
            "ResetPasswordRequest": object([("email", ["type": "string", "format": "email"]), ("code", code), ("newPassword", password)],
                                           required: ["email", "code", "newPassword"]),
            "EmailVerified": object([("emailVerified", ["type": "boolean", "const": true])], required: ["emailVerified"]),
            "Accepted": object([("status", ["type": "string", "const": "accepted"])], required: ["status"]),
        ]
    }
}
