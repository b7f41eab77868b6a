import Foundation
import Hummingbird
import NIOCore

/// `GET /api/openapi.json`: the document, encoded once.
struct OpenAPIController {
    let body: ByteBuffer

    init(categories: [String]) {
        let data = (try? JSONCoding.encoder.encode(OpenAPIDocument.document(categories: categories))) ?? Data()
        body = ByteBuffer(bytes: data)
    }

    func addRoutes(to routes: RouteTable) {
        routes.get("/api/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
    }
}
