/*
 * netd's system calls: accept on sockets it was given, TLS over them,
 * imsg to the parent, mcpd and the resolver, and TCP connections out to
 * HTTP MCP servers (sockets AF_INET and AF_INET6 only; which addresses,
 * netd/http.c decides).  No open, no exec, no bind or listen.
 */
#include <seccomp.h>

#include "netd.h"

static const struct sandbox_syscall netd_syscalls[] = {
	/* connections */
	SB_SYSCALL(accept4),
	SB_SYSCALL(read),
	SB_SYSCALL(write),
	SB_SYSCALL(close),
	SB_SYSCALL(shutdown),
	SB_SYSCALL(getsockname),
	SB_SYSCALL(setsockopt),
	/* HTTP to MCP servers (libcurl): only to the resolved origins */
	SB_SYSCALL_ARG(socket, SB_INET),
	SB_SYSCALL(connect),
	SB_SYSCALL(getsockopt),
	SB_SYSCALL(getpeername),
	SB_SYSCALL(sendto),
	SB_SYSCALL(recvfrom),
	/* imsg */
	SB_SYSCALL(sendmsg),
	SB_SYSCALL(recvmsg),
	SB_SYSCALL(poll),
	/* event loop and time */
	SB_SYSCALL(epoll_wait),
	SB_SYSCALL(epoll_pwait),
	SB_SYSCALL(epoll_ctl),
	SB_SYSCALL(clock_gettime),
	SB_SYSCALL(gettimeofday),
	/* memory */
	SB_SYSCALL(brk),
	SB_SYSCALL_ARG(mmap, SB_NOEXEC),
	SB_SYSCALL_ARG(mprotect, SB_NOEXEC),
	SB_SYSCALL(munmap),
	SB_SYSCALL(mremap),
	SB_SYSCALL(madvise),
	/* OpenSSL: randomness and its fork check */
	SB_SYSCALL(getrandom),
	SB_SYSCALL(getpid),
	SB_SYSCALL(getppid),
	/* libc */
	SB_SYSCALL_ARG(fcntl, SB_FCNTL),
	SB_SYSCALL(futex),
	SB_SYSCALL(newfstatat),
	SB_SYSCALL(fstat),
	SB_SYSCALL(rt_sigreturn),
	SB_SYSCALL(rt_sigprocmask),
	SB_SYSCALL(restart_syscall),
	SB_SYSCALL(exit),
	SB_SYSCALL(exit_group),
};

const struct sandbox_policy netd_sandbox = {
	"netd", netd_syscalls, sizeof(netd_syscalls) / sizeof(netd_syscalls[0])
};
