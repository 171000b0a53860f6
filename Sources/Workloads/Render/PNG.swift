public import Compute

/// A minimal PNG encoder for RGBA8 frames: the rows unfiltered (filter type 0), compressed by zlib. (Of the PNG
/// filters, none gives render-frames' frames the smallest files: Benchmarks/RESULTS.md.)
public enum PNG {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes RGBA8 pixels (rows top to bottom) as a PNG file.
    /// - Parameters:
    ///   - rgba: `width * height * 4` bytes.
    ///   - width: pixels per row, at least 1.
    ///   - height: rows, at least 1.
    ///   - level: zlib's compression level, 0 (stored blocks) to 9.
    /// - Returns: the bytes of the file, at most `largestEncodedSize(width:height:)`.
    public static func encode(rgba: [UInt8], width: Int, height: Int, level: Int = Zlib.defaultLevel) -> [UInt8] {
        precondition(width > 0 && height > 0 && rgba.count == width * height * 4, "RGBA buffer of the wrong size")
        let rowBytes = width * 4
        var rows: [UInt8] = []
        rows.reserveCapacity(height * (rowBytes + 1))
        for row in 0..<height {
            rows.append(0)  // filter type 0 (none) before each row
            rows += rgba[(row * rowBytes)..<((row + 1) * rowBytes)]
        }
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [8, 6, 0, 0, 0]  // bit depth 8, colour type RGBA, deflate, adaptive filters, no interlace
        var file = signature
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", Zlib.compress(rows, level: level), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// The most bytes `encode` writes for a `width` × `height` image (zlib's bound on the rows' stream).
    public static func largestEncodedSize(width: Int, height: Int) -> Int {
        // signature + IHDR (12 + 13) + IDAT (12 + the stream) + IEND 12
        8 + 25 + 12 + Zlib.bound(height * (width * 4 + 1)) + 12
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        file.appendBigEndian(UInt32(data.count))
        var crc = CRC32()
        crc.add(typeBytes)
        crc.add(data)
        file += typeBytes
        file += data
        file.appendBigEndian(crc.value)
    }
}

/// CRC-32 (ISO 3309, the polynomial PNG uses), table driven.
public struct CRC32: Sendable {
    private static let table: [UInt32] = (0..<256).map { index in
        var c = UInt32(index)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func add<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        var c = state
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        state = c
    }

    /// The checksum of everything added so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }
}

extension Array where Element == UInt8 {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8((value >> 16) & 0xFF))
        append(UInt8((value >> 8) & 0xFF))
        append(UInt8(value & 0xFF))
    }
}
