internal import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// The processes below a root process, their resident memory and the CPU time they used, read from /proc.
///
/// Children come from `/proc/PID/task/TID/children` (every thread's), falling back to a scan of
/// `/proc/*/stat` on kernels built without it. Memory is the sum of each process's RSS from
/// `/proc/PID/stat`: cheap enough to read every few milliseconds, and it counts pages shared
/// between processes (libraries, copy-on-write after fork) once per process. CPU time is, from the same
/// file, each process's user and system time (all its threads) plus that of the children it has reaped,
/// and the root's reaped children (orphans come to the launcher, a subreaper): so a process that has
/// exited and been waited for still counts.
///
/// The root is the launcher, or the init of the program's PID namespace (`Sandbox.usesPIDNamespace`, the default
/// when capsize is not root): a program there cannot name its launcher, let alone kill it, and every orphan of the
/// namespace goes to its init, so the tree is all of the namespace. As root the program runs as another user and
/// cannot kill its launcher either.
///
/// Without a namespace a tree still outlives its root: every process seen by one sample is looked for again in the
/// next (the same pid with the same start time), wherever it now hangs, so a program that kills its launcher (the
/// root) keeps its processes in the tree. They are reparented to capsize, which makes itself a child subreaper
/// (`CapsizeProcess.becomeSubreaper`) for that: the tree reaps them (`reapAdopted`) and counts their CPU time. (A
/// process born and orphaned between two samples after the root died is not found: capsize cannot tell it from its
/// own children. That is the gap the namespace closes.)
struct ProcessTree {
    /// The processes found by the last `sample`.
    private(set) var processes: [pid_t] = []
    /// The resident bytes of each of `processes`, by the last `sample`.
    private(set) var residentBytes: [UInt64] = []
    /// CPU seconds (user + system) used by the tree up to the last `sample`: live descendants, the children
    /// they reaped, and the children the root reaped. Clock-tick resolution (1/100 s per process).
    private(set) var cpuSeconds = 0.0
    /// Exit statuses of processes this tree reaped itself (adopted by capsize), by process id.
    private(set) var reapedStatuses: [pid_t: Int32] = [:]
    /// The parent of each of `processes`, by the last `sample`.
    private(set) var parents: [pid_t] = []
    private var zombies: [Bool] = []
    /// When each of `processes` started (clock ticks since boot), to tell a process from a later one with its pid.
    private var startTimes: [UInt64] = []
    /// CPU seconds of the processes this tree reaped itself.
    private var adoptedCPUSeconds = 0.0
    private var buffer = [UInt8](repeating: 0, count: 4096)
    /// The executable of the program whose copies `sample(below:leavingOutCopiesOf:)` leaves out, once read.
    private var programExecutable: String?
    private static let pageSize = UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
    private static let ticksPerSecond = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
    private static let hasChildrenFiles = access("/proc/self/task/\(getpid())/children", R_OK) == 0

    /// Sums the RSS of every descendant of `root` (not `root` itself) and remembers who they are.
    mutating func sample(below root: pid_t) -> UInt64 {
        let previous = zip(processes, startTimes).map { (pid: $0, start: $1) }
        processes.removeAll(keepingCapacity: true)
        residentBytes.removeAll(keepingCapacity: true)
        parents.removeAll(keepingCapacity: true)
        zombies.removeAll(keepingCapacity: true)
        startTimes.removeAll(keepingCapacity: true)
        var seen: Set<pid_t> = []
        if Self.hasChildrenFiles {
            appendChildren(of: root)
            seen.formUnion(processes)
            appendDescendants(from: 0, seen: &seen)
        } else {
            scanDescendants(of: root)
            seen.formUnion(processes)
        }
        let reparented = processes.count
        // Processes seen last time that are no longer below the root (it died, they were reparented): the same
        // process only if it started at the same tick (a pid is reused once the counter wraps, 32,768 here).
        for process in previous where !seen.contains(process.pid) && process.start != 0 {
            guard statistics(of: process.pid)?.start == process.start else { continue }
            processes.append(process.pid)
            seen.insert(process.pid)
        }
        if Self.hasChildrenFiles { appendDescendants(from: reparented, seen: &seen) }
        var total: UInt64 = 0
        var ticks: UInt64 = root > 0 ? (statistics(of: root)?.reapedTicks ?? 0) : 0
        for pid in processes {
            let entry = statistics(of: pid)
            residentBytes.append(entry?.resident ?? 0)
            parents.append(entry?.parent ?? 0)
            zombies.append(entry?.zombie ?? false)
            startTimes.append(entry?.start ?? 0)
            total += entry?.resident ?? 0
            ticks += (entry?.ownTicks ?? 0) + (entry?.reapedTicks ?? 0)
        }
        cpuSeconds = Double(ticks) / Self.ticksPerSecond + adoptedCPUSeconds
        return total
    }

