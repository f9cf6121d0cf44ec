import AsyncHTTPClient
import FakeTelegram
import Foundation
import Logging
import TGRelayStore
import TelegramBotAPI
import Testing

@testable import TGRelayServer

/// `/openapi.json` describes exactly what the router serves; `/v1/status` shows each configured bot.
@Suite(.serialized)
struct OpenAPIAndStatusTests {
    static let secondToken = "555555:STATUS-token-SECRET"

    @Test func openAPIDocumentListsEveryRouteTheRouterServes() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore(.sqlite(path: directory.appendingPathComponent("routes.sqlite").path))
        var configuration = RelayConfiguration()
        configuration.bots = [.init(name: "default", token: "1:x")]
        let dispatcher = Dispatcher(
            configuration: configuration, store: store, client: BotAPIClient(httpClient: .shared), logger: Logger(label: "test"))
        let alerts = AlertMonitor(configuration: configuration, store: store, dispatcher: dispatcher, logger: Logger(label: "test"))
        let router = RelayApplication.router(configuration: configuration, store: store, dispatcher: dispatcher, alerts: alerts)
        let served = Set(router.routes.map { "\($0.method.rawValue.lowercased()) \($0.path.description)" })
        #expect(served.count >= 16)

        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "post", "put", "patch", "delete", "head", "options"]
        let described = Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0) \(path)" } })
        #expect(served.subtracting(described).isEmpty, "served but not described: \(served.subtracting(described).sorted())")
        #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served).sorted())")
        // Every path parameter in a template is declared.
        for (path, item) in paths where path.contains("{") {
            let declared = ((item["parameters"] as? [[String: Any]]) ?? [])
                + item.values.compactMap { ($0 as? [String: Any])?["parameters"] as? [[String: Any]] }.flatMap { $0 }
            let names = Set(declared.filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String })
            let template = Set(path.split(separator: "{").dropFirst().map { String($0.prefix { $0 != "}" }) })
            #expect(template.isSubset(of: names), "\(path) declares \(names)")
        }
        // Every $ref resolves.
        let text = OpenAPIDocument.json
        let components = try #require(document["components"] as? [String: [String: Any]])
        for match in text.matches(of: /"\$ref": "#\/components\/(\w+)\/(\w+)"/) {
            #expect(components[String(match.1)]?[String(match.2)] != nil, "\(match.0)")
        }
    }

    @Test func servedDocumentAndStatusOfEveryConfiguredBot() async throws {
        let bed = try await TestBed.rest(config: REST.config(["bots": ["second"], "bot": ["second": ["token": Self.secondToken]]]))
        defer { Task { try await bed.shutdown() } }
        let served = try await bed.http.json(.GET, bed.relay.baseURL + "/openapi.json")
        #expect(served.status == 200)
        #expect(served.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect((served["openapi"] as? String)?.hasPrefix("3.1") == true)

        // Before any message: both bots are there, idle.
        let fresh = try await bed.http.json(.GET, bed.api + "/status")
        #expect(fresh.status == 200)
        let freshBots = try #require(fresh["bots"] as? [[String: Any]])
        #expect(Set(freshBots.compactMap { $0["bot"] as? String }) == ["default", "second"], "\(fresh.body)")
        #expect(freshBots.allSatisfy { $0["queue_depth"] as? Int == 0 && $0["dead_letters"] as? Int == 0 })

        var notFound = FakeFault(kind: .chatNotFound)
        notFound.chat = "-4040"
        try bed.telegram.addFault(notFound)
        let delivered = try await bed.send(chat: 4041, text: "ok")
        let failed = try await bed.send(chat: -4040, text: "gone")
        _ = try await bed.waitFinal([delivered, failed], timeout: .seconds(10))
        // Eight lanes failing at once open the circuit (five consecutive failures) before any runs out of
        // attempts; then they wait without spending more.
        let outage = try bed.telegram.addFault(FakeFault(kind: .outage))
        var held: [Int] = []
        for chat in 4042..<4050 { held.append(try await bed.send(chat: chat, text: "held")) }
        #expect(try await eventually(timeout: .seconds(10)) {
            let endpoints = try await bed.botStatus()?["endpoints"] as? [[String: Any]]
            return endpoints?.first?["circuit"] as? String == "open"
        }, "consecutive 502s open the circuit")

        let status = try #require(try await bed.botStatus())
        #expect(status["queue_depth"] as? Int == 8)
        #expect(status["delivered"] as? Int == 1)
        #expect(status["dead_letters"] as? Int == 1)
        #expect(status["delivery_rate_per_second"] is Double || status["delivery_rate_per_second"] is Int)
        #expect((status["oldest_waiting_seconds"] as? Double ?? -1) >= 0)
        let endpoint = try #require((status["endpoints"] as? [[String: Any]])?.first)
        #expect(endpoint["url"] as? String == bed.telegram.baseURL)
        #expect(endpoint["outage_since"] != nil)
        #expect(!"\(status)".contains(TestBed.token))
        let second = try #require(try await bed.botStatus("second"))
        #expect(second["queue_depth"] as? Int == 0)
        #expect((second["endpoints"] as? [[String: Any]])?.first?["circuit"] as? String == "closed")

        bed.telegram.removeFault(id: outage)
        let drained = try await bed.waitFinal(held, timeout: .seconds(20))
        #expect(drained.count == 8 && drained.values.allSatisfy { $0["status"] as? String == "delivered" })
        #expect(try await eventually(timeout: .seconds(5)) {
            (try await bed.botStatus()?["endpoints"] as? [[String: Any]])?.first?["circuit"] as? String == "closed"
        })
        #expect(try await bed.botStatus()?["queue_depth"] as? Int == 0)
        #expect(try await bed.http.json(.GET, bed.relay.baseURL + "/readyz").status == 200)
    }
}
