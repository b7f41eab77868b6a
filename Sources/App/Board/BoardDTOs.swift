import Hummingbird
import JSONWriting
import Storage

/// A post as sent to clients.
struct PostDTO: Encodable, Sendable, ResponseEncodable {
    var id: Int64
    var author: UserSummaryDTO
    var title: String
    var body: String
    var category: String
    var tags: [String]
    var likeCount: Int
    var commentCount: Int
    var viewCount: Int
    var likedByMe: Bool?
    var attachments: [AttachmentDTO]
    var createdAt: Timestamp
    var updatedAt: Timestamp

    init(_ post: PostRecord) {
        id = post.id
        author = UserSummaryDTO(id: post.authorID, nickname: post.authorNickname)
        title = post.title
        body = post.body
        category = post.category
        tags = post.tags
        likeCount = post.likeCount
        commentCount = post.commentCount
        viewCount = post.viewCount
        likedByMe = post.likedByMe
        attachments = post.attachments.map(AttachmentDTO.init)
        createdAt = post.createdAt
        updatedAt = post.updatedAt
    }
}

extension PostDTO: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("attachments"); json.array(attachments) { json, attachment in attachment.write(to: &json) }
            json.key("author")
            author.write(to: &json)
            json.key("body"); json.value(body)
            json.key("category"); json.value(category)
            json.key("commentCount"); json.value(commentCount)
            json.key("createdAt"); json.value(createdAt)
            json.key("id"); json.value(id)
            json.key("likeCount"); json.value(likeCount)
            if let likedByMe { json.key("likedByMe"); json.value(likedByMe) }
            json.key("tags"); json.array(tags) { json, tag in json.value(tag) }
            json.key("title"); json.value(title)
            json.key("updatedAt"); json.value(updatedAt)
            json.key("viewCount"); json.value(viewCount)
        }
    }
}

extension Page: JSONWritable where Item: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("items"); json.array(items) { json, item in item.write(to: &json) }
            if let nextCursor { json.key("nextCursor"); json.value(nextCursor) }
        }
    }
}

/// A comment as sent to clients.
struct CommentDTO: Encodable, Sendable, ResponseEncodable {
    var id: Int64
    var postId: Int64
    var author: UserSummaryDTO
    var body: String
    var createdAt: Timestamp
    var updatedAt: Timestamp

    init(_ comment: CommentRecord) {
        id = comment.id
        postId = comment.postID
        author = UserSummaryDTO(id: comment.authorID, nickname: comment.authorNickname)
        body = comment.body
        createdAt = comment.createdAt
        updatedAt = comment.updatedAt
    }
}

/// `{liked, likeCount}`: the state after a like or unlike.
struct LikeStateDTO: Encodable, Sendable, ResponseEncodable {
    var liked: Bool
    var likeCount: Int
}

/// `{items}`: a short list that is never paged.
struct ItemsDTO<Item: Encodable & Sendable>: Encodable, Sendable, ResponseEncodable {
    var items: [Item]
}
