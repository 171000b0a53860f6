// capsize-launch: the small process between capsize and a sandboxed program.
//
//   capsize-launch [--report-fd N] [--chdir DIR] [--rlimit NAME=VALUE]... [--cpus LIST]
//                  [--cgroup DIR] [--private-shm BYTES] [--parent PID] [--user UID:GID] [--pid-namespace]
//                  -- PROGRAM [ARGUMENT]...
//
// It forks (so that the child's ru_maxrss starts from this process's few pages, not from
// capsize's), puts the child in a session (and process group) of its own, without a terminal,
// applies the limits, runs PROGRAM with execvp, waits for it with wait4 and writes two lines of
// JSON on the report fd ("started" once PROGRAM's session exists):
//
//   {"event":"started","pid":123,"start":4567.000123}
//   {"event":"exited","pid":123,"exit":0,"user":0.01,"system":0.00,"maxrss_kib":1234,"wall":0.0123}
//
// "exit" is replaced by "signal" when the child was killed by one; a program that cannot be run
// ends with exit 127 (not found) or 126 (not executable) and an "error" text, like a shell.
// "start" is CLOCK_MONOTONIC seconds at the fork, so capsize can start its clock at the same
// instant. The launcher is a child subreaper: descendants that lose their parent stay under it,
// and when PROGRAM ends everything left in its group or below the launcher is killed, so no
// process outlives a run. If capsize dies (--parent), the group is killed. With --user (capsize is root)
// the child drops its supplementary groups and takes GID and UID after the limits, the cgroup and the working
// directory and before exec, so PROGRAM runs unprivileged; the launcher stays root to reap and kill it.
//
// With --pid-namespace PROGRAM runs in a PID namespace of its own (with a user namespace that maps the user to
// itself when the launcher is not root, and a mount namespace with a /proc of the namespace), so that it can name
// neither the launcher nor capsize, and cannot kill them, even under the same uid. The launcher's child is then a
// small init, pid 1 there (see run_init), which forks PROGRAM, passes signals on to it, reaps every orphan and, when
// PROGRAM ends, kills and reaps whatever is left and tells the launcher how PROGRAM ended. The report is the same,
// with "init":PID (its id here) added to "started": "pid" is still PROGRAM's id as capsize sees it. Where the
// namespace cannot be made (user namespaces turned off, /proc not mountable), PROGRAM runs as without the option.
//
// Exit status: the child's (128 + signal when killed), 125 for the launcher's own errors.
//
//   capsize-launch --server FD
//
// The resident form (a fork server): FD is a SOCK_SEQPACKET socket from capsize. Each message on it
// is one run: two native uint32 counts (arguments, environment entries), then that many
// NUL-terminated strings (the arguments are the options above, "--", PROGRAM and its arguments; the
// environment is PROGRAM's), with the run's descriptors attached (SCM_RIGHTS): report, stdout,
// stderr and, optionally, stdin (/dev/null without). The server keeps a pool of workers, copies of
// itself that each take one message at a time from the socket, put the descriptors on 0-3 and carry
// on exactly as a launcher started with those arguments and that environment would, then wait for
// the next: no exec, no C library start-up and no fork of a launcher per run, and the program is
// still forked from a small process. A request that cannot be served has its descriptors closed, so
// capsize sees the report end without a line. When the socket closes (capsize is gone) the server
// exits; its workers get SIGTERM (parent-death signal), kill the programs they run, and end.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RLIMITS 8

struct limit {
    int resource;
    rlim_t value;
};

/// What the child tells the launcher through the close-on-exec pipe when it cannot run PROGRAM.
struct child_failure {
    int stage;  // an index into stage_names
    int error;  // errno
};

static const char *stage_names[] = {"execvp", "setrlimit", "sched_setaffinity", "chdir", "cgroup", "setuid"};
enum { STAGE_EXEC, STAGE_RLIMIT, STAGE_AFFINITY, STAGE_CHDIR, STAGE_CGROUP, STAGE_USER };

/// The launcher's child: PROGRAM, or the init of PROGRAM's PID namespace.
static volatile pid_t child_pid = 0;
/// Set when the launcher was told to end (capsize is gone): it starts nothing more.
static volatile sig_atomic_t terminated = 0;

/// Set in launchers forked by the server, which put every signal back to its default when it
/// started: the only dispositions that are not defaults are then the ones this file sets.
static int dispositions_known = 0;

/// Signals whose disposition this file changes (the server's, the launcher's and init's).
static const int own_signals[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};

