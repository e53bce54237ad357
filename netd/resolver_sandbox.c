/*
 * The resolver's system calls: what getaddrinfo needs to read /etc/hosts
 * and /etc/resolv.conf and to ask the name servers over UDP and TCP, and
 * imsg to netd and the parent.  Files only for reading (and Landlock
 * keeps them beneath /etc); sockets only AF_INET and AF_INET6, with
 * AF_UNIX (nscd's socket) and AF_NETLINK (the host's addresses, which
 * getaddrinfo asks for to sort several answers) failing with EACCES, so
 * that the C library goes without them; no exec, no bind, no listen.
 */
#include <seccomp.h>

#include "netd.h"

static const struct sandbox_syscall resolver_syscalls[] = {
	/* /etc/hosts, /etc/resolv.conf, /etc/nsswitch.conf */
	SB_SYSCALL_ARG(openat, SB_RDONLY),
	SB_SYSCALL(read),
	SB_SYSCALL(lseek),
	SB_SYSCALL(newfstatat),
	SB_SYSCALL(fstat),
	SB_SYSCALL(close),
	/* name servers */
	SB_SYSCALL_ARG(socket, SB_INET),
	SB_SYSCALL_ARG(socket, SB_EACCES),
	SB_SYSCALL(connect),
	SB_SYSCALL(setsockopt),
	SB_SYSCALL(getsockname),
	SB_SYSCALL(sendto),
	SB_SYSCALL(sendmmsg),
	SB_SYSCALL(recvfrom),
	SB_SYSCALL(poll),
	SB_SYSCALL(ppoll),
	SB_SYSCALL_ARG(ioctl, SB_FIONREAD),
	SB_SYSCALL(write),
	SB_SYSCALL(writev),
	/* imsg */
	SB_SYSCALL(sendmsg),
	SB_SYSCALL(recvmsg),
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
	/* the resolver's query ids; the parent's liveness */
	SB_SYSCALL(getrandom),
	SB_SYSCALL(getpid),
	SB_SYSCALL(getppid),
	/* libc */
	SB_SYSCALL_ARG(fcntl, SB_FCNTL),
	SB_SYSCALL(futex),
	SB_SYSCALL(rt_sigreturn),
	SB_SYSCALL(rt_sigprocmask),
	SB_SYSCALL(restart_syscall),
	SB_SYSCALL(exit),
	SB_SYSCALL(exit_group),
};

const struct sandbox_policy resolver_sandbox = {
	"resolver", resolver_syscalls,
	sizeof(resolver_syscalls) / sizeof(resolver_syscalls[0])
};
