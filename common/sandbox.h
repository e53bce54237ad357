/*
 * Sandboxing of the children: chroot, drop to an unprivileged user,
 * no_new_privs, Landlock where the kernel has it, and a seccomp allow-list
 * whose default action kills the process.  Each process keeps its own
 * table of system calls next to its main; this module only applies it.
 */
#ifndef MCPGATE_SANDBOX_H
#define MCPGATE_SANDBOX_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

/* How a system call in a table may be used. */
enum sandbox_arg {
	SB_ANY,		/* with any arguments */
	SB_NOEXEC,	/* mmap/mprotect: never PROT_EXEC (argument 2) */
	SB_FCNTL,	/* fcntl: F_GETFD, F_SETFD, F_GETFL, F_SETFL only */
	SB_PRCTL,	/* prctl: PR_SET_NAME only */
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
	char		 root[PATH_MAX];
};

/* Landlock: no file access at all, or files beneath one directory. */
#define SB_FS_NONE	-1

void	 sandbox_enter(const struct sandbox_policy *,
	    const struct sandbox_creds *, int);
int	 sandbox_drop(const struct sandbox_creds *);
int	 sandbox_landlock(int);
int	 sandbox_seccomp(const struct sandbox_policy *);
int	 sandbox_landlock_abi(void);
int	 sandbox_check_root(const char *, char *, size_t);

#endif