static void fail(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fputs("capsize-launch: ", stderr);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
    _exit(125);  // stderr is unbuffered; and no exit handlers (see serve)
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double timeval_seconds(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec * 1e-6; }

/// Kills the child's group and the child (in case it left the group) when capsize goes away.
static void on_termination(int signal_number) {
    (void)signal_number;
    terminated = 1;
    pid_t pid = child_pid;
    if (pid > 0) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
}

static int parse_resource(const char *name) {
    if (strcmp(name, "as") == 0) return RLIMIT_AS;
    if (strcmp(name, "nofile") == 0) return RLIMIT_NOFILE;
    if (strcmp(name, "nproc") == 0) return RLIMIT_NPROC;
    if (strcmp(name, "core") == 0) return RLIMIT_CORE;
    if (strcmp(name, "cpu") == 0) return RLIMIT_CPU;
    if (strcmp(name, "fsize") == 0) return RLIMIT_FSIZE;
    if (strcmp(name, "stack") == 0) return RLIMIT_STACK;
    return -1;
}

static unsigned long long parse_number(const char *text, const char *what) {
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') fail("%s: '%s' is not a non-negative integer", what, text);
    return value;
}

/// Splits `value` of `option`, "LEFT<separator>RIGHT" with LEFT shorter than `size`, into `left` and the returned
/// RIGHT; anything else fails, saying the option's `form`.
static const char *split_value(const char *option, const char *value, char separator, char *left, size_t size,
                               const char *form) {
    const char *at = strchr(value, separator);
    if (!at || (size_t)(at - value) >= size) fail("%s: '%s' is not %s", option, value, form);
    memcpy(left, value, (size_t)(at - value));
    left[at - value] = '\0';
    return at + 1;
}

/// "0,2-3" → the set {0, 2, 3}.
static void parse_cpus(const char *text, cpu_set_t *set) {
    CPU_ZERO(set);
    const char *p = text;
    while (*p) {
        char *end = NULL;
        long first = strtol(p, &end, 10);
        if (end == p || first < 0 || first >= CPU_SETSIZE) fail("--cpus: '%s' is not a CPU list such as 0,2-3", text);
        long last = first;
        p = end;
        if (*p == '-') {
            last = strtol(p + 1, &end, 10);
            if (end == p + 1 || last < first || last >= CPU_SETSIZE)
                fail("--cpus: '%s' is not a CPU list such as 0,2-3", text);
            p = end;
        }
        for (long cpu = first; cpu <= last; cpu++) CPU_SET(cpu, set);
        if (*p == ',') p++;
        else if (*p) fail("--cpus: '%s' is not a CPU list such as 0,2-3", text);
    }
}

/// Writes `text` as a JSON string body (without quotes) into `out`.
static void json_escape(char *out, size_t size, const char *text) {
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c && n + 7 < size; c++) {
        if (*c == '"' || *c == '\\') { out[n++] = '\\'; out[n++] = (char)*c; }
        else if (*c < 0x20) n += (size_t)snprintf(out + n, size - n, "\\u%04x", *c);
        else out[n++] = (char)*c;
    }
    out[n] = '\0';
}

static void write_all(int fd, const char *text, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;  // capsize is gone; nothing else to tell
        text += written;
        length -= (size_t)written;
    }
}

/// In the child: tells the launcher which step failed with the current errno, and exits like a shell
/// (127 for a program that is not found, 126 for anything else).
static void child_failed(int pipe, int stage) {
    struct child_failure failure = {stage, errno};
    write_all(pipe, (const char *)&failure, sizeof failure);
    _exit(stage == STAGE_EXEC && (failure.error == ENOENT || failure.error == ENOTDIR) ? 127 : 126);
}

/// A descriptor that close_from leaves open as well: the server's socket, in a worker (-1: none).
static int reserved_fd = -1;

/// Closes every descriptor in [first, last] (last ~0U: to the end).
static void close_range_of(unsigned first, unsigned last) {
    if (first > last) return;
    if (syscall(SYS_close_range, first, last, 0) != 0) {
        long maximum = sysconf(_SC_OPEN_MAX);
        unsigned end = last < (unsigned)(maximum > 0 ? maximum : 1024) ? last : (unsigned)(maximum > 0 ? maximum : 1024);
        for (unsigned fd = first; fd <= end; fd++) close((int)fd);
    }
}

/// Closes every descriptor from `first` up, except `keep` and `reserved_fd`.
static void close_from(int first, int keep) {
    int keeps[2] = {keep, reserved_fd};
    if (keeps[0] > keeps[1]) { int t = keeps[0]; keeps[0] = keeps[1]; keeps[1] = t; }
    unsigned next = (unsigned)first;
    for (int i = 0; i < 2; i++) {
        if (keeps[i] < first || (unsigned)keeps[i] < next) continue;
        close_range_of(next, (unsigned)keeps[i] - 1);
        next = (unsigned)keeps[i] + 1;
    }
    close_range_of(next, ~0U);
}

/// The launcher's children, from /proc (children of every thread; the launcher has one).
static int list_children(pid_t *out, int capacity) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int count = 0;
    FILE *file = fopen(path, "re");
    if (file) {
        int pid;
        while (count < capacity && fscanf(file, "%d", &pid) == 1) out[count++] = pid;
        fclose(file);
        return count;
    }
    // Kernels without CONFIG_PROC_CHILDREN: scan /proc for our children.
    DIR *proc = opendir("/proc");
    if (!proc) return 0;
    struct dirent *entry;
    pid_t self = getpid();
    while (count < capacity && (entry = readdir(proc))) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        char stat_path[300], line[512];
        snprintf(stat_path, sizeof stat_path, "/proc/%s/stat", entry->d_name);
        FILE *stat = fopen(stat_path, "re");
        if (!stat) continue;
        size_t n = fread(line, 1, sizeof line - 1, stat);
        fclose(stat);
        line[n] = '\0';
        char *close_paren = strrchr(line, ')');
        int parent = 0;
        if (close_paren && sscanf(close_paren + 2, "%*c %d", &parent) == 1 && parent == self)
            out[count++] = atoi(entry->d_name);
    }
    closedir(proc);
    return count;
}

/// CPU time and the largest ru_maxrss of the processes reaped for one run (what
/// getrusage(RUSAGE_CHILDREN) gives a launcher that runs once; a worker runs many).
struct reaped_usage {
    double user, system;
    long maxrss_kib;
};

static void account(struct reaped_usage *total, const struct rusage *usage) {
    total->user += timeval_seconds(usage->ru_utime);
    total->system += timeval_seconds(usage->ru_stime);
    if (usage->ru_maxrss > total->maxrss_kib) total->maxrss_kib = usage->ru_maxrss;
}

