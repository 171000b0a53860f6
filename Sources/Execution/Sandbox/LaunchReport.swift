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
    /// string, a value that is not a plain number, a missing field — returns nil and goes to
    /// JSONDecoder, which decides.
    private static func decodeFlat(_ bytes: [UInt8]) -> LaunchReport? {
        let quote = UInt8(ascii: "\"")
        let comma = UInt8(ascii: ",")
        let colon = UInt8(ascii: ":")
        var index = 0
        func skipSpaces() { while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 } }
        func plainString() -> String? {
            guard index < bytes.count, bytes[index] == quote else { return nil }
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != quote {
                if bytes[end] == UInt8(ascii: "\\") || bytes[end] < 0x20 { return nil }
                end += 1
            }
            guard end < bytes.count else { return nil }
            index = end + 1
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        skipSpaces()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var event: String?
        var pid: Int32?
        var launcher: Int32?
        var namespaceInit: Int32?
        var start: Double?
        var exit: Int32?
        var signal: Int32?
        var error: String?
        var user: Double?
        var system: Double?
        var maxRSSKiB: UInt64?
        var wall: Double?
        var closed = false
        while index < bytes.count {
            skipSpaces()
            guard let key = plainString() else { return nil }
            skipSpaces()
            guard index < bytes.count, bytes[index] == colon else { return nil }
            index += 1
            skipSpaces()
            guard index < bytes.count else { return nil }
            if bytes[index] == quote {
                guard let text = plainString() else { return nil }
                switch key {
                case "event": event = text
                case "error": error = text
                case "pid", "launcher", "init", "start", "exit", "signal", "user", "system", "maxrss_kib", "wall":
                    return nil
                default: break
                }
            } else {
                let first = index
                while index < bytes.count, bytes[index] != comma, bytes[index] != UInt8(ascii: "}"),
                    bytes[index] != 0x20
                {
                    // Digits, sign, point and exponent only: nan, true, null and the like go to JSONDecoder.
                    guard
                        (48...57).contains(bytes[index]) || bytes[index] == UInt8(ascii: "-")
                            || bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: "e")
                            || bytes[index] == UInt8(ascii: "E") || bytes[index] == UInt8(ascii: "+")
                    else { return nil }
                    index += 1
                }
                let token = String(decoding: bytes[first..<index], as: UTF8.self)
                func integer<T: FixedWidthInteger>(_: T.Type) -> T? { T(token) }
                switch key {
                case "pid":
                    guard let value = integer(Int32.self) else { return nil }
                    pid = value
                case "launcher":
                    guard let value = integer(Int32.self) else { return nil }
                    launcher = value
                case "init":
                    guard let value = integer(Int32.self) else { return nil }
                    namespaceInit = value
                case "exit":
                    guard let value = integer(Int32.self) else { return nil }
                    exit = value
                case "signal":
                    guard let value = integer(Int32.self) else { return nil }
                    signal = value
                case "maxrss_kib":
                    guard let value = integer(UInt64.self) else { return nil }
                    maxRSSKiB = value
                case "start":
                    guard let value = Double(token) else { return nil }
                    start = value
                case "user":
                    guard let value = Double(token) else { return nil }
                    user = value
                case "system":
                    guard let value = Double(token) else { return nil }
                    system = value
                case "wall":
                    guard let value = Double(token) else { return nil }
                    wall = value
                case "event", "error": return nil
                default: guard Double(token) != nil else { return nil }
                }
            }
            skipSpaces()
            guard index < bytes.count else { return nil }
            if bytes[index] == comma {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { return nil }
            index += 1
            closed = true
            break
        }
        skipSpaces()
        guard closed, index == bytes.count, let event, let pid else { return nil }
        return LaunchReport(
            event: event, pid: pid, launcher: launcher, namespaceInit: namespaceInit, start: start, exit: exit,
            signal: signal, error: error, user: user, system: system, maxRSSKiB: maxRSSKiB, wall: wall)
    }
}
