#if canImport(Glibc)
    import Glibc
#endif

/// What a spawned child's descriptors are set to before its program runs, in order (`posix_spawn`'s file
/// actions).
public enum SpawnFileAction: Sendable, Equatable {
    /// `descriptor` is duplicated onto `target` (`dup2`).
    case duplicate(Int32, onto: Int32)
    /// `path` is opened on `target`, read-only, or write-only when `writing`.
    case open(String, onto: Int32, writing: Bool)
    /// `descriptor` is closed.
    case close(Int32)
}

/// `posix_spawn` of `arguments` (the program's path first) with `environment` (`KEY=value` words; nil: this
/// process's live environment), the file actions given, the signal mask emptied and every signal at its default:
/// capsize's threads block and handle signals that a program it starts must not inherit. The corresponding C
/// function is `posix_spawn`.
/// - Returns: the process id, and 0 or the error `posix_spawn` returned.
public func spawnWithDefaultSignals(
    _ arguments: [String], environment: [String]?, fileActions: [SpawnFileAction]
) -> (pid: Int32, status: Int32) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for action in fileActions {
        switch action {
        case .duplicate(let descriptor, let target): posix_spawn_file_actions_adddup2(&actions, descriptor, target)
        case .open(let path, let target, let writing):
            posix_spawn_file_actions_addopen(&actions, target, path, writing ? O_WRONLY : O_RDONLY, 0)
        case .close(let descriptor): posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { $0.map { strdup($0) } + [nil] }
    defer { for pointer in argv + (envp ?? []) { free(pointer) } }
    var pid: pid_t = 0
    let status =
        envp.map { posix_spawn(&pid, arguments[0], &actions, &attributes, argv, $0) }
        ?? posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
    return (pid, status)
}
