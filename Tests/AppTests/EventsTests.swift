import App
import Foundation
import Queue
import Synchronization
import Testing

@Suite("Domain events through the queue")
struct EventsTests {
    @Test("a post and an account publish their events in their own transaction; the in-process worker delivers them once", arguments: TestEngine.allCases)
    func eventsAreDelivered(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let posts = Mutex<[PostCreated]>([])
            let signups = Mutex<[UserSignedUp]>([])
            let registry = api.services.queue.registry
            registry.subscribe(PostCreated.self, group: "events-test") { event, _ in posts.withLock { $0.append(event) } }
            registry.subscribe(UserSignedUp.self, group: "events-test") { event, _ in signups.withLock { $0.append(event) } }
            try await api.services.queue.saveSubscriptions()

            let author = try await api.user()
            let id = try await api.post(by: author)
            // A post refused by validation publishes nothing.
            let refused = try await api.post("/api/posts", ["title": "", "body": "b"], token: author.accessToken)
            #expect(refused.status == .unprocessableContent)

            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, posts.withLock({ $0.isEmpty }) || signups.withLock({ $0.isEmpty }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(posts.withLock { $0 } == [PostCreated(postId: id, authorId: author.id)])
            #expect(signups.withLock { $0 } == [UserSignedUp(userId: author.id)])
        }
    }
}
