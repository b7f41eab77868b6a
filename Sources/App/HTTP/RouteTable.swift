import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// One route of the API: a method and a path template such as `/api/posts/{id}`.
public struct RouteDescription: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var method: String
    public var path: String

    public var description: String { "\(method) \(path)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.path, lhs.method) < (rhs.path, rhs.method) }
}

/// The router every controller registers on: it forwards to Hummingbird's router and keeps the
/// list of routes, so the OpenAPI document can be checked against it and a known path with an
/// unknown method answers 405 instead of 404.
public final class RouteTable: RouterMethods {
    public typealias Context = AppRequestContext
    let router: Router<AppRequestContext>
    private let registered = NIOLockedValueBox<[RouteDescription]>([])

    init(router: Router<AppRequestContext>) {
        self.router = router
    }

    /// Every route registered so far, sorted by path then method.
    public var routes: [RouteDescription] { registered.withLockedValue { $0.sorted() } }

    @discardableResult
    public func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self
    where Responder.Context == Context {
        registered.withLockedValue { $0.append(RouteDescription(method: method.rawValue, path: path.description)) }
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult
    public func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }

    /// Registers a 405 responder, with an `Allow` header, for every method a known path lacks.
    /// (HEAD is answered wherever GET is, by the router's generated HEAD endpoints.)
    func answerUnknownMethodsWith405() {
        let byPath = Dictionary(grouping: registered.withLockedValue { $0 }, by: \.path)
        let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace]
        for (path, routes) in byPath {
            var allowed = Set(routes.map(\.method))
            if allowed.contains("GET") { allowed.insert("HEAD") }
            let allow = allowed.sorted().joined(separator: ", ")
            for method in methods where !allowed.contains(method.rawValue) {
                router.on(RouterPath(path), method: method, responder: CallbackResponder { _, _ in
                    var error = APIError(.methodNotAllowed, code: "method_not_allowed",
                                         message: "\(method.rawValue) is not allowed here; use \(allow).")
                    error.headers["Allow"] = allow
                    throw error
                })
            }
        }
    }
}
