import TGRelayCore

/// A group's rows as the JSON array that `jsonb_to_recordset` reads, written member by member: the
/// order of members does not matter to PostgreSQL, and building `JSONValue` dictionaries for every row
/// (then sorting their keys) cost more than the rows' own statements.
struct PostgresRecordSet {
    private var bytes: [UInt8] = [UInt8(ascii: "[")]
    private var membersInRecord = 0

    init(rows: Int) {
        bytes.reserveCapacity(rows * 320)
    }

    /// One row: `write` adds its members.
    mutating func record(_ write: (inout PostgresRecordSet) -> Void) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "{"))
        membersInRecord = 0
        write(&self)
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func add(_ name: String, _ value: Int64?) {
        member(name)
        bytes.append(contentsOf: (value.map { String($0) } ?? "null").utf8)
    }

    mutating func add(_ name: String, _ value: Int?) {
        add(name, value.map(Int64.init))
    }

    mutating func add(_ name: String, _ value: Bool) {
        member(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func add(_ name: String, _ value: String?) {
        member(name)
        if let value { CanonicalJSON.writeString(value, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
    }

    /// The array's text.
    var text: String {
        String(decoding: bytes + [UInt8(ascii: "]")], as: UTF8.self)
    }

    /// Names are ours and plain ASCII: no escaping needed.
    private mutating func member(_ name: String) {
        if membersInRecord > 0 { bytes.append(UInt8(ascii: ",")) }
        membersInRecord += 1
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: name.utf8)
        bytes.append(contentsOf: "\":".utf8)
    }
}