/// Kills what is left of the group and every remaining descendant (orphans come to us, the
/// subreaper), and reaps them all into `total`.
static void sweep(pid_t group, struct reaped_usage *total) {
    kill(-group, SIGKILL);
    for (;;) {
        pid_t children[256];
        int count = list_children(children, 256);
        for (int i = 0; i < count; i++) kill(children[i], SIGKILL);
        int reaped = 0;
        for (;;) {
            struct rusage usage;
            pid_t pid = wait4(-1, NULL, WNOHANG, &usage);
            if (pid > 0) {
                account(total, &usage);
                reaped++;
                continue;
            }
            if (pid < 0 && errno == ECHILD) return;
            break;
        }
        if (reaped == 0) {
            struct timespec pause = {0, 200000};  // a killed process takes a moment to die
            nanosleep(&pause, NULL);
        }
    }
}

/// Writes `text` to the file at `path` (for /proc/self/uid_map and friends); 0 on success.
static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t length = (ssize_t)strlen(text);
    ssize_t written = write(fd, text, (size_t)length);
    close(fd);
    return written == length ? 0 : -1;
}

/// In a new user namespace: maps `uid` and `gid` (the user's own, from outside) to themselves and nothing else,
/// so the process keeps its identity (the files of other users show as the overflow id); 0 on success.
static int map_user(uid_t uid, gid_t gid) {
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) != 0) return -1;
    if (write_file("/proc/self/setgroups", "deny") != 0) return -1;
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return write_file("/proc/self/gid_map", map);
}

/// In a new mount namespace: makes every mount private, so that nothing mounted here reaches the machine's
/// namespace (a shared / would propagate it), then mounts a /dev/shm of at most `shm_bytes` (none for 0; a tmpfs
/// that cannot be mounted leaves the machine's, which capsize tells apart). 0 when the mounts are private.
static int make_mounts_private(unsigned long long shm_bytes) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -1;
    if (shm_bytes) {
        char options[64];
        snprintf(options, sizeof options, "size=%llu,mode=1777", shm_bytes);
        mount("capsize-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, options);
    }
    return 0;
}

/// In the child: gives PROGRAM and everything it starts a /dev/shm of their own, a tmpfs of at most `bytes` in
/// a mount namespace of their own, as a Lambda sandbox or a container has: what they write there is theirs
/// (capsize counts it against the memory cap through /proc/PID/root) and goes when the last of them ends.
/// As root the mount namespace is enough. As another user it comes with a user namespace of its own in which
/// the user is mapped to itself (same uid and gid, no other ids), which is what lets it mount: the program gains
/// no privilege over anything outside. Where neither can be made (user namespaces turned off), PROGRAM keeps the
/// machine's /dev/shm, and capsize, which compares the devices of the two, knows. (With --pid-namespace, init
/// does this in the namespaces it was cloned into.)
static void private_shm(unsigned long long bytes) {
    if (geteuid() == 0) {
        if (unshare(CLONE_NEWNS) != 0) return;
    } else {
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return;
        if (map_user(uid, gid) != 0) return;
    }
    make_mounts_private(bytes);
}

/// What one run was asked for: its options and PROGRAM.
struct launch {
    char **program;
    const char *directory;
    const char *cgroup;
    struct limit limits[MAX_RLIMITS];
    int limit_count;
    cpu_set_t cpus;
    int has_cpus;
    unsigned long long shm_bytes;
    int has_user;
    uid_t user_id;
    gid_t group_id;
    int pid_namespace;
};

/// The first message on init's channel: from PROGRAM, HELLO and when init forked it (its id comes with it, in its
/// credentials); or from init, UNUSABLE (the namespace cannot be set up here) or NOT_NOW (init could not fork).
struct hello {
    int kind;  // HELLO, UNUSABLE or NOT_NOW
    double start;  // CLOCK_MONOTONIC seconds just before the fork
};
enum { HELLO = 1, UNUSABLE = 2, NOT_NOW = 3 };

/// What init tells the launcher when PROGRAM has ended and everything else in the namespace has been reaped.
struct init_report {
    int status;  // PROGRAM's wait status
    double end;  // CLOCK_MONOTONIC seconds when it was reaped
    double user, system;  // getrusage(RUSAGE_CHILDREN) of init: every process it reaped, PROGRAM first
    long maxrss_kib;
};

