// Linux calls that Swift's Glibc module leaves out (it is built without _GNU_SOURCE), for the sandbox.
#pragma once
#include <poll.h>
#include <signal.h>
#include <sys/statfs.h>
#include <time.h>

/// Creates a pipe whose ends are close-on-exec from the start. The corresponding C function is `pipe2`.
int pipe2(int pipefd[2], int flags);

/// Waits on descriptors with a nanosecond timeout. The corresponding C function is `ppoll`.
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask);

#include <sys/socket.h>

/// Accepts a connection whose descriptor has `flags` (SOCK_NONBLOCK, SOCK_CLOEXEC) from the start. The corresponding C
/// function is `accept4`.
int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/// Sends `length` bytes as one message on `socket` with `count` (at most 4) descriptors attached
/// (SCM_RIGHTS), without SIGPIPE. Returns sendmsg's result. (Swift cannot use the CMSG macros.)
static inline long capsize_send_with_descriptors(int socket, const void *bytes, unsigned long length,
                                                 const int *descriptors, int count) {
    union {
        char bytes[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } control;
    if (count < 0 || count > 4) return -1;
    memset(&control, 0, sizeof control);
    struct iovec io = {(void *)bytes, length};
    struct msghdr header;
    memset(&header, 0, sizeof header);
    header.msg_iov = &io;
    header.msg_iovlen = 1;
    header.msg_control = control.bytes;
    header.msg_controllen = CMSG_SPACE(sizeof(int) * (unsigned long)count);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&header);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (unsigned long)count);
    memcpy(CMSG_DATA(cmsg), descriptors, sizeof(int) * (unsigned long)count);
    return sendmsg(socket, &header, MSG_NOSIGNAL);
}

#include <sys/prctl.h>

/// Makes this process the child subreaper of its descendants: a process whose parent dies is reparented to
/// the nearest living ancestor that is one, instead of to init. The corresponding C function is `prctl`
/// with `PR_SET_CHILD_SUBREAPER`.
static inline int capsize_become_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
