import Hummingbird
import NIOCore

/// The per-request context of Agora's router: who is calling, from where, and the JSON coders.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The signed-in caller, set by `AuthMiddleware` from a valid access token.
    public var identity: Identity?
    public let remoteAddress: SocketAddress?
    /// The largest body a handler may collect; `BodyLimitMiddleware` sets it from the settings.
    public var maxUploadSize: Int = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    public var requestDecoder: AgoraJSONDecoder { AgoraJSONDecoder() }
    public var responseEncoder: AgoraJSONEncoder { AgoraJSONEncoder() }

    /// The caller, or 401 when the request carries no valid access token.
    public func requireIdentity() throws -> Identity {
        guard let identity else { throw APIError.unauthorized }
        return identity
    }

    /// The caller, who may write only with a verified email address when the settings say so
    /// (401 without a token, 403 `email_not_verified` before verification).
    public func requireWriter(_ codes: AccountCodeService) async throws -> Identity {
        let identity = try requireIdentity()
        try await codes.requireVerifiedEmail(identity)
        return identity
    }
}