/// In PROGRAM's process, from the fork to the exec: a session and process group of its own (then, in a PID
/// namespace, the launcher's hello on `channel`, with `start`), the signals back to their defaults, the limits, the
/// cgroup, the working directory, the user; a failure goes to `report` (child_failed). Never returns.
static void become_program(const struct launch *l, int report, int channel, double start, int shm) {
    // A session of its own, so also a group: no controlling terminal, so that reading /dev/tty fails at once
    // (ENXIO) instead of stopping PROGRAM with SIGTTIN, and writing to it cannot bypass the log.
    setsid();
    if (channel >= 0) {
        // After setsid: the group exists before capsize hears of PROGRAM. The kernel adds our credentials.
        struct hello hello = {HELLO, start};
        send(channel, &hello, sizeof hello, MSG_NOSIGNAL);
    }
    sigset_t none;
    sigemptyset(&none);
    // Leave no trace of the launcher's signal handling (or of capsize's, inherited) in PROGRAM,
    // and only then let the terminations held since before the fork through.
    if (dispositions_known)
        for (size_t i = 0; i < sizeof own_signals / sizeof *own_signals; i++) signal(own_signals[i], SIG_DFL);
    else
        for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (shm && l->shm_bytes) private_shm(l->shm_bytes);
    if (l->cgroup) {
        char path[4096];
        snprintf(path, sizeof path, "%s/cgroup.procs", l->cgroup);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0\n", 2) != 2) child_failed(report, STAGE_CGROUP);
        close(fd);
    }
    for (int i = 0; i < l->limit_count; i++) {
        struct rlimit value = {l->limits[i].value, l->limits[i].value};
        if (setrlimit(l->limits[i].resource, &value) != 0) child_failed(report, STAGE_RLIMIT);
    }
    if (l->has_cpus && sched_setaffinity(0, sizeof l->cpus, &l->cpus) != 0) child_failed(report, STAGE_AFFINITY);
    if (l->directory && chdir(l->directory) != 0) child_failed(report, STAGE_CHDIR);
    if (l->has_user) {
        if (setgroups(0, NULL) != 0 || setgid(l->group_id) != 0 || setuid(l->user_id) != 0)
            child_failed(report, STAGE_USER);
        if (setuid(0) == 0) { errno = EPERM; child_failed(report, STAGE_USER); }  // the switch must not be undoable
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // a change of credentials clears it
    }
    close_from(3, report);
    execvp(l->program[0], l->program);
    child_failed(report, STAGE_EXEC);
}

// MARK: - Init of a PID namespace

/// PROGRAM's id in its namespace, for init's forwarding (0 before it is forked and once it has been reaped).
static volatile pid_t init_program = 0;

/// Signals init passes on to PROGRAM's group and PROGRAM: pid 1 of a namespace would ignore them without a
/// handler, so sent to init (by the launcher's owner, say) they would be lost. capsize signals PROGRAM directly.
static const int forwarded_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};

static void forward(int signal_number) {
    pid_t pid = init_program;
    if (pid > 0) {
        kill(-pid, signal_number);
        kill(pid, signal_number);  // in case it left its group
    }
}

/// pid 1 of PROGRAM's PID namespace, the launcher's child, cloned into the namespaces (a user namespace of its own
/// when `uid` is not root). It maps the user, makes the mounts private (with the private /dev/shm), mounts a /proc
/// of the namespace, forks PROGRAM (which says hello on `channel`, so the launcher learns its id), passes the
/// forwarded signals on, and reaps everything: orphans come to it, not to the launcher. When PROGRAM has been
/// reaped it kills whatever is left (kill(-1): every other process of the namespace), reaps it, and sends the
/// launcher an init_report: PROGRAM's status and end, and the usage of everything it reaped, its own left out, as a
/// launcher without it reports. If the namespace cannot be used it says UNUSABLE before starting anything, and the
/// launcher runs PROGRAM without one. Its descriptors and the launcher's other signals are closed and reset.
static int run_init(const struct launch *l, int channel, uid_t uid, gid_t gid) {
    setpgid(0, 0);  // not in the launcher's group, which may be capsize's
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // the launcher gone, the namespace goes: the kernel kills all of it
    struct hello unusable = {UNUSABLE, 0};
    if ((uid != 0 && map_user(uid, gid) != 0) || make_mounts_private(l->shm_bytes) != 0
        || mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
        send(channel, &unusable, sizeof unusable, MSG_NOSIGNAL);
        return 125;
    }
    sigset_t held, none;
    sigemptyset(&held);
    sigemptyset(&none);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forward;
    action.sa_flags = SA_RESTART;
    sigfillset(&action.sa_mask);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof *forwarded_signals; i++) {
        sigaddset(&held, forwarded_signals[i]);
        sigaction(forwarded_signals[i], &action, NULL);
    }
    sigprocmask(SIG_BLOCK, &held, NULL);  // (the launcher's terminations are held too) until PROGRAM is known
    double start = now_seconds();
    pid_t program = fork();
    if (program < 0) {
        struct hello not_now = {NOT_NOW, 0};
        send(channel, &not_now, sizeof not_now, MSG_NOSIGNAL);  // the launcher's own fork says why
        return 125;
    }
    if (program == 0) become_program(l, channel, channel, start, 0);
    init_program = program;
    // Nothing of the run stays open here but the channel: capsize knows the run is over when its pipes close, and
    // PROGRAM must see the end of its stdin when capsize closes it.
    reserved_fd = -1;
    close_range_of(0, 2);
    close_from(3, channel);
    signal(SIGPIPE, SIG_IGN);  // a report to a launcher that is gone
    sigprocmask(SIG_SETMASK, &none, NULL);

    int status = 0;
    for (;;) {
        pid_t reaped = wait4(-1, &status, __WALL, NULL);
        if (reaped == program || (reaped < 0 && errno == ECHILD)) break;
    }
    struct init_report report = {status, now_seconds(), 0, 0, 0};
    init_program = 0;
    for (;;) {  // again after each reaping: a process may fork while it dies
        kill(-1, SIGKILL);
        if (wait4(-1, NULL, __WALL, NULL) < 0 && errno == ECHILD) break;
    }
    struct rusage usage;
    getrusage(RUSAGE_CHILDREN, &usage);
    report.user = timeval_seconds(usage.ru_utime);
    report.system = timeval_seconds(usage.ru_stime);
    report.maxrss_kib = usage.ru_maxrss;
    send(channel, &report, sizeof report, MSG_NOSIGNAL);
    return 0;
}