    /// Appends the descendants of `processes[start...]`, breadth first, each once (a process below the root may
    /// also be the child of one taken back from the last sample).
    private mutating func appendDescendants(from start: Int, seen: inout Set<pid_t>) {
        var index = start
        while index < processes.count {
            let before = processes.count
            appendChildren(of: processes[index])
            let found = processes[before...].filter { seen.insert($0).inserted }
            processes.replaceSubrange(before..., with: found)
            index += 1
        }
    }

    /// `sample(below:)`, leaving out the children of `program` that are still copies of it: a long-lived program
    /// (an environment's worker) forks, and Foundation's `Process` forks from whichever thread (so the child's name
    /// may differ) before it execs a command. Until the exec the child maps the program's memory, and a sum of RSS
    /// would count the program twice (and kill a 128 MB function that only runs `true`). A child whose executable
    /// is still the program's is such a copy. The executable and the resident count both belong to the process's
    /// memory map, which exec replaces whole, so reading the first before the second never pairs a copy's name
    /// with a new image's memory the wrong way round. (A program that runs another copy of itself is undercounted
    /// by that child; capsize's worker does not.)
    mutating func sample(below root: pid_t, leavingOutCopiesOf program: pid_t) -> UInt64 {
        let total = sample(below: root)
        guard program > 0, processes.count > 1 else { return total }
        if programExecutable == nil { programExecutable = executable(of: program) }
        var bytes: UInt64 = 0
        for (index, process) in processes.enumerated() {
            guard process != program, parents[index] == program else {
                bytes += residentBytes[index]
                continue
            }
            // The program's own child: its executable first, then its memory read again (see above).
            if executable(of: process) == programExecutable { continue }
            bytes += statistics(of: process)?.resident ?? 0
        }
        return bytes
    }

