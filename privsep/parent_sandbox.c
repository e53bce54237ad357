/*
 * The parent's sandbox, entered once it serves: the children run, the
 * listen sockets are handed over, the control socket listens and the
 * store is loaded.  It stays root, but Landlock limits its files to what
 * serving needs (the configuration's directory to read it again, the
 * state directory, the control socket's directory to remove the socket
 * at the end, the directories of the CA files of HTTP apps, and its own
 * executable with what the dynamic loader needs to start it again), and
 * a seccomp allow-list holds the system calls it
 * makes while serving and those it needs to fork and run a program.
 * Whatever it starts afterwards inherits both.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "sandbox.h"

#define PARENT_MAXRULES	64
#define PARENT_CA_RULES	24	/* directories of CA files, at most */

static const struct sandbox_syscall parent_syscalls[] = {
	/* the state directory and the configuration */
	SB_SYSCALL(openat),
	SB_SYSCALL(read),
	SB_SYSCALL(write),
	SB_SYSCALL(close),
	SB_SYSCALL(fsync),
	SB_SYSCALL(syncfs),
	SB_SYSCALL(fchmod),
	SB_SYSCALL(rename),
	SB_SYSCALL(unlink),
	SB_SYSCALL(newfstatat),
	SB_SYSCALL(fstat),
	/* the control socket */
	SB_SYSCALL(accept4),
	SB_SYSCALL(getsockopt),
	SB_SYSCALL(geteuid),
	/* imsg with the children, their standard error */
	SB_SYSCALL(sendmsg),
	SB_SYSCALL(recvmsg),
	SB_SYSCALL(poll),
	/* syslog: /dev/log, connected again if syslogd restarts */
	SB_SYSCALL_ARG(socket, SB_UNIX),
	SB_SYSCALL(connect),
	SB_SYSCALL(sendto),
	/* event loop, signals and time */
	SB_SYSCALL(epoll_wait),
	SB_SYSCALL(epoll_pwait),
	SB_SYSCALL(epoll_ctl),
	SB_SYSCALL(clock_gettime),
	SB_SYSCALL(gettimeofday),
	SB_SYSCALL(clock_nanosleep),
	SB_SYSCALL(rt_sigprocmask),
	SB_SYSCALL(rt_sigreturn),
	SB_SYSCALL(restart_syscall),
	/* the children: stop, wait, fork and execute */
	SB_SYSCALL_ARG(kill, SB_KILL),
	SB_SYSCALL(wait4),
	SB_SYSCALL_ARG(clone, SB_CLONE),
	SB_SYSCALL_ARG(clone3, SB_ENOSYS),
	SB_SYSCALL(pipe2),
	SB_SYSCALL(dup2),
	SB_SYSCALL(close_range),
	SB_SYSCALL(execve),
	SB_SYSCALL(execveat),
	/* what the loader of a program it runs needs */
	SB_SYSCALL(arch_prctl),
	SB_SYSCALL(set_tid_address),
	SB_SYSCALL(set_robust_list),
	SB_SYSCALL(rseq),
	SB_SYSCALL(prlimit64),
	SB_SYSCALL(access),
	SB_SYSCALL(pread64),
	/*
	 * Threads (password hashing): the pool counts the processors
	 * (sysconf, which asks sched_getaffinity when Landlock hides /sys),
	 * the first thread installs the C library's own signal handlers, a
	 * worker lowers its priority and wakes the loop through an eventfd.
	 */
	SB_SYSCALL(rt_sigaction),
	SB_SYSCALL(futex),
	SB_SYSCALL(gettid),
	SB_SYSCALL(setpriority),
	SB_SYSCALL(sched_getaffinity),
	SB_SYSCALL(eventfd2),
	/* memory: Argon2id takes 19 MiB a hash */
	SB_SYSCALL(brk),
	SB_SYSCALL_ARG(mmap, SB_EXECMAP),
	SB_SYSCALL_ARG(mprotect, SB_NOEXEC),
	SB_SYSCALL(munmap),
	SB_SYSCALL(mremap),
	SB_SYSCALL(madvise),
	/* OpenSSL (its fork check), syslog, libc */
	SB_SYSCALL(getrandom),
	SB_SYSCALL(getpid),
	SB_SYSCALL(getppid),
	SB_SYSCALL_ARG(fcntl, SB_FCNTL),
	SB_SYSCALL(exit),
	SB_SYSCALL(exit_group),
#ifdef MCPGATE_SANITIZE
	/* LeakSanitizer, at exit: it lists the threads and stops them */
	SB_SYSCALL(ptrace),
	SB_SYSCALL(getdents),
	SB_SYSCALL(getdents64),
	SB_SYSCALL(lseek),
#endif
};

