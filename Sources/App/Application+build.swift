import Foundation
import Hummingbird
import HummingbirdCore
import Logging

/// Builds the Agora application from its settings: opens storage, then wires the routes.
/// `agora serve` runs what this returns, and the tests drive the same thing.
public func buildApplication(settings: AppSettings, logger: Logger) async throws -> some ApplicationProtocol {
    buildApplication(services: try await AgoraServices.open(settings: settings, logger: logger), logger: logger)
}

/// Builds the application over services that are already open; it closes them when it stops.
public func buildApplication(services: AgoraServices, logger: Logger) -> some ApplicationProtocol {
    let settings = services.settings
    let (router, _) = buildRouter(services)
    let chat = ChatGateway(accessTokens: services.accessTokens, rooms: services.rooms, hub: services.chatHub,
                           configuration: settings.chatSocket)
    return Application(
        router: router,
        server: HTTPServerBuilder { responder in chat.channel(responder: responder) },
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "agora"),
        // Stopped in reverse order: the HTTP server first, then the workers (which still need the
        // database to release their leases), the chat relay (which clears this instance's presence),
        // the view counter's last flush, the search indexer,
        // and the database last.
        services: [AgoraServicesLifecycle(services: services), services.searchIndexer, services.viewCounter]
            + (services.chatRelay.map { [$0] } ?? [])
            + (settings.runWorkers ? [services.makeWorker(logger: logger)] : []),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? settings.port
            logger.notice("Agora listening on http://\(settings.host):\(port)")
            // Written unbuffered: scripts and tests wait for this line on a pipe.
            FileHandle.standardOutput.write(Data("Agora listening on http://\(settings.host):\(port)\n".utf8))
        },
        logger: logger
    )
}

/// Wires middleware and every controller's routes; returns the router and the table of its routes.
public func buildRouter(_ services: AgoraServices) -> (Router<AppRequestContext>, RouteTable) {
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    let routes = RouteTable(router: router)
    routes.add(middleware: SecurityHeadersMiddleware())
    if !services.settings.corsAllowedOrigins.isEmpty {
        routes.add(middleware: AllowedOriginsCORSMiddleware(allowedOrigins: services.settings.corsAllowedOrigins))
    }
    routes.add(middleware: ErrorMiddleware())
    routes.add(middleware: BodyLimitMiddleware(maxBytes: services.settings.maxJSONBodyBytes))
    routes.add(middleware: AuthMiddleware(accessTokens: services.accessTokens))

    HealthController(database: services.database).addRoutes(to: routes)
    AuthController(accounts: services.accounts, codes: services.codes, trustForwardedFor: services.settings.trustForwardedFor).addRoutes(to: routes)
    UserController(accounts: services.accounts, follows: services.follows, codes: services.codes,
                   notifications: services.notifications).addRoutes(to: routes)
    PostController(posts: services.posts, codes: services.codes).addRoutes(to: routes)
    CommentController(comments: services.comments, codes: services.codes).addRoutes(to: routes)
    NotificationController(notifications: services.notifications).addRoutes(to: routes)
    AdminController(queues: QueueAdminService(queue: services.queue)).addRoutes(to: routes)
    ExportController(exports: services.exports).addRoutes(to: routes)
    UploadController(uploads: services.uploads, codes: services.codes).addRoutes(to: routes)
    RoomController(rooms: services.rooms, codes: services.codes).addRoutes(to: routes)
    ChatSocketController().addRoutes(to: routes)
    OpenAPIController(categories: services.settings.categories).addRoutes(to: routes)
    routes.answerUnknownMethodsWith405()
    return (router, routes)
}
