#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/* Landlock scopes and network rights (ABI 4 and 6). */
#define SB_LANDLOCK_SCOPE_ABSTRACT_UNIX		(1ULL << 0)
#define SB_LANDLOCK_SCOPE_SIGNAL		(1ULL << 1)
#define SB_LANDLOCK_NET_BIND_TCP		(1ULL << 0)
#define SB_LANDLOCK_NET_CONNECT_TCP		(1ULL << 1)

#define SB_LANDLOCK_RULE_NET_PORT		2
struct sb_net_port_attr {
	uint64_t	 allowed_access;
	uint64_t	 port;
} __attribute__((packed));

struct sb_ruleset_attr {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;	/* ABI 4 */
	uint64_t	 scoped;		/* ABI 6 */
};

/*
 * Under AddressSanitizer the runtime itself makes a few calls that the
 * processes never make; only sanitizer builds allow them.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(MCPGATE_SANITIZE)
static const struct sandbox_syscall sanitizer_calls[] = {
	SB_SYSCALL(sigaltstack),
	SB_SYSCALL(sched_yield),
	SB_SYSCALL(getpid),
	SB_SYSCALL(gettid),
	SB_SYSCALL(readlink),
	SB_SYSCALL(readlinkat),
	SB_SYSCALL(open),
	SB_SYSCALL(ioctl),
	SB_SYSCALL(openat),
	SB_SYSCALL(newfstatat),
	SB_SYSCALL(prctl),
	SB_SYSCALL(rt_sigaction),
	SB_SYSCALL(munmap),
	SB_SYSCALL(mmap),
	SB_SYSCALL(mprotect),
	SB_SYSCALL(getrlimit),
	SB_SYSCALL(prlimit64),
	SB_SYSCALL(write),
	SB_SYSCALL(tgkill),
	SB_SYSCALL(rt_sigprocmask),
};
#endif

int
sandbox_landlock_abi(void)
{
	long	 abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return (abi < 0 ? 0 : (int)abi);
}

/*
 * The chroot directory must be owned by root, writable by nobody else
 * and empty.  Returns 0, or -1 with a sentence in err.
 */
int
sandbox_check_root(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;

	if (lstat(path, &st) == -1) {
		snprintf(err, errlen, "chroot %s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "chroot %s is not a directory", path);
		return (-1);
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "chroot %s must be owned by root and "
		    "writable by nobody else (it is uid %u, mode %04o)", path,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return (-1);
	}
	if ((d = opendir(path)) == NULL) {
		snprintf(err, errlen, "chroot %s: %s", path, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(err, errlen, "chroot %s must be empty, but it holds "
		    "'%s'", path, de->d_name);
		closedir(d);
		return (-1);
	}
	closedir(d);
	return (0);
}

/* chroot and become the unprivileged user, in the order that holds. */
int
sandbox_drop(const struct sandbox_creds *cr)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;

	if (!cr->drop)
		return (0);
	if (cr->root[0] != '\0' && chroot(cr->root) == -1) {
		log_warn("chroot %s", cr->root);
		return (-1);
	}
	if (chdir("/") == -1) {
		log_warn("chdir /");
		return (-1);
	}
	if (setgroups(1, &cr->gid) == -1 ||
	    setresgid(cr->gid, cr->gid, cr->gid) == -1 ||
	    setresuid(cr->uid, cr->uid, cr->uid) == -1) {
		log_warn("cannot drop privileges to uid %u gid %u",
		    (unsigned)cr->uid, (unsigned)cr->gid);
		return (-1);
	}
	if (getresgid(&rgid, &egid, &sgid) == -1 ||
	    getresuid(&ruid, &euid, &suid) == -1 ||
	    rgid != cr->gid || egid != cr->gid || sgid != cr->gid ||
	    ruid != cr->uid || euid != cr->uid || suid != cr->uid ||
	    (cr->uid != 0 && setuid(0) != -1)) {
		log_warnx("privileges were not dropped completely");
		return (-1);
	}
	return (0);
}

/* What a child may do beneath its one directory. */
#define SB_CHILD_DIR_RIGHTS	(LANDLOCK_ACCESS_FS_READ_FILE |		\
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR |	\
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_TRUNCATE)

/* The rights that apply to a file rather than to a directory. */
#define SB_FS_FILE_RIGHTS	(LANDLOCK_ACCESS_FS_EXECUTE |		\
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |	\
	LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/*
 * Landlock: handle every file right the kernel knows and grant only what
 * the rules say.  From ABI 4 on, binding and connecting TCP sockets is
 * denied, unless scope has SB_FS_ONLY; from ABI 6 on, what scope names
 * (abstract unix sockets, signals) is confined to the process's own
 * domain.  A kernel without Landlock is not an error.
 */
