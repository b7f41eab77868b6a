import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection that sends a request, reads its whole answer, then the
/// next: the load generator of `agora bench signups` and the set-up of `agora bench chat`.
///
/// Built on SwiftNIO's own HTTP/1.1 codec rather than AsyncHTTPClient because the client shares
/// the two cores with the server it measures: AsyncHTTPClient took about a fifth of them during a
/// burst (its pool, its per-request state machines and tasks), this about a twentieth.
struct BenchHTTPConnection {
    struct Answer {
        let status: Int
        let body: ByteBuffer
    }

    private let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    private let host: String

    init(host: String, port: Int) async throws {
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        inbound = channel.inbound.makeAsyncIterator()
        outbound = channel.outbound
        self.host = "\(host):\(port)"
    }

    /// Sends `method path` with `body` (as JSON when given), signed in with `token` when given,
    /// and returns the answer.
    mutating func send(_ method: HTTPMethod, _ path: String, json body: String? = nil, bearer token: String? = nil) async throws -> Answer {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: host)
        if let token { head.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        }
        try await outbound.write(.head(head))
        if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
        try await outbound.write(.end(nil))

        var status = 0
        var received = ByteBuffer()
        while let part = try await inbound.next() {
            switch part {
            case .head(let head): status = Int(head.status.code)
            case .body(var chunk): received.writeBuffer(&chunk)
            case .end: return Answer(status: status, body: received)
            }
        }
        throw ConnectionClosed()
    }

    func close() async {
        outbound.finish()
        try? await channel.channel.close()
    }

    struct ConnectionClosed: Error {}
}