/// recvmsg of one message into `buffer`, with room for `control_size` bytes of ancillary data at `control` (aligned
/// for a cmsghdr); `header` then says what came (its iovec is gone). Again after a signal.
static ssize_t receive_message(int fd, void *buffer, size_t size, void *control, size_t control_size, int flags,
                               struct msghdr *header) {
    struct iovec io = {buffer, size};
    memset(header, 0, sizeof *header);
    header->msg_iov = &io;
    header->msg_iovlen = 1;
    header->msg_control = control;
    header->msg_controllen = control_size;
    ssize_t length;
    do length = recvmsg(fd, header, flags);
    while (length < 0 && errno == EINTR);
    header->msg_iov = NULL;
    header->msg_iovlen = 0;
    return length;
}

/// Receives one message from init's channel (`flags`: recvmsg's) into `buffer`; its sender's id in our
/// namespace into `sender` when asked (from the credentials the kernel adds, SO_PASSCRED). recvmsg's result.
static ssize_t receive(int channel, void *buffer, size_t size, pid_t *sender, int flags) {
    union {
        char bytes[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } control;
    struct msghdr header;
    ssize_t length = receive_message(channel, buffer, size, control.bytes, sizeof control.bytes, flags, &header);
    if (length > 0 && sender)
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                struct ucred credentials;
                memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
                *sender = credentials.pid;
            }
    return length;
}

/// Set once a PID namespace could not be used here: a resident launcher's worker does not try again.
static int namespace_unusable = 0;

/// Clones init into new PID and mount namespaces (and a user namespace when not root) and waits for PROGRAM's
/// hello. Returns PROGRAM's id, with init's in `init`, PROGRAM's fork in `start` and the channel in `channel`; 0
/// when the namespace cannot be used (init, if any, reaped): the caller then forks PROGRAM itself. Terminations are
/// held on entry, and again on a return of 0.
static pid_t start_in_namespace(const struct launch *l, pid_t *init, double *start, int *channel) {
    int pair[2];
    int on = 1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return 0;
    if (setsockopt(pair[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
        close(pair[0]);
        close(pair[1]);
        return 0;
    }
    uid_t uid = geteuid();
    gid_t gid = getegid();
    long flags = CLONE_NEWPID | CLONE_NEWNS | (uid != 0 ? CLONE_NEWUSER : 0);
    // A fork into new namespaces (glibc has no such fork). Every pointer argument is 0, so the order of the
    // others, which differs between architectures, does not matter.
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        close(pair[0]);
        _exit(run_init(l, pair[1], uid, gid));
    }
    close(pair[1]);
    if (pid < 0) {
        close(pair[0]);
        if (errno == EPERM || errno == EINVAL) namespace_unusable = 1;  // not allowed or not built in, unlike EAGAIN
        return 0;
    }
    child_pid = pid;
    sigset_t none, terminations;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, &terminations);
    struct hello first = {0, 0};
    pid_t program = 0;
    ssize_t length = receive(pair[0], &first, sizeof first, &program, 0);
    if (length == (ssize_t)sizeof first && first.kind == HELLO && program > 0) {
        *init = pid;
        *start = first.start;
        *channel = pair[0];
        return program;
    }
    // Unusable (or init died first): reap it, and start PROGRAM without a namespace.
    sigprocmask(SIG_SETMASK, &terminations, NULL);
    child_pid = 0;
    if (length == (ssize_t)sizeof first && first.kind == UNUSABLE) namespace_unusable = 1;
    close(pair[0]);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    return 0;
}

/// Set once this run's "exited" line is written (a resident launcher's worker waits for capsize to read it).
static int reported_exit = 0;

