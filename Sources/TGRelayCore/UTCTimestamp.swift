import Foundation

/// ISO 8601 in UTC with milliseconds, `2026-11-22T12:03:00.123Z`, rounded to the nearest millisecond
/// (stored times are whole milliseconds). Written digit by digit: every log line carries one, and
/// Foundation's format style cost more than the rest of the line.
public enum UTCTimestamp {
    public static func string(_ date: Date) -> String {
        string(millis: millis(date))
    }

    /// Exact for a whole number of milliseconds since 1970, as the store keeps times.
    public static func string(millis: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        write(millis: millis, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func write(_ date: Date, to bytes: inout [UInt8]) {
        write(millis: millis(date), to: &bytes)
    }

    static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func write(millis: Int64, to bytes: inout [UInt8]) {
        let (days, msOfDay) = millis.floorDivided(by: 86_400_000)
        let (year, month, day) = civil(days: days)
        digits(year, 4, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2, &bytes)
        bytes.append(UInt8(ascii: "T"))
        digits(msOfDay / 3_600_000, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(msOfDay / 60_000 % 60, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(msOfDay / 1000 % 60, 2, &bytes)
        bytes.append(UInt8(ascii: "."))
        digits(msOfDay % 1000, 3, &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Year, month, day of a day count since 1970-01-01 in the proleptic Gregorian calendar
    /// (Howard Hinnant's `civil_from_days`).
    static func civil(days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func digits(_ value: Int64, _ width: Int, _ bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}

extension Int64 {
    /// Quotient rounded towards negative infinity, and the non-negative remainder.
    fileprivate func floorDivided(by divisor: Int64) -> (Int64, Int64) {
        let remainder = self % divisor
        return remainder < 0 ? (self / divisor - 1, remainder + divisor) : (self / divisor, remainder)
    }
}