int
sandbox_landlock_rules(const struct sandbox_fsrule *rules, size_t nrules,
    int scope)
{
	return (sandbox_landlock_net(rules, nrules, NULL, 0, scope));
}

/*
 * As sandbox_landlock_rules(), and TCP connections to the ports given
 * allowed (from ABI 4; before it, TCP is not confined at all).
 */
int
sandbox_landlock_net(const struct sandbox_fsrule *rules, size_t nrules,
    const uint16_t *ports, size_t nports, int scope)
{
	struct sb_net_port_attr		 np;
	struct sb_ruleset_attr		 attr;
	struct landlock_path_beneath_attr pb;
	struct stat			 st;
	size_t				 attrsize, i;
	int				 abi, rfd;

	if ((abi = sandbox_landlock_abi()) == 0) {
		log_debug("landlock not available, skipped");
		return (0);
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	attrsize = sizeof(attr.handled_access_fs);
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 4) {
		if (!(scope & SB_FS_ONLY))
			attr.handled_access_net = SB_LANDLOCK_NET_BIND_TCP |
			    SB_LANDLOCK_NET_CONNECT_TCP;
		attrsize = offsetof(struct sb_ruleset_attr, scoped);
	}
	if (abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 6) {
		if (scope & SB_SCOPE_UNIX)
			attr.scoped |= SB_LANDLOCK_SCOPE_ABSTRACT_UNIX;
		if (scope & SB_SCOPE_SIGNAL)
			attr.scoped |= SB_LANDLOCK_SCOPE_SIGNAL;
		attrsize = sizeof(attr);
	}
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, attrsize, 0);
	if (rfd == -1) {
		log_warn("landlock_create_ruleset");
		return (-1);
	}
	for (i = 0; i < nrules; i++) {
		memset(&pb, 0, sizeof(pb));
		pb.parent_fd = rules[i].fd;
		pb.allowed_access = rules[i].access & attr.handled_access_fs;
		if (fstat(rules[i].fd, &st) == -1) {
			log_warn("landlock rule %zu", i);
			close(rfd);
			return (-1);
		}
		if (!S_ISDIR(st.st_mode))
			pb.allowed_access &= SB_FS_FILE_RIGHTS;
		if (pb.allowed_access == 0)
			continue;
		if (syscall(SYS_landlock_add_rule, rfd,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1) {
			log_warn("landlock_add_rule");
			close(rfd);
			return (-1);
		}
	}
	for (i = 0; abi >= 4 && attr.handled_access_net != 0 && i < nports;
	    i++) {
		memset(&np, 0, sizeof(np));
		np.allowed_access = SB_LANDLOCK_NET_CONNECT_TCP;
		np.port = ports[i];
		if (syscall(SYS_landlock_add_rule, rfd, SB_LANDLOCK_RULE_NET_PORT,
		    &np, 0) == -1) {
			log_warn("landlock_add_rule: port %u", ports[i]);
			close(rfd);
			return (-1);
		}
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1) {
		log_warn("landlock_restrict_self");
		close(rfd);
		return (-1);
	}
	close(rfd);
	return (0);
}

/*
 * A child's Landlock: no file access at all, or, when dirfd is a
 * directory, reading, creating and writing regular files beneath it.
 * Signals and abstract unix sockets are scoped to the process.
 */
int
sandbox_landlock(int dirfd)
{
	struct sandbox_fsrule	 rule;

	rule.fd = dirfd;
	rule.access = SB_CHILD_DIR_RIGHTS;
	return (sandbox_landlock_rules(&rule, dirfd != SB_FS_NONE ? 1 : 0,
	    SB_SCOPE_UNIX | SB_SCOPE_SIGNAL));
}

#ifdef MCPGATE_SANDBOX_TRAP
/* Debug builds name the call that a table is missing, then die. */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char	 msg[128];
	char	*name;
	int	 n;

	(void)sig;
	(void)ctx;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
	    si->si_syscall);
	n = snprintf(msg, sizeof(msg), "sandbox: forbidden system call %d "
	    "(%s)\n", si->si_syscall, name ? name : "?");
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) == -1)
		_exit(4);
	_exit(3);
}
#endif

