/// Lower-case hex of bytes (digests, signatures), without Foundation's format machinery, which
/// costs more than computing the digest itself.
public enum Hex {
    /// Inlinable so that callers' digests are iterated by specialized code, not through protocol
    /// witnesses byte by byte (the generic version was 5 % of a batch accept's CPU).
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(Swift.max(bytes.underestimatedCount, 32) * 2)
        for byte in bytes {
            out.append(digit(byte >> 4))
            out.append(digit(byte & 0x0F))
        }
        return String(decoding: out, as: UTF8.self)
    }

    @inlinable @usableFromInline
    static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }
}
