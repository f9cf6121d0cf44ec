import Foundation
import Testing
import TGRelayCore

/// Every row of TELEGRAM.md "Errors seen in practice", with the bodies Telegram sends.
@Suite struct AnswerClassifierTests {
    let classifier = AnswerClassifier()

    struct Row: Sendable, CustomTestStringConvertible {
        var status: Int
        var body: String
        var expected: TelegramAnswer
        var testDescription: String { "\(status) \(body.prefix(60))" }
    }

    static let errorTable: [Row] = [
        Row(status: 429,
            body: #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 17","parameters":{"retry_after":17}}"#,
            expected: .rateLimited(retryAfter: 17)),
        Row(status: 429,
            body: #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35000","parameters":{"retry_after":35000}}"#,
            expected: .rateLimited(retryAfter: 35000)),
        Row(status: 400, body: #"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
            expected: .rejected(errorCode: 400, description: "Bad Request: chat not found")),
        Row(status: 400, body: #"{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}"#,
            expected: .rejected(errorCode: 400, description: "Bad Request: message is too long")),
        Row(status: 400, body: #"{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}"#,
            expected: .rejected(errorCode: 400, description: "Bad Request: message text is empty")),
        Row(status: 400,
            body: #"{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Unsupported start tag \"foo\" at byte offset 0"}"#,
            expected: .rejected(errorCode: 400,
                                description: #"Bad Request: can't parse entities: Unsupported start tag "foo" at byte offset 0"#)),
        Row(status: 400,
            body: #"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}}"#,
            expected: .migrated(toChat: "-1001234567890")),
        Row(status: 401, body: #"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            expected: .unauthorized("Unauthorized")),
        Row(status: 403, body: #"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
            expected: .chatInactive("Forbidden: bot was blocked by the user")),
        Row(status: 403, body: #"{"ok":false,"error_code":403,"description":"Forbidden: user is deactivated"}"#,
            expected: .chatInactive("Forbidden: user is deactivated")),
        Row(status: 403, body: #"{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}"#,
            expected: .chatInactive("Forbidden: bot was kicked from the group chat")),
        Row(status: 403,
            body: #"{"ok":false,"error_code":403,"description":"Forbidden: bot can't initiate conversation with a user"}"#,
            expected: .chatInactive("Forbidden: bot can't initiate conversation with a user")),
        Row(status: 409,
            body: #"{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}"#,
            expected: .rejected(errorCode: 409,
                                description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")),
        Row(status: 409,
            body: #"{"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}"#,
            expected: .rejected(errorCode: 409,
                                description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")),
        Row(status: 500, body: #"{"ok":false,"error_code":500,"description":"Internal Server Error: restart"}"#,
            expected: .transient("Internal Server Error: restart")),
        Row(status: 502,
            body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n",
            expected: .transient("HTTP 502: answer is not a Bot API JSON envelope")),
        Row(status: 503, body: "<html><body><h1>503 Service Unavailable</h1></body></html>",
            expected: .transient("HTTP 503: answer is not a Bot API JSON envelope")),
        Row(status: 504, body: "<html><head><title>504 Gateway Time-out</title></head></html>",
            expected: .transient("HTTP 504: answer is not a Bot API JSON envelope")),
        // The local server's own 429 for a chat with too many unsent messages.
        Row(status: 429,
            body: #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 60","parameters":{"retry_after":60}}"#,
            expected: .rateLimited(retryAfter: 60)),
    ]

    @Test(arguments: errorTable)
    func classifiesTheErrorTable(_ row: Row) {
        #expect(classifier.classify(status: row.status, body: row.body) == row.expected)
    }

    @Test(arguments: [
        (TransportFailure.connectionRefused, TelegramAnswer.transient("connection refused")),
        (.connectionReset, .transient("connection reset")),
        (.dnsFailure, .transient("DNS failure")),
        (.tlsHandshakeFailed, .transient("TLS handshake failed")),
        (.timeoutBeforeRequestSent, .transient("timeout before the request was sent")),
        (.timeoutAfterRequestSent, .ambiguous("timeout after the request was sent")),
        (.connectionDroppedMidResponse, .ambiguous("connection dropped before the answer was complete")),
        (.other(description: "pool closed", requestSent: false), .transient("pool closed")),
        (.other(description: "read error", requestSent: true), .ambiguous("read error")),
    ])
    func classifiesTransportFailures(_ failure: TransportFailure, _ expected: TelegramAnswer) {
        #expect(classifier.classify(failure: failure) == expected)
    }

    @Test func deliveredMessageKeepsResultAndID() {
        let body = #"{"ok":true,"result":{"message_id":123,"chat":{"id":42,"type":"private"},"date":1750000000,"text":"hi"}}"#
        #expect(classifier.classify(status: 200, body: body) == .delivered(
            result: #"{"message_id":123,"chat":{"id":42,"type":"private"},"date":1750000000,"text":"hi"}"#,
            messageIDs: [123]))
    }

    @Test func mediaGroupAndCopyMessagesReturnEveryID() {
        let group = #"{"ok":true,"result":[{"message_id":10,"date":1},{"message_id":11,"date":1}]}"#
        #expect(classifier.classify(status: 200, body: group)
            == .delivered(result: #"[{"message_id":10,"date":1},{"message_id":11,"date":1}]"#, messageIDs: [10, 11]))
        let copies = #"{"ok":true,"result":[{"message_id":7},{"message_id":8},{"message_id":9}]}"#
        #expect(classifier.classify(status: 200, body: copies)
            == .delivered(result: #"[{"message_id":7},{"message_id":8},{"message_id":9}]"#, messageIDs: [7, 8, 9]))
        let copy = #"{"ok":true,"result":{"message_id":77}}"#
        #expect(classifier.classify(status: 200, body: copy) == .delivered(result: #"{"message_id":77}"#, messageIDs: [77]))
    }

    @Test func trueResultHasNoIDs() {
        #expect(classifier.classify(status: 200, body: #"{"ok":true,"result":true}"#)
            == .delivered(result: "true", messageIDs: []))
        #expect(classifier.classify(status: 200, body: #"{"ok":true}"#) == .delivered(result: "null", messageIDs: []))
    }

    @Test func rateLimitWithoutRetryAfterUsesTheDefault() {
        let body = #"{"ok":false,"error_code":429,"description":"Too Many Requests"}"#
        #expect(classifier.classify(status: 429, body: body) == .rateLimited(retryAfter: 5))
        #expect(AnswerClassifier(defaultRetryAfter: 30).classify(status: 429, body: body) == .rateLimited(retryAfter: 30))
        // A proxy's own 429 page.
        #expect(classifier.classify(status: 429, body: "<html>slow down</html>")
            == .transient("HTTP 429: answer is not a Bot API JSON envelope"))
    }

    @Test func errorCodeWinsOverStatusAndDefaultsToIt() {
        #expect(classifier.classify(status: 200, body: #"{"ok":false,"error_code":403,"description":"Forbidden: x"}"#)
            == .chatInactive("Forbidden: x"))
        #expect(classifier.classify(status: 400, body: #"{"ok":false,"description":"Bad Request: x"}"#)
            == .rejected(errorCode: 400, description: "Bad Request: x"))
        #expect(classifier.classify(status: 404, body: #"{"ok":false,"error_code":404}"#)
            == .rejected(errorCode: 404, description: "HTTP 404"))
    }

    @Test(arguments: ["", "not json", #"{"result":1}"#, #"{"ok":"true"}"#, "[true]", #"{"ok":true"#])
    func unparseableAnswersAreTransient(_ body: String) {
        #expect(classifier.classify(status: 200, body: body) == .transient("HTTP 200: answer is not a Bot API JSON envelope"))
    }

    @Test func endpointFailureIsOnlyTransientOrAmbiguous() {
        #expect(TelegramAnswer.transient("x").isEndpointFailure)
        #expect(TelegramAnswer.ambiguous("x").isEndpointFailure)
        for answer: TelegramAnswer in [
            .delivered(result: "true", messageIDs: []), .rateLimited(retryAfter: 1), .migrated(toChat: "-1"),
            .chatInactive("x"), .unauthorized("x"), .rejected(errorCode: 400, description: "x"),
        ] {
            #expect(!answer.isEndpointFailure)
        }
    }
}