/// Writes the "exited" report: how PROGRAM (`pid`) ended (`status`, or why it could not run: `failure`), the
/// usage of everything reaped for it and its wall time. Returns the launcher's exit status.
static int report_exit(int report_fd, const struct launch *l, pid_t pid, int status,
                       const struct child_failure *failure, const struct reaped_usage *all, double wall) {
    char outcome[1400];
    if (failure) {
        char message[1200], escaped[1300];
        const char *stage = stage_names[failure->stage];
        if (failure->stage == STAGE_EXEC)
            snprintf(message, sizeof message, "cannot run '%s': %s", l->program[0], strerror(failure->error));
        else if (failure->stage == STAGE_CHDIR)
            snprintf(message, sizeof message, "cannot enter the working directory '%s': %s", l->directory,
                     strerror(failure->error));
        else
            snprintf(message, sizeof message, "%s failed before running '%s': %s", stage, l->program[0],
                     strerror(failure->error));
        json_escape(escaped, sizeof escaped, message);
        snprintf(outcome, sizeof outcome, "\"exit\":%d,\"error\":\"%s\",\"errno\":%d", WEXITSTATUS(status), escaped,
                 failure->error);
    } else if (WIFSIGNALED(status)) {
        snprintf(outcome, sizeof outcome, "\"signal\":%d", WTERMSIG(status));
    } else {
        snprintf(outcome, sizeof outcome, "\"exit\":%d", WEXITSTATUS(status));
    }
    char line[2048];
    int length = snprintf(line, sizeof line,
                          "{\"event\":\"exited\",\"pid\":%d,%s,\"user\":%.6f,\"system\":%.6f,"
                          "\"maxrss_kib\":%ld,\"wall\":%.6f}\n",
                          (int)pid, outcome, all->user, all->system, all->maxrss_kib, wall);
    write_all(report_fd, line, (size_t)length);
    reported_exit = 1;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/// One launcher run: the options and PROGRAM in argv (argv[0] is the launcher's name).
static int run_launcher(int argc, char **argv) {
    int report_fd = 1;
    pid_t parent = 0;
    struct launch l;
    memset(&l, 0, sizeof l);

    int index = 1;
    for (; index < argc; index++) {
        const char *option = argv[index];
        if (strcmp(option, "--") == 0) { index++; break; }
        if (strcmp(option, "--pid-namespace") == 0) { l.pid_namespace = 1; continue; }
        if (index + 1 >= argc) fail("%s needs a value", option);
        const char *value = argv[++index];
        if (strcmp(option, "--report-fd") == 0) report_fd = (int)parse_number(value, option);
        else if (strcmp(option, "--chdir") == 0) l.directory = value;
        else if (strcmp(option, "--cgroup") == 0) l.cgroup = value;
        else if (strcmp(option, "--private-shm") == 0) l.shm_bytes = parse_number(value, option);
        else if (strcmp(option, "--parent") == 0) parent = (pid_t)parse_number(value, option);
        else if (strcmp(option, "--cpus") == 0) { parse_cpus(value, &l.cpus); l.has_cpus = 1; }
        else if (strcmp(option, "--user") == 0) {
            char number[32];
            const char *group = split_value(option, value, ':', number, sizeof number, "UID:GID");
            l.user_id = (uid_t)parse_number(number, "--user");
            l.group_id = (gid_t)parse_number(group, "--user");
            if (l.user_id == 0 || l.group_id == 0) fail("--user: '%s' is root; give an unprivileged UID:GID", value);
            l.has_user = 1;
        }
        else if (strcmp(option, "--rlimit") == 0) {
            char name[16];
            const char *number = split_value(option, value, '=', name, sizeof name, "NAME=VALUE");
            int resource = parse_resource(name);
            if (resource < 0)
                fail("--rlimit: unknown resource '%s' (as, nofile, nproc, core, cpu, fsize, stack)", name);
            if (l.limit_count == MAX_RLIMITS) fail("--rlimit: at most %d limits", MAX_RLIMITS);
            l.limits[l.limit_count++] = (struct limit){resource, (rlim_t)parse_number(number, "--rlimit")};
        } else fail("unknown option '%s'", option);
    }
    if (index >= argc) fail("usage: capsize-launch [options] -- PROGRAM [ARGUMENT]...");
    l.program = argv + index;

    // Descriptors capsize did not mean to pass on stop here.
    close_from(3, report_fd > 2 ? report_fd : -1);
    signal(SIGPIPE, SIG_IGN);  // a report to a capsize that is gone must not kill us before the sweep

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_termination;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    terminated = 0;
    if (parent > 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) return 125;  // capsize ended before we got here
    }

    // A termination between the fork and `child_pid` would find no one to kill: hold it until then.
    // (Nothing else stays blocked: a parent's thread may have handed down a mask that blocks SIGTERM.)
    sigset_t terminations, none;
    sigemptyset(&none);
    sigemptyset(&terminations);
    sigaddset(&terminations, SIGTERM);
    sigaddset(&terminations, SIGINT);
    sigaddset(&terminations, SIGHUP);
    sigprocmask(SIG_SETMASK, &terminations, NULL);
    double start = 0;
    pid_t init = 0;
    int channel = -1;
    pid_t pid = l.pid_namespace && !namespace_unusable ? start_in_namespace(&l, &init, &start, &channel) : 0;
    if (pid == 0 && terminated) return 125;  // capsize went away while init was being set up: start nothing
    char line[2048];
    int length;
    if (pid > 0) {
        length = snprintf(line, sizeof line,
                          "{\"event\":\"started\",\"pid\":%d,\"launcher\":%d,\"init\":%d,\"start\":%.6f}\n", (int)pid,
                          (int)getpid(), (int)init, start);
        write_all(report_fd, line, (size_t)length);
        // Init reports on the channel once everything else in the namespace has been killed and reaped (orphans go
        // to init, not here: no sweep). Its own end then tears the namespaces down (the mounts wait for an RCU grace
        // period, 0.2 ms and more on a busy machine): capsize has its report, and the run's descriptors are let go,
        // before that.
        struct child_failure failure;
        int has_failure = 0;
        struct init_report report = {0, 0, 0, 0, 0};
        int has_report = 0;
        while (!has_report) {
            union {
                struct child_failure failure;
                struct init_report report;
            } message;
            ssize_t size = receive(channel, &message, sizeof message, NULL, 0);
            if (size <= 0) break;  // init has ended without a report: killed from outside, and PROGRAM with it
            if (size == (ssize_t)sizeof failure) { failure = message.failure; has_failure = 1; }
            else if (size == (ssize_t)sizeof report) { report = message.report; has_report = 1; }
        }
        close(channel);
        int status = 0;
        if (has_report) {
            struct reaped_usage all = {report.user, report.system, report.maxrss_kib};
            status = report_exit(report_fd, &l, pid, report.status, has_failure ? &failure : NULL, &all,
                                 report.end - start);
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            for (int fd = 0; fd < 3; fd++) dup2(null, fd);
            if (report_fd > 2) dup2(null, report_fd);
            if (null >= 0) close(null);
        }
        int init_status = 0;
        struct rusage usage;
        for (;;) {
            pid_t reaped = wait4(init, &init_status, 0, &usage);
            if (reaped == init) break;
            if (reaped < 0 && errno != EINTR) fail("wait4: %s", strerror(errno));
        }
        child_pid = 0;
        if (has_report) return status;
        struct reaped_usage own = {0, 0, 0};
        account(&own, &usage);
        return report_exit(report_fd, &l, pid, init_status, NULL, &own, now_seconds() - start);
    }

    int failure_pipe[2];
    if (pipe2(failure_pipe, O_CLOEXEC) != 0) fail("pipe2: %s", strerror(errno));
    start = now_seconds();
    pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) become_program(&l, failure_pipe[1], -1, start, 1);
    child_pid = pid;
    sigprocmask(SIG_SETMASK, &none, NULL);
    close(failure_pipe[1]);

    // Not setpgid(pid, pid) here: PROGRAM could not then call setsid. Its session (and group) exists once the
    // failure pipe has closed (at the exec) or said why it failed, so capsize hears of PROGRAM only then.
    struct child_failure failure;
    ssize_t failure_bytes;
    do failure_bytes = read(failure_pipe[0], &failure, sizeof failure);
    while (failure_bytes < 0 && errno == EINTR);
    close(failure_pipe[0]);

    length = snprintf(line, sizeof line, "{\"event\":\"started\",\"pid\":%d,\"launcher\":%d,\"start\":%.6f}\n",
                      (int)pid, (int)getpid(), start);
    write_all(report_fd, line, (size_t)length);

    int status = 0;
    struct rusage usage;
    struct reaped_usage all = {0, 0, 0};  // every process reaped here: PROGRAM, its waited-for children, orphans
    for (;;) {
        pid_t reaped = wait4(-1, &status, 0, &usage);
        if (reaped > 0) account(&all, &usage);
        if (reaped == pid) break;
        if (reaped < 0 && errno != EINTR) fail("wait4: %s", strerror(errno));
    }
    double wall = now_seconds() - start;
    child_pid = 0;
    sweep(pid, &all);
    return report_exit(report_fd, &l, pid, status, failure_bytes == (ssize_t)sizeof failure ? &failure : NULL, &all,
                       wall);
}

