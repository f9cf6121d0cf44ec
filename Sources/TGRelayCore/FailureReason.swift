/// The relay's own `lastError` texts; all other reasons are Telegram's descriptions verbatim.
public enum FailureReason {
    /// An `at_most_once` message whose attempt may or may not have reached Telegram.
    public static let outcomeUnknown = "outcome_unknown"
    public static let deadlinePassed = "deadline passed"
    public static let retryAfterBeyondDeadline = "retry_after beyond deadline"
    /// A migration pointing at the chat the message already targets would loop forever.
    public static let migrationLoop = "migrate_to_chat_id names the chat already targeted"

    public static func attemptsExhausted(_ lastDescription: String) -> String {
        "attempts exhausted: \(lastDescription)"
    }

    /// The backoff wait would end after the deadline, so the retry could only be late.
    public static func retryBeyondDeadline(_ lastDescription: String) -> String {
        "retry beyond deadline: \(lastDescription)"
    }

    public static func tooManyRequests(retryAfter: Int) -> String {
        "Too Many Requests: retry after \(retryAfter)"
    }
}