const struct sandbox_policy parent_sandbox = {
	"parent", parent_syscalls,
	sizeof(parent_syscalls) / sizeof(parent_syscalls[0])
};

struct parent_rules {
	struct sandbox_fsrule	 rule[PARENT_MAXRULES];
	dev_t			 dev[PARENT_MAXRULES];
	ino_t			 ino[PARENT_MAXRULES];
	int			 n;
	int			 failed;
};

/*
 * One rule for the file or directory fd; a second rule for the same one
 * adds its rights to the first.  Takes fd.
 */
static void
rule_add_fd(struct parent_rules *pr, int fd, uint64_t access,
    const char *what)
{
	struct stat	 st;
	int		 i;

	if (fstat(fd, &st) == -1) {
		log_warn("landlock: %s", what);
		close(fd);
		pr->failed = 1;
		return;
	}
	for (i = 0; i < pr->n; i++)
		if (pr->dev[i] == st.st_dev && pr->ino[i] == st.st_ino) {
			pr->rule[i].access |= access;
			close(fd);
			return;
		}
	if (pr->n == PARENT_MAXRULES) {
		log_warnx("landlock: more than %d paths", PARENT_MAXRULES);
		close(fd);
		pr->failed = 1;
		return;
	}
	pr->rule[pr->n].fd = fd;
	pr->rule[pr->n].access = access;
	pr->dev[pr->n] = st.st_dev;
	pr->ino[pr->n] = st.st_ino;
	pr->n++;
}

/*
 * A rule for path.  What must be there makes the start fail without it;
 * what is only useful (a loader's cache) is left out when missing.
 */
static void
rule_add(struct parent_rules *pr, const char *path, uint64_t access,
    int needed)
{
	int	 fd;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		if (needed) {
			log_warn("landlock: %s", path);
			pr->failed = 1;
		} else
			log_debug("landlock: %s: %s, no rule", path,
			    strerror(errno));
		return;
	}
	rule_add_fd(pr, fd, access, path);
}

/* A rule for the directory that holds path. */
static void
rule_add_dir_of(struct parent_rules *pr, const char *path, uint64_t access,
    int needed)
{
	char	 dir[PATH_MAX], *slash;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		log_warnx("landlock: %s: path too long", path);
		pr->failed = 1;
		return;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	rule_add(pr, dir, access, needed);
}

/*
 * The dynamic loader that starts this program again (it must execute it)
 * and the directories of the libraries loaded now (it reads them).
 */
static int
loader_rules(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct parent_rules	*pr = arg;
	const char		*interp;
	int			 i;

	(void)size;
	if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0') {
		for (i = 0; i < info->dlpi_phnum; i++) {
			if (info->dlpi_phdr[i].p_type != PT_INTERP)
				continue;
			interp = (const char *)(info->dlpi_addr +
			    info->dlpi_phdr[i].p_vaddr);
			rule_add(pr, interp, LANDLOCK_ACCESS_FS_EXECUTE |
			    LANDLOCK_ACCESS_FS_READ_FILE, 0);
		}
		return (0);
	}
	if (strchr(info->dlpi_name, '/') != NULL)
		rule_add_dir_of(pr, info->dlpi_name,
		    LANDLOCK_ACCESS_FS_READ_FILE, 0);
	return (0);
}

