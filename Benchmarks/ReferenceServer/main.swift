// The benchmark's yardstick, not part of the product: a bare Hummingbird route returning a
// constant string, run beside Agora so every HTTP figure is a ratio measured in the same run.
import Hummingbird

let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 18081
let router = Router()
router.get("/") { _, _ in "Hello, world!" }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
