/// The canonical text of a chat reference, as lanes use it: an integer id as decimal text, a public
/// username as "@" plus the name in lower case (Telegram usernames are case-insensitive, so
/// "@News" and "@news" must share a lane).
public enum ChatReference {
    /// From a `chat_id` parameter: a JSON integer, or a string holding an integer or "@username".
    public static func canonical(_ value: JSONValue) -> String? {
        switch value {
        case .number(let number):
            number.int64Value.flatMap(canonical(id:))
        case .string(let text):
            canonical(text)
        default:
            nil
        }
    }

    /// From text (query strings and form fields carry everything as text).
    public static func canonical(_ text: String) -> String? {
        if text.hasPrefix("@") {
            let name = text.dropFirst()
            guard (1...64).contains(name.count), name.allSatisfy(isUsernameCharacter) else { return nil }
            return "@" + name.lowercased()
        }
        return Int64(text).flatMap(canonical(id:))
    }

    /// Telegram never assigns id 0.
    private static func canonical(id: Int64) -> String? {
        id == 0 ? nil : String(id)
    }

    private static func isUsernameCharacter(_ character: Character) -> Bool {
        character == "_" || (character.isASCII && (character.isLetter || character.isNumber))
    }
}
