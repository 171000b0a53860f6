/// A minimal PNG encoder for RGBA8 frames, with no zlib: the image data is a zlib stream of
/// stored (uncompressed) deflate blocks, which every PNG reader accepts.
public enum PNG {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The largest payload of one stored deflate block.
    static let storedBlockLimit = 65535

    /// Encodes RGBA8 pixels (rows top to bottom) as a PNG file.
    /// - Parameters:
    ///   - rgba: `width * height * 4` bytes.
    ///   - width: pixels per row, at least 1.
    ///   - height: rows, at least 1.
    /// - Returns: the bytes of the file.
    public static func encode(rgba: [UInt8], width: Int, height: Int) -> [UInt8] {
        precondition(width > 0 && height > 0 && rgba.count == width * height * 4, "RGBA buffer of the wrong size")
        let rowBytes = width * 4
        let filteredCount = height * (rowBytes + 1)
        var file: [UInt8] = []
        file.reserveCapacity(encodedSize(width: width, height: height))
        file += signature

        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [8, 6, 0, 0, 0]  // bit depth 8, colour type RGBA, deflate, adaptive filters, no interlace
        appendChunk("IHDR", header, to: &file)

        // The IDAT chunk, written in place: a zlib stream of header (deflate, 32 KiB window, no
        // dictionary, fastest), stored blocks of the filtered rows (filter type 0 before each
        // row) and the Adler-32 of those rows.
        let streamCount = 2 + 5 * max(1, (filteredCount + storedBlockLimit - 1) / storedBlockLimit) + filteredCount + 4
        file.appendBigEndian(UInt32(streamCount))
        let typeStart = file.count
        file += Array("IDAT".utf8)
        file += [0x78, 0x01]
        var adler = Adler32()
        rgba.withUnsafeBufferPointer { pixels in
            var remaining = filteredCount
            var position = 0  // in the filtered rows
            while remaining > 0 {
                let length = min(remaining, storedBlockLimit)
                remaining -= length
                file.append(remaining == 0 ? 1 : 0)  // BFINAL on the last block, BTYPE 00 (stored)
                file.append(UInt8(length & 0xFF))
                file.append(UInt8(length >> 8))
                file.append(UInt8(~length & 0xFF))
                file.append(UInt8((~length >> 8) & 0xFF))
                var left = length
                while left > 0 {
                    let row = position / (rowBytes + 1)
                    let column = position % (rowBytes + 1)
                    if column == 0 {
                        file.append(0)
                        adler.add(CollectionOfOne(0))
                        position += 1
                        left -= 1
                        continue
                    }
                    let take = min(left, rowBytes + 1 - column)
                    let start = row * rowBytes + column - 1
                    let slice = UnsafeBufferPointer(rebasing: pixels[start..<(start + take)])
                    file.append(contentsOf: slice)
                    adler.add(slice)
                    position += take
                    left -= take
                }
            }
        }
        file.appendBigEndian(adler.value)
        var crc = CRC32()
        crc.add(file[typeStart...])
        file.appendBigEndian(crc.value)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// The size of `encode`'s output for a `width` × `height` image, in bytes.
    public static func encodedSize(width: Int, height: Int) -> Int {
        let filtered = height * (width * 4 + 1)
        let blocks = max(1, (filtered + storedBlockLimit - 1) / storedBlockLimit)
        // signature + IHDR (12 + 13) + IDAT (12 + zlib 2 + 5 per block + data + 4) + IEND 12
        return 8 + 25 + 12 + 2 + 5 * blocks + filtered + 4 + 12
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

/// Adler-32, the checksum that ends a zlib stream.
public struct Adler32: Sendable {
    private var a: UInt32 = 1
    private var b: UInt32 = 0

    public init() {}

    public mutating func add<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        // 5552 bytes is the longest run whose sums cannot overflow 32 bits before the modulo.
        var pending = 0
        for byte in bytes {
            a += UInt32(byte)
            b += a
            pending += 1
            if pending == 5552 {
                a %= 65521
                b %= 65521
                pending = 0
            }
        }
        a %= 65521
        b %= 65521
    }

    /// The checksum of everything added so far.
    public var value: UInt32 { b << 16 | a }
}

extension Array where Element == UInt8 {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8((value >> 16) & 0xFF))
        append(UInt8((value >> 8) & 0xFF))
        append(UInt8(value & 0xFF))
    }
}
