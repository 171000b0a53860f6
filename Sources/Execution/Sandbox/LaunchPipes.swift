internal import CLinux
import Compute

#if canImport(Glibc)
    import Glibc
#endif

/// capsize's ends of the pipes to one launcher (-1 once closed), and the spawn that connects them.
struct LaunchPipes {
    var input: Int32 = -1
    var stdout: Int32 = -1
    var stderr: Int32 = -1
    var report: Int32 = -1

    /// Makes the pipes of one run: stdin (when `hasInput`), stdout, stderr and the report. Keeps
    /// capsize's ends here and returns the launcher's ends as [report, stdout, stderr, stdin?]
    /// (close-on-exec; the caller closes them once they are handed over).
    private mutating func makePipes(hasInput: Bool) throws(SandboxError) -> [Int32] {
        var childEnds: [Int32] = []
        func makePipe() throws(SandboxError) -> (read: Int32, write: Int32) {
            do { return try Posix.pipe(flags: O_CLOEXEC) } catch {
                Self.close(&childEnds)
                closeAll()
                throw SandboxError(
                    "Cannot create a pipe for the sandbox (\(error)); close some files or raise ulimit -n.")
            }
        }
        for keep in [\LaunchPipes.report, \LaunchPipes.stdout, \LaunchPipes.stderr] {
            let pipe = try makePipe()
            self[keyPath: keep] = pipe.read
            childEnds.append(pipe.write)
        }
        if hasInput {
            let pipe = try makePipe()
            input = pipe.write
            childEnds.append(pipe.read)
        }
        return childEnds
    }

    private func makeNonBlocking() {
        for fd in [input, stdout, stderr, report] where fd >= 0 {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)  // a new pipe end has no other status flags to keep
        }
    }

    /// Hands one run to the resident launcher `server`: `options` (the launcher's options, `--`, the
    /// program and its arguments) and `environment`, with the launcher's ends of new pipes.
    /// - Returns: false when the server cannot take this request (too large); nothing is left open then.
    /// - Throws: `SandboxError` when a pipe cannot be made or no server can be reached.
    mutating func send(
        to server: LaunchServer, options: [String], environment: [String: String], hasInput: Bool
    ) throws(SandboxError) -> Bool {
        var childEnds = try makePipes(hasInput: hasInput)
        defer { Self.close(&childEnds) }
        let sent: Bool
        do { sent = try server.send(options: options, environment: environment, descriptors: childEnds) } catch {
            closeAll()
            throw error
        }
        if !sent {
            closeAll()
            return false
        }
        makeNonBlocking()
        return true
    }

    /// Starts `arguments` (the launcher's path first) with stdin from a pipe (or /dev/null), stdout and
    /// stderr into pipes, and the report on descriptor 3; signal mask and handlers back to defaults.
    /// - Returns: the launcher's process id.
    /// - Throws: `SandboxError` when a pipe or the spawn fails.
    mutating func spawn(arguments: [String], environment: [String: String], hasInput: Bool) throws(SandboxError)
        -> pid_t
    {
        var childEnds = try makePipes(hasInput: hasInput)
        defer { Self.close(&childEnds) }
        let input: SpawnFileAction =
            hasInput ? .duplicate(childEnds[3], onto: 0) : .open("/dev/null", onto: 0, writing: false)
        let (pid, status) = spawnWithDefaultSignals(
            arguments, environment: environment.map { "\($0.key)=\($0.value)" },
            fileActions: [
                input, .duplicate(childEnds[1], onto: 1), .duplicate(childEnds[2], onto: 2),
                .duplicate(childEnds[0], onto: 3),
            ])
        guard status == 0 else {
            closeAll()
            throw SandboxError(
                "Cannot start the launcher \(arguments[0]) (\(SystemCallError(call: "posix_spawn", code: status))); "
                    + "rebuild capsize-launch or set CAPSIZE_LAUNCHER.")
        }
        makeNonBlocking()
        return pid
    }

    static func close(_ fd: inout Int32) { Posix.close(&fd) }

    private static func close(_ fds: inout [Int32]) {
        for index in fds.indices { Posix.close(&fds[index]) }
    }

    mutating func closeAll() {
        Posix.close(&input)
        Posix.close(&stdout)
        Posix.close(&stderr)
        Posix.close(&report)
    }
}
