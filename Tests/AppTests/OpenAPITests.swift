import App
import Foundation
import ProcessTestSupport
import Testing

@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("every route in the router is in the document, and every route in the document is in the router", arguments: TestEngine.allCases)
    func documentMatchesRouter(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let (_, table) = buildRouter(api.services)
            let routed = Set(table.routes)
            let documented = Set(OpenAPIDocument.routes)
            #expect(routed.subtracting(documented).sorted() == [], "routed but not documented")
            #expect(documented.subtracting(routed).sorted() == [], "documented but not routed")
        }
    }

    @Test("/api/openapi.json serves an OpenAPI 3.1 document with every path and the error schema", arguments: TestEngine.allCases)
    func served(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let reply = try await api.get("/api/openapi.json")
            #expect(reply.status == .ok)
            #expect(reply.json["openapi"].string == "3.1.0")
            let paths = try #require(reply.json["paths"].object)
            for route in OpenAPIDocument.routes {
                #expect(paths[route.path] != nil, "\(route)")
                let operation = JSON(value: paths[route.path])[route.method.lowercased()]
                #expect(operation["responses"]["500"]["content"]["application/json"]["schema"]["$ref"].string
                    == "#/components/schemas/Error", "\(route)")
            }
            #expect(reply.json["components"]["schemas"]["Error"]["required"][0].string == "error")
        }
    }

    @Test("every schema a document references exists")
    func referencesResolve() async throws {
        let data = try JSONCoding.encoder.encode(OpenAPIDocument.document(categories: ["general"]))
        let text = String(decoding: data, as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let schemas = try #require((object["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let regex = try NSRegularExpression(pattern: #"#/components/schemas/(\w+)"#)
        let names = regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
        #expect(!names.isEmpty)
        for name in Set(names) { #expect(schemas[name] != nil, "missing schema \(name)") }
    }
}

/// Whether `python3` with `openapi-spec-validator` (installed by `.ci/run`) is on this machine.
let openAPIValidatorAvailable: Bool = {
    guard let process = try? ChildProcess("/usr/bin/env", ["python3", "-c", "import openapi_spec_validator"]) else { return false }
    let status = process.wait()
    if status != 0 {
        print("skipping OpenAPI validation: python3 with openapi-spec-validator is not installed (.ci/run installs it)")
    }
    return status == 0
}()

@Suite("OpenAPI document validity")
struct OpenAPIValidityTests {
    @Test("the document is valid OpenAPI 3.1 according to openapi-spec-validator", .enabled(if: openAPIValidatorAvailable))
    func validDocument() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agora-openapi-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONCoding.encoder.encode(OpenAPIDocument.document(categories: ["general", "news"])).write(to: file)
        let process = try ChildProcess("/usr/bin/env", ["python3", "-c", """
            import json, sys
            from openapi_spec_validator import validate
            validate(json.load(open(sys.argv[1])))
            """, file.path], output: .pipe)
        let (output, status) = try await offCooperativePool {
            (String(decoding: process.output?.readDataToEndOfFile() ?? Data(), as: UTF8.self), process.wait())
        }
        #expect(status == 0, "\(output)")
    }
}
