import Foundation

/// Every driver keeps times as whole milliseconds since 1970 (UTC), so that a message read back equals
/// the one that was returned when it was written, whatever the database's own precision.
extension Date {
    /// Rounded to the nearest millisecond, so that a value read back converts to the same integer.
    var storeMillis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(storeMillis: Int64) {
        self.init(timeIntervalSince1970: Double(storeMillis) / 1000)
    }
}
