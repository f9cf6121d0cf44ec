/// A file sent with a Bot API call as a part of a multipart/form-data body (`photo`, or the `attach://name`
/// targets of a media group): stored with its message until the message is final, sent with each attempt.
public struct FileUpload: Sendable, Equatable {
    /// The form field name.
    public var field: String
    public var fileName: String?
    public var contentType: String?
    public var data: [UInt8]

    public init(field: String, fileName: String?, contentType: String?, data: [UInt8]) {
        self.field = field
        self.fileName = fileName
        self.contentType = contentType
        self.data = data
    }
}