static int
sandbox_add(scmp_filter_ctx ctx, const struct sandbox_syscall *sc)
{
	int	 r;

	switch (sc->arg) {
	case SB_NOEXEC:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		break;
	case SB_FCNTL:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A1(SCMP_CMP_EQ, F_GETFD));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
			    SCMP_A1(SCMP_CMP_EQ, F_SETFD));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
			    SCMP_A1(SCMP_CMP_EQ, F_GETFL));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
			    SCMP_A1(SCMP_CMP_EQ, F_SETFL));
		break;
	case SB_PRCTL:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
		break;
	case SB_EXECMAP:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
			    SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
		break;
	case SB_UNIX:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		break;
	case SB_CLONE:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWNS | CLONE_NEWCGROUP |
		    CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
		    CLONE_NEWPID | CLONE_NEWNET, 0));
		break;
	case SB_KILL:
		/* The sign bit of the 32-bit pid: -1 and process groups. */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, 0x80000000, 0));
		break;
	case SB_ENOSYS:
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), sc->nr, 0);
		break;
	case SB_INET:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_INET));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
			    SCMP_A0(SCMP_CMP_EQ, AF_INET6));
		break;
	case SB_EACCES:
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), sc->nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
			    sc->nr, 1, SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
		break;
	case SB_FIONREAD:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A1(SCMP_CMP_EQ, FIONREAD));
		break;
	case SB_RDONLY:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
		    O_RDONLY));
		break;
	default:
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->nr, 0);
		break;
	}
	return (r);
}

/* Load the process's allow-list; anything else kills the process. */
int
sandbox_seccomp(const struct sandbox_policy *pol)
{
	scmp_filter_ctx	 ctx;
	uint32_t	 deflt = SCMP_ACT_KILL_PROCESS;
	size_t		 i;
	int		 r;

#ifdef MCPGATE_SANDBOX_TRAP
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	deflt = SCMP_ACT_TRAP;
#endif
	if ((ctx = seccomp_init(deflt)) == NULL) {
		log_warnx("%s: seccomp_init failed", pol->proc);
		return (-1);
	}
	for (i = 0; i < pol->ncalls; i++) {
		if ((r = sandbox_add(ctx, &pol->calls[i])) != 0) {
			log_warnx("%s: seccomp rule for %s: %s", pol->proc,
			    pol->calls[i].name, strerror(-r));
			seccomp_release(ctx);
			return (-1);
		}
	}
#if defined(__SANITIZE_ADDRESS__) || defined(MCPGATE_SANITIZE)
	for (i = 0; i < sizeof(sanitizer_calls) / sizeof(sanitizer_calls[0]);
	    i++)
		seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sanitizer_calls[i].nr, 0);
#endif
	if ((r = seccomp_load(ctx)) != 0) {
		log_warnx("%s: seccomp_load: %s", pol->proc, strerror(-r));
		seccomp_release(ctx);
		return (-1);
	}
	seccomp_release(ctx);
	return (0);
}

/*
 * Everything, in order: chroot and the user switch (root only), then
 * no_new_privs, no core dumps or ptrace by the same user, Landlock (the
 * rules given, TCP connections only to the ports given unless scope has
 * SB_FS_ONLY), and seccomp last.  Any failure is fatal: a child never serves unsandboxed.
 */
void
sandbox_enter_rules(const struct sandbox_policy *pol,
    const struct sandbox_creds *cr, const struct sandbox_fsrule *rules,
    size_t nrules, const uint16_t *ports, size_t nports, int scope)
{
	if (cr->drop) {
		if (sandbox_drop(cr) == -1)
			fatalx("%s: cannot drop privileges", pol->proc);
	} else
		log_warnx("%s: not running as root: chroot and the user "
		    "switch are skipped", pol->proc);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", pol->proc);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", pol->proc);
	/* The user switch cleared it; the parent's death ends us. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("%s: PR_SET_PDEATHSIG", pol->proc);
	if (sandbox_landlock_net(rules, nrules, ports, nports, scope) == -1)
		fatalx("%s: landlock failed", pol->proc);
	if (sandbox_seccomp(pol) == -1)
		fatalx("%s: seccomp failed", pol->proc);
}

/* As above, with no file or files beneath fsdir (sandbox_landlock). */
void
sandbox_enter(const struct sandbox_policy *pol, const struct sandbox_creds *cr,
    int fsdir)
{
	struct sandbox_fsrule	 rule;

	rule.fd = fsdir;
	rule.access = SB_CHILD_DIR_RIGHTS;
	sandbox_enter_rules(pol, cr, &rule, fsdir != SB_FS_NONE ? 1 : 0,
	    NULL, 0, SB_SCOPE_UNIX | SB_SCOPE_SIGNAL);
}