// MARK: - Server

#define SERVER_MESSAGE_MAX (256 * 1024)
#define SERVER_MAX_FDS 4
#define SERVER_MAX_WORKERS 4096

/// Shared between the server and its workers (MAP_SHARED): how many workers wait for a request, and
/// whether each worker is running one (so that the server can count a worker that ended while idle).
struct pool {
    int idle;
    int busy[SERVER_MAX_WORKERS];
};

static pid_t worker_pids[SERVER_MAX_WORKERS];
static int worker_slot = -1;  // in a worker: its index in pool->busy

static struct pool *pool;
static pid_t server_pid;
static volatile sig_atomic_t pool_changed = 0;

static void on_pool_signal(int signal_number) {  // SIGCHLD (a worker ended), SIGUSR1 (none left idle)
    (void)signal_number;
    pool_changed = 1;
}

static void set_disposition(int signal_number, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    sigaction(signal_number, &action, NULL);
}

/// In a worker: puts one request's descriptors on 0-3 and its environment in `environ`, runs it as a
/// launcher would, and puts everything back. Returns the launcher's status.
static int serve_request(char *message, size_t length, int *fds, int fd_count) {
    // Report on 3, stdout on 1, stderr on 2, stdin on 0, as a launcher spawned by capsize has them.
    int sources[4] = {fds[0], fds[1], fds[2], fd_count > 3 ? fds[3] : open("/dev/null", O_RDONLY | O_CLOEXEC)};
    for (int i = 0; i < 4; i++)
        if (sources[i] >= 0 && sources[i] < 4) sources[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, 10);
    int targets[4] = {3, 1, 2, 0};
    for (int i = 0; i < 4; i++)
        if (sources[i] < 0 || dup2(sources[i], targets[i]) < 0) fail("cannot set up descriptor %d", targets[i]);
    if (fd_count <= 3 && sources[3] >= 0) close(sources[3]);

    uint32_t counts[2];
    if (length < sizeof counts) fail("a request of %zu bytes is too short", length);
    memcpy(counts, message, sizeof counts);
    if (counts[0] == 0 || counts[0] > length || counts[1] > length) fail("a malformed request");
    char **argv = calloc((size_t)counts[0] + 2, sizeof(char *));
    char **envp = calloc((size_t)counts[1] + 1, sizeof(char *));
    if (!argv || !envp) fail("out of memory");
    argv[0] = "capsize-launch";
    char *p = message + sizeof counts, *end = message + length;
    for (uint32_t i = 0; i < counts[0] + counts[1]; i++) {
        char *nul = memchr(p, '\0', (size_t)(end - p));
        if (!nul) fail("a malformed request");
        if (i < counts[0]) argv[i + 1] = p;
        else envp[i - counts[0]] = p;
        p = nul + 1;
    }
    char **own_environment = environ;
    environ = envp;
    int status = run_launcher((int)counts[0] + 1, argv);
    environ = own_environment;
    free(argv);
    free(envp);

    // Nothing of the run stays: its pipes (capsize waits for them to close), the launcher's signals.
    for (size_t i = 0; i < sizeof own_signals / sizeof *own_signals; i++) set_disposition(own_signals[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    close(null);
    // No other request before capsize has read this run's report: until then its supervisor still samples the
    // processes below this worker, and would count the next run's program as this run's, stop it with this run's
    // CPU share (never to continue it) or kill it at this run's cap. capsize closes its end of the report pipe
    // once it has read "exited", and the write end of a pipe without a reader polls POLLERR. At most 2 s: a
    // capsize that is gone or stuck must not keep the worker.
    if (reported_exit) {
        struct pollfd reader = {.fd = 3, .events = 0, .revents = 0};
        double until = now_seconds() + 2;
        for (double left = 2; left > 0; left = until - now_seconds())
            if (poll(&reader, 1, (int)(left * 1000) + 1) >= 0 || errno != EINTR) break;
    }
    reported_exit = 0;
    close(3);
    return status;
}

/// A worker: a copy of the server that takes requests from the shared socket one at a time (the
/// kernel hands each message to one waiting reader) and runs each as a launcher, in this process:
/// per run only the program is forked.
static int work(int socket_fd) {
    static char message[SERVER_MESSAGE_MAX];
    set_disposition(SIGCHLD, SIG_DFL);
    set_disposition(SIGUSR1, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != server_pid) return 0;
    for (;;) {
        union {
            char bytes[CMSG_SPACE(sizeof(int) * SERVER_MAX_FDS)];
            struct cmsghdr align;
        } control;
        struct msghdr header;
        ssize_t length = receive_message(socket_fd, message, sizeof message, control.bytes, sizeof control.bytes,
                                         MSG_CMSG_CLOEXEC, &header);
        if (length <= 0) return 0;  // capsize is gone
        __atomic_store_n(&pool->busy[worker_slot], 1, __ATOMIC_SEQ_CST);
        if (__atomic_sub_fetch(&pool->idle, 1, __ATOMIC_SEQ_CST) <= 0) kill(server_pid, SIGUSR1);

        int fds[SERVER_MAX_FDS];
        int fd_count = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            int *received = (int *)CMSG_DATA(c);
            for (int i = 0; i < count; i++) {
                if (fd_count < SERVER_MAX_FDS) fds[fd_count++] = received[i];
                else close(received[i]);
            }
        }
        if (fd_count >= 3 && !(header.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
            serve_request(message, (size_t)length, fds, fd_count);
        for (int i = 0; i < fd_count; i++) close(fds[i]);  // a request that cannot be served ends here
        if (getppid() != server_pid) return 0;  // the server is gone: take no more
        __atomic_add_fetch(&pool->idle, 1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&pool->busy[worker_slot], 0, __ATOMIC_SEQ_CST);
    }
}

/// The server: keeps at least one worker waiting on the socket, and ends when capsize closes it.
static int serve(int socket_fd) {
    // Out of the way of 0-3, where each run's descriptors go.
    int moved = fcntl(socket_fd, F_DUPFD_CLOEXEC, 64);
    if (moved < 0) fail("fcntl: %s", strerror(errno));
    close(socket_fd);
    socket_fd = moved;
    close_from(3, socket_fd);
    reserved_fd = socket_fd;
    // Every disposition back to its default once here, so that each launcher's child has only
    // own_signals to reset (one call each instead of one per signal).
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    dispositions_known = 1;
    pool = mmap(NULL, sizeof *pool, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (pool == MAP_FAILED) fail("mmap: %s", strerror(errno));
    server_pid = getpid();
    signal(SIGPIPE, SIG_IGN);
    set_disposition(SIGCHLD, on_pool_signal);
    set_disposition(SIGUSR1, on_pool_signal);
    sigset_t held, none;
    sigemptyset(&held);
    sigaddset(&held, SIGCHLD);
    sigaddset(&held, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &held, NULL);  // delivered only inside ppoll, so no wake-up is missed

    for (;;) {
        pool_changed = 0;
        for (;;) {
            pid_t pid = waitpid(-1, NULL, WNOHANG);
            if (pid <= 0) break;
            for (int i = 0; i < SERVER_MAX_WORKERS; i++) {
                if (worker_pids[i] != pid) continue;
                worker_pids[i] = 0;
                // A worker that ended while it waited (killed, say) was counted idle: count it out.
                if (!__atomic_load_n(&pool->busy[i], __ATOMIC_SEQ_CST)) __atomic_sub_fetch(&pool->idle, 1, __ATOMIC_SEQ_CST);
                break;
            }
        }
        while (__atomic_load_n(&pool->idle, __ATOMIC_SEQ_CST) < 1) {
            int slot = 0;
            while (slot < SERVER_MAX_WORKERS && worker_pids[slot] != 0) slot++;
            if (slot == SERVER_MAX_WORKERS) break;
            __atomic_store_n(&pool->busy[slot], 0, __ATOMIC_SEQ_CST);
            __atomic_add_fetch(&pool->idle, 1, __ATOMIC_SEQ_CST);
            pid_t pid = fork();
            if (pid == 0) {
                worker_slot = slot;
                _exit(work(socket_fd));  // _exit: no exit handlers run in the copies
            }
            if (pid < 0) {
                __atomic_sub_fetch(&pool->idle, 1, __ATOMIC_SEQ_CST);
                break;
            }
            worker_pids[slot] = pid;
        }
        struct pollfd watch = {socket_fd, 0, 0};  // POLLHUP comes unasked when capsize closes its end
        int ready = ppoll(&watch, 1, NULL, &none);
        if (ready > 0 && (watch.revents & (POLLHUP | POLLERR | POLLNVAL))) break;
    }
    // capsize is gone: the workers have their parent-death signal (those running a program kill it).
    return 0;
}

int main(int argc, char **argv) {
    // A process group of its own: a terminal's Ctrl-C (or a hangup) is for capsize, which decides what its runs do
    // (stop them as interrupted, or nothing where it ignores SIGINT); reaching the launcher, it would kill a job.
    setpgid(0, 0);
    if (argc == 3 && strcmp(argv[1], "--server") == 0) {
        int fd = (int)parse_number(argv[2], "--server");
        return serve(fd);
    }
    return run_launcher(argc, argv);
}
