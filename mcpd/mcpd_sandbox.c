/*
 * mcpd's system calls: imsg with its peers, the event loop, memory.
 * No open, no socket, no exec: everything it touches arrives over imsg.
 */
#include <seccomp.h>

#include "mcpd.h"

static const struct sandbox_syscall mcpd_syscalls[] = {
	/* imsg */
	SB_SYSCALL(sendmsg),
	SB_SYSCALL(recvmsg),
	SB_SYSCALL(read),
	SB_SYSCALL(write),
	SB_SYSCALL(close),
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
	/* randomness (session ids), OpenSSL's fork check */
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

const struct sandbox_policy mcpd_sandbox = {
	"mcpd", mcpd_syscalls, sizeof(mcpd_syscalls) / sizeof(mcpd_syscalls[0])
};
