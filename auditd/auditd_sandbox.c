/*
 * auditd's system calls: files inside the audit directory (its chroot,
 * and under Landlock the only tree it may touch), imsg with the parent and
 * mcpd.  No socket, no exec.
 */
#include <seccomp.h>

#include "auditd.h"

static const struct sandbox_syscall auditd_syscalls[] = {
	/* the audit files */
	SB_SYSCALL(openat),
	SB_SYSCALL(read),
	SB_SYSCALL(pread64),
	SB_SYSCALL(write),
	SB_SYSCALL(close),
	SB_SYSCALL(fdatasync),
	SB_SYSCALL(fsync),
	SB_SYSCALL(ftruncate),
	SB_SYSCALL(lseek),
	SB_SYSCALL(getdents64),
	SB_SYSCALL(newfstatat),
	SB_SYSCALL(fstat),
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
	/* OpenSSL */
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

const struct sandbox_policy auditd_sandbox = {
	"auditd", auditd_syscalls,
	sizeof(auditd_syscalls) / sizeof(auditd_syscalls[0])
};