/*
 * The directories of the CA files that netd's table of HTTP origins
 * takes (httpapp.c), read again at each change: the system's bundle's,
 * and those of each app's tls.ca_file now, as written and as its links
 * resolve.  A CA file of an app created later in another directory
 * cannot be read until the daemon starts again; the log says so.
 */
static void
ca_rule(struct parent_rules *pr, const char *path, int *n)
{
	char	 real[PATH_MAX];

	if (*n >= PARENT_CA_RULES) {
		log_warnx("landlock: more than %d directories of CA files: "
		    "%s left out", PARENT_CA_RULES, path);
		return;
	}
	(*n)++;
	rule_add_dir_of(pr, path, LANDLOCK_ACCESS_FS_READ_FILE, 0);
	if (realpath(path, real) != NULL && strcmp(real, path) != 0)
		rule_add_dir_of(pr, real, LANDLOCK_ACCESS_FS_READ_FILE, 0);
}

static void
ca_rules(struct parent_rules *pr, const struct parent *p)
{
	const struct resources	*l = &p->store.res[RES_APP];
	size_t			 i;
	int			 n = 0;

	ca_rule(pr, HTTP_SYSTEM_CA, &n);
	for (i = 0; i < p->conf.napps; i++)
		if (p->conf.apps[i].remote.ca_file != NULL)
			ca_rule(pr, p->conf.apps[i].remote.ca_file, &n);
	for (i = 0; i < l->n; i++)
		if (l->v[i].u.app.remote.ca_file != NULL)
			ca_rule(pr, l->v[i].u.app.remote.ca_file, &n);
}

/*
 * Landlock for the parent.  Signals stay unscoped: the children have
 * domains of their own, outside the parent's, and it must still be able
 * to stop them.
 */
static int
parent_landlock(const struct parent *p)
{
	struct parent_rules	 pr;
	int			 i, fd, ret;

	memset(&pr, 0, sizeof(pr));
	/* Read again on reload, and editors replace it by a rename. */
	rule_add_dir_of(&pr, p->conf_path, LANDLOCK_ACCESS_FS_READ_FILE, 1);
	rule_add(&pr, p->conf.state_dir, LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_TRUNCATE, 1);
	/* The socket is removed at the end. */
	rule_add_dir_of(&pr, p->conf.control_socket,
	    LANDLOCK_ACCESS_FS_REMOVE_FILE, 1);
	/* Starting a program: itself, its loader, libraries, /dev/null. */
	if ((fd = fcntl(p->self_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("landlock: own executable");
		return (-1);
	}
	rule_add_fd(&pr, fd, LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_READ_FILE, "own executable");
	dl_iterate_phdr(loader_rules, &pr);
	rule_add(&pr, "/etc/ld.so.cache", LANDLOCK_ACCESS_FS_READ_FILE, 0);
	rule_add(&pr, "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE, 0);
	ca_rules(&pr, p);
#ifdef MCPGATE_SANITIZE
	/* The sanitizer runtime reads its maps and, at exit, its threads. */
	rule_add(&pr, "/proc", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR, 0);
#endif
	ret = pr.failed ? -1 : sandbox_landlock_rules(pr.rule, (size_t)pr.n,
	    SB_SCOPE_UNIX);
	for (i = 0; i < pr.n; i++)
		close(pr.rule[i].fd);
	return (ret);
}

/*
 * In order: no_new_privs (needed without root to load the rest, and what
 * the parent starts must not gain privileges either), not dumpable, so
 * that no core file holds the CA key (except in sanitizer builds, where
 * LeakSanitizer's tracer must attach to it at exit), Landlock, and
 * seccomp last.  Any failure is fatal: the parent never serves
 * unsandboxed.
 */
void
parent_sandbox_enter(const struct parent *p)
{
	int	 abi = sandbox_landlock_abi();

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
#ifndef MCPGATE_SANITIZE
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
#endif
	if (parent_landlock(p) == -1)
		fatalx("the parent's landlock failed");
	if (sandbox_seccomp(&parent_sandbox) == -1)
		fatalx("the parent's seccomp filter failed");
	log_debug("sandboxed (Landlock ABI %d, seccomp)", abi);
}
