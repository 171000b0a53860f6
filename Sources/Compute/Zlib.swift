import CZlib

/// zlib (Debian's zlib1g): the deflate streams of the PNG frames render-frames writes.
public enum Zlib {
    /// The level `compress` uses by default: zlib's own default (6), which on render-frames' default frames gives
    /// files within 2 % of level 9's in well under half its time (Benchmarks/RESULTS.md).
    public static let defaultLevel = 6

    /// The most bytes `compress` returns for `count` bytes of input (zlib's `compressBound`).
    public static func bound(_ count: Int) -> Int { Int(compressBound(uLong(count))) }

    /// `bytes` as a zlib stream (RFC 1950: a header, deflate blocks and the Adler-32 of the input).
    /// - Parameter level: 0 (stored blocks only) to 9 (smallest).
    public static func compress(_ bytes: [UInt8], level: Int = defaultLevel) -> [UInt8] {
        precondition((0...9).contains(level), "zlib levels are 0...9")
        var size = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { buffer in
                compress2(buffer.baseAddress, &size, input.baseAddress, uLong(input.count), Int32(level))
            }
        }
        // With a buffer of compressBound bytes, only a failed allocation inside zlib is left.
        precondition(status == Z_OK, "zlib's compress2 failed with status \(status) (out of memory)")
        output.removeSubrange(Int(size)...)
        return output
    }
}