    /// The executable of `pid` (`/proc/PID/exe`), nil when it cannot be read.
    private mutating func executable(of pid: pid_t) -> String? {
        let count = buffer.withUnsafeMutableBytes { bytes in
            readlink("/proc/\(pid)/exe", bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Waits for the tree's processes that capsize adopted and that have ended (zombies), so they do not
    /// linger, keeping their CPU time and exit status.
    mutating func reapAdopted() {
        let me = getpid()
        for (index, pid) in processes.enumerated() where parents[index] == me && zombies[index] {
            if let ended = try? Posix.wait(for: pid, options: WNOHANG) {
                reapedStatuses[pid] = ended.status
                adoptedCPUSeconds += seconds(ended.usage.ru_utime) + seconds(ended.usage.ru_stime)
            }
        }
    }

    /// Whether any process of the tree still runs (zombies do not).
    var hasLiveProcesses: Bool { zombies.contains(false) }

    /// Sends `signal` to the process group `group` and its leader (a process may leave its group), then to every
    /// process of the last `sample` (some run in groups of their own).
    func signal(_ signal: Int32, group: pid_t? = nil) {
        if let group, group > 0 {
            Posix.signalIfAlive(-group, signal)
            Posix.signalIfAlive(group, signal)
        }
        for pid in processes { Posix.signalIfAlive(pid, signal) }
    }

    /// Sends `signal` to `group` and to every process below `root` as it is now: for a caller that keeps no tree
    /// of its own (a frozen environment is sampled by no one).
    static func signal(_ signal: Int32, group: pid_t, below root: pid_t) {
        Posix.signalIfAlive(-group, signal)
        var tree = ProcessTree()
        _ = tree.sample(below: root)
        tree.signal(signal)
    }

    /// Kills every process of the tree with SIGKILL, again until none is left (each may fork while dying),
    /// reaping those capsize adopted. Gives up after `seconds`.
    mutating func killAll(below root: pid_t, seconds: Double = 2) {
        let end = monotonicSeconds() + seconds
        repeat {
            _ = sample(below: root)
            signal(SIGKILL)
            reapAdopted()
            if processes.isEmpty { return }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        } while monotonicSeconds() < end
    }

    /// The bytes the tree keeps in its private /dev/shm (capsize-launch --private-shm) that none of its processes
    /// maps: a tmpfs holds them in memory as a sandbox's cgroup would count them, and what a process maps is in its
    /// RSS already. 0 when the tree shares the machine's /dev/shm (none could be mounted) or has no live process.
    mutating func privateSharedMemoryBytes() -> UInt64 {
        // A mount namespace of their own is not enough: one with a PID namespace has its own /proc in any case.
        var shm = stat()
        guard let member = zip(processes, zombies).first(where: { !$0.1 })?.0, let machine = Self.machineSharedMemory,
            stat("/proc/\(member)/root/dev/shm", &shm) == 0, shm.st_dev != machine
        else { return 0 }
        var info = statvfs()
        guard statvfs("/proc/\(member)/root/dev/shm", &info) == 0 else { return 0 }
        let used = UInt64(info.f_blocks - info.f_bfree) * UInt64(info.f_frsize)
        guard used > 0 else { return 0 }
        var mapped: UInt64 = 0
        for pid in processes {
            guard let count = readSmallFile("/proc/\(pid)/status", into: &buffer),
                let line = String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n")
                    .first(where: { $0.hasPrefix("RssShmem:") }),
                let kib = UInt64(line.split(separator: " ").dropFirst().first ?? "")
            else { continue }
            mapped += kib * 1024
        }
        return used - min(used, mapped)
    }

    /// The device of capsize's own /dev/shm (the machine's), which does not change.
    private static let machineSharedMemory: dev_t? = {
        var info = stat()
        return stat("/dev/shm", &info) == 0 ? info.st_dev : nil
    }()

    /// Reaps `pid`, the init of a PID namespace whose launcher was killed (the kernel killed the namespace with it):
    /// capsize, the subreaper, inherits it once the launcher is gone, which may be a moment after its descriptors
    /// closed. Waits at most a second for that; a process that is not, or no longer, capsize's child is left alone.
    static func reapOrphanedRoot(_ pid: pid_t) {
        let end = monotonicSeconds() + 1
        repeat {
            do {
                if try Posix.wait(for: pid, options: WNOHANG) != nil { return }
                Posix.signalIfAlive(pid, SIGKILL)  // capsize's: killed already, make sure
            } catch {
                // Not capsize's child (yet): go on waiting while it exists; give up on any other failure.
                guard error.code == ECHILD, Posix.exists(pid) else { return }
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        } while monotonicSeconds() < end
    }

    private func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) * 1e-6 }

    private mutating func appendChildren(of pid: pid_t) {
        guard let tasks = opendir("/proc/\(pid)/task") else { return }
        defer { closedir(tasks) }
        while let entry = readdir(tasks) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.first?.isNumber == true,
                let count = readSmallFile("/proc/\(pid)/task/\(name)/children", into: &buffer)
            else { continue }
            var value: Int32 = 0
            var inNumber = false
            for byte in buffer[..<count] {
                if byte >= 48 && byte <= 57 {
                    value = value * 10 + Int32(byte - 48)
                    inNumber = true
                } else if inNumber {
                    processes.append(value)
                    value = 0
                    inNumber = false
                }
            }
            if inNumber { processes.append(value) }
        }
    }

    /// The slow path: one pass over /proc for parent links, then a walk from `root`.
    private mutating func scanDescendants(of root: pid_t) {
        guard let proc = opendir("/proc") else { return }
        var children: [pid_t: [pid_t]] = [:]
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), let count = readSmallFile("/proc/\(name)/stat", into: &buffer) else {
                continue
            }
            // "PID (comm) S PPID ...": comm may contain spaces and parentheses, so start after the last ')'.
            guard let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")")) else { continue }
            let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "))
            if fields.count > 1, let parent = pid_t(String(decoding: fields[1], as: UTF8.self)) {
                children[parent, default: []].append(pid)
            }
        }
        closedir(proc)
        var queue = children[root] ?? []
        var index = 0
        while index < queue.count {
            queue += children[queue[index]] ?? []
            index += 1
        }
        processes = queue
    }

    /// From /proc/PID/stat: resident bytes (field 24), user + system ticks (14, 15) and the reaped
    /// children's (16, 17), the parent (4), whether it is a zombie (3) and its start tick (22); nil for a process
    /// that is gone.
    private mutating func statistics(of pid: pid_t)
        -> (resident: UInt64, ownTicks: UInt64, reapedTicks: UInt64, parent: pid_t, zombie: Bool, start: UInt64)?
    {
        guard let count = readSmallFile("/proc/\(pid)/stat", into: &buffer),
            let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")"))
        else { return nil }
        // After "PID (comm)" the fields are space-separated numbers (and the one-letter state): field 3 is
        // the first after the parenthesis.
        var field = 2
        var value: UInt64 = 0
        var own: UInt64 = 0
        var reaped: UInt64 = 0
        var resident: UInt64 = 0
        var parent: pid_t = 0
        var zombie = false
        var start: UInt64 = 0
        for byte in buffer[(close + 1)..<count] {
            if field == 3 && byte == UInt8(ascii: "Z") { zombie = true }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                switch field {
                case 4: parent = pid_t(truncatingIfNeeded: value)
                case 14, 15: own += value
                case 16, 17: reaped += value
                case 22: start = value
                case 24: resident = value * Self.pageSize
                default: break
                }
                if field == 24 { break }
                field += 1
                value = 0
            } else if byte >= 48 && byte <= 57 {
                value = value &* 10 &+ UInt64(byte - 48)
            }
        }
        return field >= 24 ? (resident, own, reaped, parent, zombie, start) : nil
    }
}

/// capsize's own process, a child subreaper.
enum CapsizeProcess {
    private static let subreaper: Void = { _ = capsize_become_child_subreaper() }()

    /// Makes capsize the child subreaper of everything it starts, once: a program that kills its launcher leaves
    /// its processes to capsize, which keeps them in their tree, instead of to init.
    static func becomeSubreaper() { _ = subreaper }
}
