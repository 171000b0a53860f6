/// The first `limit` bytes of a stream, and how many there were in all.
struct Capture {
    let limit: Int
    private(set) var output = SandboxResult.Output()

    init(limit: Int) { self.limit = limit }

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        let room = limit - output.data.count
        if room > 0 { output.data.append(contentsOf: bytes.prefix(room)) }
        output.totalBytes += bytes.count
    }
}

/// The last `limit` bytes of a stream (the end of a program's stderr, for messages about why it died).
struct OutputTail {
    let limit: Int
    private(set) var bytes: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    mutating func append(_ new: ArraySlice<UInt8>) {
        bytes += new
        if bytes.count > limit { bytes.removeFirst(bytes.count - limit) }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
