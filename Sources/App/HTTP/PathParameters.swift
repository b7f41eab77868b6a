import Hummingbird

extension AppRequestContext {
    /// The positive integer id in path parameter `name`; any other text (`abc`, `-1`, a number
    /// too large for 64 bits) names nothing, so it is a 404 like a missing id.
    func id(_ name: String = "id", of what: String) throws -> Int64 {
        guard let text = parameters.get(name), let id = Int64(text), id > 0 else {
            throw APIError.notFound(what)
        }
        return id
    }
}
