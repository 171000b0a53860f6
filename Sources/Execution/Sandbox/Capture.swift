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
