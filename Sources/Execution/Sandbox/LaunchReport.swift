import Foundation

/// One line of JSON from capsize-launch's report descriptor (see Sources/CapsizeLaunch/launch.c).
struct LaunchReport: Decodable {
    /// "started" (written right after the fork) or "exited" (after the wait and the sweep).
    var event: String
    var pid: Int32
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
        case event, pid, start, exit, signal, error, user, system, wall
        case maxRSSKiB = "maxrss_kib"
    }

    static func decode(_ line: some Collection<UInt8>) -> LaunchReport? {
        try? JSONDecoder().decode(LaunchReport.self, from: Data(line))
    }
}
