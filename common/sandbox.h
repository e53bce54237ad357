/*
 * Sandboxing: for the children, chroot, drop to an unprivileged user,
 * no_new_privs, Landlock where the kernel has it, and a seccomp allow-list
 * whose default action kills the process; the parent uses the same
 * Landlock and seccomp helpers with rules of its own.  Each process keeps
 * its own table of system calls next to its main; this module only
 * applies it.
 */
#ifndef MCPGATE_SANDBOX_H
#define MCPGATE_SANDBOX_H

#include <sys/types.h>

#include <limits.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Debian 12's headers stop at Landlock ABI 2; the rights of later ABIs
 * are part of the kernel's stable interface.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)
#endif

/* How a system call in a table may be used. */
enum sandbox_arg {
	SB_ANY,		/* with any arguments */
	SB_NOEXEC,	/* mmap/mprotect: never PROT_EXEC (argument 2) */
	SB_FCNTL,	/* fcntl: F_GETFD, F_SETFD, F_GETFL, F_SETFL only */
	SB_PRCTL,	/* prctl: PR_SET_NAME only */
	SB_EXECMAP,	/* mmap: PROT_EXEC only to map a file (a loader
			   starting a program), never anonymous memory */
	SB_UNIX,	/* socket: AF_UNIX only */
	SB_CLONE,	/* clone: a fork or a thread, no new namespace */
	SB_KILL,	/* kill: not -1 (every process) nor -pgid */
	SB_ENOSYS,	/* fails with ENOSYS, so that libc falls back: clone3
			   to clone, whose flags a filter can see */
	SB_INET,	/* socket: AF_INET and AF_INET6 only */
	SB_EACCES,	/* socket: AF_UNIX and AF_NETLINK fail with EACCES,
			   so that libc goes without nscd and without the
			   host's addresses (getaddrinfo's sorting) */
	SB_FIONREAD,	/* ioctl: FIONREAD only */
	SB_RDONLY,	/* openat: read only (no O_WRONLY, O_RDWR, O_CREAT,
			   O_TRUNC) */
};

struct sandbox_syscall {
	int		 nr;
	const char	*name;
	enum sandbox_arg arg;
};

#define SB_SYSCALL(name)	{ SCMP_SYS(name), #name, SB_ANY }
#define SB_SYSCALL_ARG(name, a)	{ SCMP_SYS(name), #name, a }

struct sandbox_policy {
	const char			*proc;
	const struct sandbox_syscall	*calls;
	size_t				 ncalls;
};

/* What the parent tells a child about where and as whom to run. */
struct sandbox_creds {
	int		 drop;		/* 0 when the daemon is not root */
	uid_t		 uid;
	gid_t		 gid;
	char		 root[PATH_MAX];	/* "": no chroot (the resolver,
					   which reads /etc and Landlock
					   confines) */
};

/* Landlock: no file access at all, or files beneath one directory. */
#define SB_FS_NONE	-1

/*
 * A Landlock rule: what may be done to a file or beneath a directory,
 * given open (O_PATH will do).  Rights the kernel does not know, and for
 * a file those that apply only to directories, are left out.
 */
struct sandbox_fsrule {
	int		 fd;
	uint64_t	 access;	/* LANDLOCK_ACCESS_FS_* */
};

/* What Landlock (ABI 6) confines to the process's own domain. */
#define SB_SCOPE_UNIX	0x1	/* abstract unix sockets */
#define SB_SCOPE_SIGNAL	0x2	/* signals */
#define SB_FS_ONLY	0x4	/* files only: leave TCP alone */

void	 sandbox_enter(const struct sandbox_policy *,
	    const struct sandbox_creds *, int);
void	 sandbox_enter_rules(const struct sandbox_policy *,
	    const struct sandbox_creds *, const struct sandbox_fsrule *, size_t,
	    const uint16_t *, size_t, int);
int	 sandbox_drop(const struct sandbox_creds *);
int	 sandbox_landlock(int);
int	 sandbox_landlock_rules(const struct sandbox_fsrule *, size_t, int);
int	 sandbox_landlock_net(const struct sandbox_fsrule *, size_t,
	    const uint16_t *, size_t, int);
int	 sandbox_seccomp(const struct sandbox_policy *);
int	 sandbox_landlock_abi(void);
int	 sandbox_check_root(const char *, char *, size_t);

#endif
