internal import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// The system calls the sandbox and the execution environments make on descriptors and processes, in one place:
/// each retries when a signal interrupts it (`EINTR`), and says what happened in a type of its own, with the `errno`
/// of a failure in a `SystemCallError`. Nothing else in Execution reads, writes, polls, waits for, signals or closes
/// by calling the C library directly.
enum Posix {
    /// What a read or a write on a non-blocking descriptor did.
    enum Transfer: Equatable {
        /// This many bytes (more than 0) went.
        case bytes(Int)
        /// Nothing now: the pipe is empty (a read) or full (a write), `EAGAIN`.
        case wouldBlock
        /// The other end is closed and nothing is left: a read's end of file.
        case end
    }

    /// Reads what `fd` holds, at most `buffer.count` bytes.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Transfer {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .end }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            throw SystemCallError(call: "read", code: errno)
        }
    }

    /// Writes what `fd` takes now of `buffer`.
    /// - Throws: `SystemCallError` with `EPIPE` when the reading end is closed, and any other failure.
    static func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> Transfer {
        while true {
            let count = Glibc.write(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return buffer.isEmpty ? .bytes(0) : .wouldBlock }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            throw SystemCallError(call: "write", code: errno)
        }
    }

    /// Waits with `ppoll` until one of `polls` is ready or the monotonic time `wake` (forever when nil); a signal
    /// that interrupts the wait restarts it with the time left.
    /// - Returns: how many of `polls` are ready; 0 at the wake time.
    static func poll(_ polls: inout [pollfd], until wake: Double?) throws(SystemCallError) -> Int {
        while true {
            let ready: Int32
            if let wake {
                let pause = max(0, wake - monotonicSeconds())
                var timeout = timespec(tv_sec: Int(pause), tv_nsec: Int((pause - Double(Int(pause))) * 1e9))
                ready = polls.withUnsafeMutableBufferPointer { ppoll($0.baseAddress, nfds_t($0.count), &timeout, nil) }
            } else {
                ready = polls.withUnsafeMutableBufferPointer { ppoll($0.baseAddress, nfds_t($0.count), nil, nil) }
            }
            if ready >= 0 { return Int(ready) }
            if errno != EINTR { throw SystemCallError(call: "ppoll", code: errno) }
        }
    }

    /// How a process that was waited for ended, and what it and the children it reaped used.
    struct Ended {
        /// The wait status (`WIFEXITED` and the rest).
        var status: Int32
        var usage = rusage()

        /// The signal that ended it, nil when it exited.
        var signal: Int32? { status & 0x7f != 0 ? status & 0x7f : nil }
        /// Its exit status, nil when a signal ended it.
        var exitCode: Int32? { status & 0x7f == 0 ? (status >> 8) & 0xff : nil }
    }

    /// Waits for the child `pid` to end (`wait4`); with `WNOHANG` in `options`, only looks.
    /// - Returns: how it ended; nil when `WNOHANG` was given and it still runs.
    /// - Throws: `SystemCallError`, e.g. `ECHILD` when `pid` is not (or no longer) a child of capsize.
    static func wait(for pid: pid_t, options: Int32 = 0) throws(SystemCallError) -> Ended? {
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let reaped = wait4(pid, &status, options, &usage)
            if reaped > 0 { return Ended(status: status, usage: usage) }
            if reaped == 0 { return nil }
            if errno != EINTR { throw SystemCallError(call: "wait4", code: errno) }
        }
    }

    /// Sends `signal` to `pid` (a process group when negative; 0 only checks that it exists).
    /// - Throws: `SystemCallError`, e.g. `ESRCH` when there is no such process.
    static func signal(_ pid: pid_t, _ signal: Int32) throws(SystemCallError) {
        if kill(pid, signal) != 0 { throw SystemCallError(call: "kill", code: errno) }
    }

    /// Sends `signal` to `pid` when it is still there; a process that has gone is no failure.
    static func signalIfAlive(_ pid: pid_t, _ signal: Int32) { _ = kill(pid, signal) }

    /// Whether a process `pid` exists (a zombie does), whoever's it is.
    static func exists(_ pid: pid_t) -> Bool {
        do { try Posix.signal(pid, 0) } catch { return error.code != ESRCH }
        return true
    }

    /// Closes `fd` unless it is closed already (-1), and marks it closed. Not retried on `EINTR`: Linux has released
    /// the descriptor by then, and a second close could close one another thread has just opened.
    static func close(_ fd: inout Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// A new pipe, made with `pipe2` and `flags` (`O_CLOEXEC`, `O_NONBLOCK`).
    static func pipe(flags: Int32) throws(SystemCallError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if pipe2(&fds, flags) != 0 { throw SystemCallError(call: "pipe2", code: errno) }
        return (fds[0], fds[1])
    }

    /// A new pair of connected sockets of `type` (with `SOCK_CLOEXEC` and the like) in `AF_UNIX`.
    static func socketPair(type: Int32) throws(SystemCallError) -> (Int32, Int32) {
        var ends: [Int32] = [-1, -1]
        if socketpair(AF_UNIX, type, 0, &ends) != 0 { throw SystemCallError(call: "socketpair", code: errno) }
        return (ends[0], ends[1])
    }

    /// Opens `path` with `flags` (and `mode` for a file it creates).
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemCallError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemCallError(call: "open", code: errno) }
        }
    }

    /// A non-blocking TCP socket listening on 127.0.0.1 at a port the kernel picks.
    /// - Returns: the socket and its port.
    static func listenOnLoopback(backlog: Int32 = 16) throws(SystemCallError) -> (fd: Int32, port: UInt16) {
        let fd = socket(
            AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError(call: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        if bound != 0 || listen(fd, backlog) != 0 {
            let code = errno
            _ = Glibc.close(fd)
            throw SystemCallError(call: bound != 0 ? "bind" : "listen", code: code)
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if named != 0 {
            let code = errno
            _ = Glibc.close(fd)
            throw SystemCallError(call: "getsockname", code: code)
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// A blocking TCP connection to `host` (an IPv4 address or a name) at `port`, closed on exec, without Nagle's
    /// delay (a request is one write; its answer should not wait for an acknowledgement).
    static func connect(host: String, port: UInt16) throws(SystemCallError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &found)
        guard resolved == 0, let first = found else { throw SystemCallError(call: "getaddrinfo", code: EHOSTUNREACH) }
        defer { freeaddrinfo(first) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError(call: "socket", code: errno) }
        if Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            var code = errno
            if code == EINTR {
                // An interrupted connect goes on in the background: its end is waited for, not restarted.
                var polls = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)]
                var length = socklen_t(MemoryLayout<Int32>.size)
                code = (try? poll(&polls, until: nil)) == nil ? EINTR : 0
                if code == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { code = errno }
            }
            if code != 0 {
                _ = Glibc.close(fd)
                throw SystemCallError(call: "connect", code: code)
            }
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// A connection waiting on the listening socket `fd`, non-blocking and closed on exec; nil when none waits.
    static func accept(_ fd: Int32) throws(SystemCallError) -> Int32? {
        while true {
            let connection = accept4(fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if connection >= 0 {
                var one: Int32 = 1
                _ = setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return connection
            }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED { return nil }
            throw SystemCallError(call: "accept4", code: errno)
        }
    }
}
