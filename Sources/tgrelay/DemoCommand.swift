import ArgumentParser

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Watch tgrelay deliver through a 429 burst and an outage.")
    func run() async throws {}
}
