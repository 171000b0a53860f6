internal import CLinux
import Compute
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A resident `capsize-launch --server` (a fork server), shared by every sandbox of this process
/// that uses the same launcher.
///
/// A run is one message on a `SOCK_SEQPACKET` socket: the launcher's options and the program, the
/// program's environment, and the run's pipes attached. The server keeps a pool of workers, copies of
/// itself that each take one message at a time from the socket and go on exactly as a launcher
/// started with those arguments would (process group, rlimits, affinity, `wait4`, sweep, report).
/// Each run is spared an exec of the launcher, its C library start-up and a fork, while its program is
/// still forked from a small process (`ru_maxrss` stays the program's own).
///
/// A server that has died is noticed at the next send (`EPIPE`), or when a request is dropped, and
/// started again. The server ends when capsize's end of the socket closes; its workers then kill the
/// programs they run (parent-death signal) and end.
final class LaunchServer: Sendable {
    private struct Connection {
        var socket: Int32
        var pid: pid_t
    }

    let launcherPath: String
    private let connection = Mutex<Connection?>(nil)
    /// Requests larger than this go through a launcher of their own (a datagram has to fit the
    /// socket's buffer).
    static let largestRequest = 128 * 1024

    private static let servers = Mutex<[String: LaunchServer]>([:])

    private init(launcherPath: String) { self.launcherPath = launcherPath }

    /// The server for `launcherPath` (not started until the first run).
    static func shared(launcherPath: String) -> LaunchServer {
        servers.withLock { servers in
            if let server = servers[launcherPath] { return server }
            let server = LaunchServer(launcherPath: launcherPath)
            servers[launcherPath] = server
            return server
        }
    }

    /// The running server's process id, if one has been started (for tests).
    var pid: pid_t? { connection.withLock { $0?.pid } }

    /// Asks the server to start one run.
    /// - Parameters:
    ///   - options: the launcher's options, `--`, the program and its arguments; `--parent` (the
    ///     server) is put in front.
    ///   - environment: the program's environment.
    ///   - descriptors: the run's report, stdout and stderr pipe ends, and stdin's when there is one.
    /// - Returns: false when the request is too large for the socket or has a NUL inside a word; the
    ///   caller then starts a launcher of its own.
    /// - Throws: `SandboxError` when no server can be started or reached (after one restart).
    func send(options: [String], environment: [String: String], descriptors: [Int32]) throws(SandboxError) -> Bool {
        let result: Result<Bool, SandboxError> = connection.withLock { connection in
            var lastError: Int32 = 0
            for _ in 0..<2 {
                if connection == nil {
                    do throws(SandboxError) { connection = try start() } catch { return .failure(error) }
                }
                let live = connection!
                guard
                    let message = Self.encode(
                        options: ["--parent", "\(live.pid)"] + options, environment: environment),
                    message.count <= Self.largestRequest
                else { return .success(false) }
                let sent = message.withUnsafeBytes { bytes in
                    descriptors.withUnsafeBufferPointer { fds in
                        capsize_send_with_descriptors(
                            live.socket, bytes.baseAddress, UInt(bytes.count), fds.baseAddress, Int32(fds.count))
                    }
                }
                if sent == message.count { return .success(true) }
                lastError = sent < 0 ? errno : EIO
                if sent < 0 && lastError == EMSGSIZE { return .success(false) }
                // The server is gone (EPIPE, ECONNRESET) or the socket is broken: start another.
                Self.stop(live)
                connection = nil
            }
            return .failure(
                SandboxError(
                    "The launch server \(launcherPath) --server cannot be reached "
                        + "(\(SystemCallError(call: "sendmsg", code: lastError))); rebuild capsize-launch."))
        }
        return try result.get()
    }

    /// After a request was dropped (its pipes closed without a report): forgets the server if it has
    /// ended, so that the next run starts another instead of queueing for workers that are leaving.
    func forgetIfEnded() {
        connection.withLock { connection in
            guard let live = connection else { return }
            if (try? Posix.wait(for: live.pid, options: WNOHANG)) != nil {
                var socket = live.socket
                Posix.close(&socket)
                connection = nil
            }
        }
    }

    private static func stop(_ connection: Connection) {
        var socket = connection.socket
        Posix.close(&socket)
        Posix.signalIfAlive(connection.pid, SIGKILL)
        _ = try? Posix.wait(for: connection.pid)
    }

    /// Starts `capsize-launch --server 3` with its end of a new socket pair on descriptor 3.
    private func start() throws(SandboxError) -> Connection {
        var (ours, theirs): (Int32, Int32)
        do {
            (ours, theirs) = try Posix.socketPair(type: Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        } catch {
            throw SandboxError("Cannot create a socket for the launch server (\(error)).")
        }
        defer { Posix.close(&theirs) }
        let (pid, status) = spawnWithDefaultSignals(
            [launcherPath, "--server", "3"], environment: [],
            fileActions: [
                .open("/dev/null", onto: 0, writing: false), .open("/dev/null", onto: 1, writing: true),
                .duplicate(theirs, onto: 3),
            ])
        guard status == 0 else {
            Posix.close(&ours)
            throw SandboxError(
                "Cannot start the launch server \(launcherPath) (\(SystemCallError(call: "posix_spawn", code: status))); "
                    + "rebuild capsize-launch or set CAPSIZE_LAUNCHER.")
        }
        return Connection(socket: ours, pid: pid)
    }

    /// Two native `UInt32` counts, then every argument and every `KEY=value` NUL-terminated; nil when
    /// a word has a NUL of its own.
    static func encode(options: [String], environment: [String: String]) -> [UInt8]? {
        var message: [UInt8] = []
        message.reserveCapacity(4096)
        withUnsafeBytes(of: UInt32(options.count)) { message.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(environment.count)) { message.append(contentsOf: $0) }
        var clean = true
        for text in options {
            let start = message.count
            message.append(contentsOf: text.utf8)
            clean = clean && !message[start...].contains(0)
            message.append(0)
        }
        for (key, value) in environment {
            let start = message.count
            message.append(contentsOf: key.utf8)
            message.append(UInt8(ascii: "="))
            message.append(contentsOf: value.utf8)
            clean = clean && !message[start...].contains(0)
            message.append(0)
        }
        return clean ? message : nil
    }
}
