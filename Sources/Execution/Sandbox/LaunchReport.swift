import Foundation

/// One line of JSON from capsize-launch's report descriptor (see Sources/CapsizeLaunch/launch.c).
struct LaunchReport: Decodable {
    /// "started" (written right after the fork) or "exited" (after the wait and the sweep).
    var event: String
    /// The program's process id (and its process group's), as capsize sees it.
    var pid: Int32
    /// The launcher's own process id ("started" only).
    var launcher: Int32?
    /// The init of the program's PID namespace, the launcher's child and the program's parent ("started" only; nil
    /// when the program runs without a namespace of its own, see `Sandbox.usesPIDNamespace`).
    var namespaceInit: Int32?
    /// CLOCK_MONOTONIC seconds at the fork ("started" only).
    var start: Double?
    var exit: Int32?
    var signal: Int32?
    /// Why the program could not run.
    var error: String?
    var user: Double?
    var system: Double?
    var maxRSSKiB: UInt64?
    var wall: Double?

    enum CodingKeys: String, CodingKey {
        case event, pid, launcher, start, exit, signal, error, user, system, wall
        case maxRSSKiB = "maxrss_kib"
        case namespaceInit = "init"
    }

    /// The process whose descendants are the program's tree ("started" only): init in a PID namespace, which is
    /// left out of the tree as the launcher is (its own few hundred KB are not the program's), else the launcher.
    var treeRoot: Int32? { namespaceInit ?? launcher }

    static func decode(_ line: some Collection<UInt8>) -> LaunchReport? {
        if let report = decodeFlat(Array(line)) { return report }
        return try? JSONDecoder().decode(LaunchReport.self, from: Data(line))
    }

    /// The launcher's lines are flat objects of numbers and plain strings: read those directly
    /// (a JSONDecoder per line was most of the report's cost). Anything else — an escape in a
    /// string, a value that is not a plain number, a value of the wrong kind, a missing field —
    /// returns nil and goes to JSONDecoder, which decides.
    private static func decodeFlat(_ bytes: [UInt8]) -> LaunchReport? {
        guard let fields = FlatObject(bytes)?.fields else { return nil }
        var report = LaunchReport(event: "", pid: 0)
        var has = (event: false, pid: false)
        do throws(FlatObject.WrongKind) {
            for (key, value) in fields {
                switch key {  // CodingKeys, spelled out: CodingKeys(stringValue:) is a slow search
                case "event": (report.event, has.event) = (try value.text(), true)
                case "pid": (report.pid, has.pid) = (try value.number(), true)
                case "launcher": report.launcher = try value.number()
                case "init": report.namespaceInit = try value.number()
                case "start": report.start = try value.number()
                case "exit": report.exit = try value.number()
                case "signal": report.signal = try value.number()
                case "error": report.error = try value.text()
                case "user": report.user = try value.number()
                case "system": report.system = try value.number()
                case "maxrss_kib": report.maxRSSKiB = try value.number()
                case "wall": report.wall = try value.number()
                default: if case .number = value { _ = try value.number() as Double }  // one JSON would read
                }
            }
        } catch {
            return nil
        }
        return has.event && has.pid ? report : nil
    }
}

/// A JSON object whose values are plain strings (no escapes) and numbers (digits, sign, point and exponent: no
/// `nan`, `true` or `null`) only, as capsize-launch writes its reports.
private struct FlatObject {
    enum Value {
        case text(String)
        case number(String)

        func text() throws(WrongKind) -> String {
            guard case .text(let text) = self else { throw WrongKind() }
            return text
        }

        /// - Throws: `WrongKind` for a string, or a number that is not a `T` (a fraction for an integer).
        func number<T: LosslessStringConvertible>() throws(WrongKind) -> T {
            guard case .number(let token) = self, let number = T(token) else { throw WrongKind() }
            return number
        }
    }

    /// A value of the other kind than its field has.
    struct WrongKind: Error {}

    /// The fields in their order.
    private(set) var fields: [(key: String, value: Value)] = []

    /// Reads `bytes`; nil when they are not such an object.
    init?(_ bytes: [UInt8]) {
        let quote = UInt8(ascii: "\"")
        var index = 0
        func skipSpaces() { while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 } }
        func next(is byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        func plainString() -> String? {
            guard next(is: quote) else { return nil }
            let start = index
            while index < bytes.count, bytes[index] != quote {
                if bytes[index] == UInt8(ascii: "\\") || bytes[index] < 0x20 { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            index += 1
            return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
        }
        func number() -> String? {
            let start = index
            while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
            return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
        }
        skipSpaces()
        guard next(is: UInt8(ascii: "{")) else { return nil }
        fields.reserveCapacity(16)
        repeat {
            skipSpaces()
            guard let key = plainString() else { return nil }
            skipSpaces()
            guard next(is: UInt8(ascii: ":")) else { return nil }
            skipSpaces()
            if index < bytes.count, bytes[index] == quote {
                guard let text = plainString() else { return nil }
                fields.append((key, .text(text)))
            } else {
                guard let token = number() else { return nil }
                fields.append((key, .number(token)))
            }
            skipSpaces()
        } while next(is: UInt8(ascii: ","))
        guard next(is: UInt8(ascii: "}")) else { return nil }
        skipSpaces()
        guard index == bytes.count else { return nil }
    }

    /// A digit, a sign, a point or an exponent's `e`.
    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"):
            true
        default: false
        }
    }
}
