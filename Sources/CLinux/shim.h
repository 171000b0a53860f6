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
