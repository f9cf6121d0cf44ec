/// How long until a queued message is likely delivered: what the proxy puts in `retry_after` when a
/// send is still queued at the end of its wait, so a library comes back about when the answer is there.
public enum QueueEstimate {
    /// `pending` messages of the bot ahead of (and including) this one, drained at `perSecond`; at least
    /// one second (Telegram never says 0), at most an hour.
    public static func retryAfter(pending: Int, perSecond: Double) -> Int {
        let seconds = (Double(max(pending, 1)) / max(perSecond, 0.001)).rounded(.up)
        return Int(min(max(seconds, 1), 3600))
    }
}
