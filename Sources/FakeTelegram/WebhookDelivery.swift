import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Pushes a bot's updates to its webhook one at a time, in order, like Telegram: a non-2xx answer
/// or a network error is retried with exponential backoff, and the update is given up after
/// `maxAttempts`. URLSession keeps the library free of an HTTP client dependency.
extension FakeTelegram {
    func startWebhookWorker(bot: Int64, generation: Int) {
        let task = Task { [weak self] in
            guard let self else { return }
            await self.pushUpdates(bot: bot, generation: generation)
        }
        let previous = state.withLock { s -> Task<Void, Never>? in
            let previous = s.webhookWorkers[bot]
            s.webhookWorkers[bot] = task
            return previous
        }
        previous?.cancel()
    }

    private func pushUpdates(bot: Int64, generation: Int) async {
        let options = configuration.webhook
        let retention = configuration.updateRetention.seconds
        var attempts = 0
        var backoff = options.initialBackoff
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }

        while !Task.isCancelled {
            let now = clock.now()
            let next = state.withLock { s -> (BotUpdates.Item?, WebhookConfig?) in
                s.withBot(bot) { b in
                    guard b.webhookGeneration == generation, let config = b.webhook else { return (nil, nil) }
                    b.prune(now: now, retention: retention)
                    return (b.queue.first, config)
                }
            }
            guard let config = next.1 else { return }
            guard let item = next.0 else {
                await waitForUpdates(bot: bot, until: clock.now() + 60) { b in
                    !b.queue.isEmpty || b.webhookGeneration != generation
                }
                continue
            }

            let failure = await post(item.update, to: config, session: session, timeout: options.requestTimeout)
            if Task.isCancelled { return }
            attempts += 1
            let giveUp = failure != nil && attempts >= options.maxAttempts
            let date = clock.unixTime(at: clock.now())
            state.withLock { s in
                s.recorder.stats.webhookAttempts += 1
                if failure != nil { s.recorder.stats.webhookFailures += 1 }
                if failure == nil { s.recorder.stats.updatesDelivered += 1 }
                s.withBot(bot) { b in
                    if let failure, b.webhookGeneration == generation {
                        b.webhook?.lastErrorDate = date
                        b.webhook?.lastErrorMessage = failure
                    }
                    if failure == nil || giveUp { b.queue.removeAll { $0.id == item.id } }
                }
            }
            if failure == nil || giveUp {
                attempts = 0
                backoff = options.initialBackoff
            } else {
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, options.maxBackoff)
            }
        }
    }

    /// POSTs one update; returns nil on 2xx, else Telegram-style `last_error_message`.
    private func post(_ update: FakeJSON, to config: WebhookConfig, session: URLSession, timeout: Duration) async -> String? {
        guard let url = URL(string: config.url) else { return "Bad webhook URL" }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = update.data
        request.timeoutInterval = timeout.seconds
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let secret = config.secretToken {
            request.setValue(secret, forHTTPHeaderField: "X-Telegram-Bot-Api-Secret-Token")
        }
        do {
            let (_, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { return "Wrong response from the webhook" }
            if (200..<300).contains(http.statusCode) { return nil }
            let reason = HTTPURLResponse.localizedString(forStatusCode: http.statusCode).capitalized
            return "Wrong response from the webhook: \(http.statusCode) \(reason)"
        } catch let error as URLError {
            switch error.code {
            case .timedOut: return "Read timeout expired"
            case .cannotConnectToHost: return "Connection refused"
            case .cannotFindHost, .dnsLookupFailed: return "Failed to resolve host: Name or service not known"
            default: return "Connection error: \(error.localizedDescription)"
            }
        } catch {
            return "Connection error: \(error)"
        }
    }
}
