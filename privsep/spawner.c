/*
 * The spawner: the process that starts the sessions' stdio MCP servers.
 * The parent forks and re-executes it before it sandboxes itself, since
 * what the parent starts afterwards can only be narrower than the
 * parent's own sandbox, and a server must run as another user in
 * namespaces of its own.  So the spawner stays root and unchrooted (it
 * executes servers' programs), holds nothing of the parent's (a fresh
 * exec: no CA key, no store), talks only to the parent over its channel,
 * and dies with the parent (PR_SET_PDEATHSIG).
 *
 * Its seccomp table cannot be an allow-list: every filter it loads binds
 * the servers it starts, which run programs nobody has listed.  It kills
 * instead on the calls that neither it nor any server may make, and each
 * server adds its own deny-list (server_sandbox.c).
 *
 * Per server: a child in a new PID namespace (and network namespace for
 * network: none) becomes the namespace's init.  It applies the server's
 * sandbox to itself, forks the server, forwards SIGTERM to it, reaps
 * whatever the namespace leaves, and when the server exits writes its
 * wait status to the spawner and exits, which kills every process left
 * in the namespace, setsid'd and double-forked ones included.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "privsep.h"

#define SPAWNER_EXEC_WAIT_MS	10000	/* set-up and exec, at most */
#define SPAWNER_CG_RETRY_MS	20	/* a busy cgroup, tried again */
#define SPAWNER_CG_TRIES	50	/* that many times, then left */
#define SPAWNER_MAXGROUPS	256

/* What nothing the spawner starts may do either: the process dies. */
static const int spawner_killed[] = {
	SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module),
	SCMP_SYS(finit_module),
	SCMP_SYS(delete_module),
	SCMP_SYS(reboot),
	SCMP_SYS(swapon),
	SCMP_SYS(swapoff),
	SCMP_SYS(acct),
	SCMP_SYS(iopl),
	SCMP_SYS(ioperm),
	SCMP_SYS(pivot_root),
	SCMP_SYS(mount),
	SCMP_SYS(umount2),
	SCMP_SYS(fsopen),
	SCMP_SYS(fsconfig),
	SCMP_SYS(fsmount),
	SCMP_SYS(fspick),
	SCMP_SYS(move_mount),
	SCMP_SYS(open_tree),
	SCMP_SYS(mount_setattr),
	SCMP_SYS(open_by_handle_at),
	SCMP_SYS(lookup_dcookie),
	SCMP_SYS(quotactl),
	SCMP_SYS(sethostname),
	SCMP_SYS(setdomainname),
	SCMP_SYS(vhangup),
};

struct server {
	TAILQ_ENTRY(server)	 entry;
	uint32_t		 id;		/* the parent's */
	pid_t			 init;		/* host pid */
	int			 statusfd;	/* its wait status */
	int			 stopping;
	int			 killed;
	int			 cgroup;	/* it has cgroups */
	char			 app[RES_NAMELEN];
	struct ev_timer		 term;
	struct ev_timer		 kill;
};

/* A server's cgroups, once it is reaped, until the kernel lets go. */
struct cgroup_gone {
	TAILQ_ENTRY(cgroup_gone) entry;
	uint32_t		 id;
	char			 app[RES_NAMELEN];
	int			 tries;
	struct ev_timer		 retry;
};

/* Who the servers run as, looked up before the clone. */
struct spawn_creds {
	uid_t		 uid;
	gid_t		 gid;
	gid_t		 groups[SPAWNER_MAXGROUPS];
	int		 ngroups;
	char		 home[PATH_MAX];
	char		 user[RES_NAMELEN];
};

static struct imsgbuf			 spawner_ibuf;
static struct event			 spawner_ev;
static struct event			 spawner_sigev;
static TAILQ_HEAD(, server)		 servers =
    TAILQ_HEAD_INITIALIZER(servers);
static size_t				 nservers;
static TAILQ_HEAD(, cgroup_gone)	 cgroups_gone =
    TAILQ_HEAD_INITIALIZER(cgroups_gone);
static struct cgroup_host		 spawner_cg;
static int				 pending[3] = { -1, -1, -1 };
static uint32_t				 pending_id;
static int				 spawner_root;
static volatile sig_atomic_t		 init_server_pid;

static void	 spawner_dispatch(int, short, void *);
static void	 spawner_cgroup_check(const struct spawn_spec *);
static void	 spawner_cgroup_remove(const char *, uint32_t);

static void
spawner_events(void)
{
	if (ev_add(&spawner_ev, EV_READ |
	    (imsgbuf_queuelen(&spawner_ibuf) > 0 ? EV_WRITE : 0)) == -1)
		fatal("ev_add");
}

static void
spawner_send(uint32_t type, uint32_t id, const void *data, size_t len)
{
	if (imsg_compose(&spawner_ibuf, type, id, 0, -1, data, len) == -1)
		fatal("%s: %s", __func__, imsg_type_name(type));
	spawner_events();
}

/* Lines go to the parent, which logs them as the spawner's. */
static void
spawner_log_forward(int pri, const char *msg)
{
	struct log_line	 ll;

	memset(&ll, 0, sizeof(ll));
	ll.pri = pri;
	strlcpy(ll.msg, msg, sizeof(ll.msg));
	if (imsg_compose(&spawner_ibuf, IMSG_LOG, 0, 0, -1, &ll,
	    sizeof(ll)) == -1)
		return;
	if (pri <= LOG_CRIT)
		(void)imsgbuf_flush(&spawner_ibuf);
	else if (spawner_ev.cb != NULL)
		spawner_events();
}

static void
spawner_fail(uint32_t id, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
spawner_fail(uint32_t id, const char *fmt, ...)
{
	struct spawn_failed	 f;
	va_list			 ap;

	memset(&f, 0, sizeof(f));
	va_start(ap, fmt);
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	va_end(ap);
	spawner_send(IMSG_SPAWN_FAILED, id, &f, sizeof(f));
}

/*
 * The spawner's own filter, which every server inherits: default allow,
 * and death for what neither it nor a server may do.  Before it, no new
 * privileges (root can still change users; nothing gains by exec) and
 * no core file or ptrace of the spawner by anyone but root.
 */
void
spawner_sandbox_enter(void)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("spawner: PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("spawner: PR_SET_DUMPABLE");
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		fatalx("spawner: seccomp_init failed");
	for (i = 0; i < sizeof(spawner_killed) / sizeof(spawner_killed[0]);
	    i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
		    spawner_killed[i], 0)) != 0)
			fatalx("spawner: seccomp rule: %s", strerror(-r));
	if ((r = seccomp_load(ctx)) != 0)
		fatalx("spawner: seccomp_load: %s", strerror(-r));
	seccomp_release(ctx);
}

static struct server *
server_find(uint32_t id)
{
	struct server	*s;

	TAILQ_FOREACH(s, &servers, entry)
		if (s->id == id)
			return (s);
	return (NULL);
}

/* In the init: SIGTERM and its kind go to the server. */
static void
init_forward(int sig)
{
	if (init_server_pid > 0)
		kill(init_server_pid, sig);
}

/* In the init: a sentence for the spawner, then the end. */
static void __attribute__((noreturn))
init_fail(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
init_fail(int fd, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1;
	if (n > 0 && write(fd, msg, (size_t)n) == -1)
		_exit(126);
	_exit(126);
}

/* The init's descriptors, on fixed numbers once it starts. */
#define INIT_STDIN	3
#define INIT_STDOUT	4
#define INIT_STDERR	5
#define INIT_REPORT	6	/* set-up and exec errors, to the spawner */
#define INIT_STATUS	7	/* the server's wait status, to it */
#define INIT_SYNC	8	/* the spawner's go */
#define INIT_NFDS	6

/* A default variable, unless the app sets one of that name. */
static void
init_env_default(char **envp, size_t *n, const struct spawn_spec *sp,
    char *var)
{
	size_t	 i, len = strcspn(var, "=") + 1;

	for (i = 0; i < sp->req.nenv; i++)
		if (strncmp(sp->env[i], var, len) == 0)
			return;
	envp[(*n)++] = var;
}

static void __attribute__((noreturn))
init_exec_server(const struct spawn_spec *sp, const struct spawn_creds *cr)
{
	struct sigaction	 sa;
	sigset_t		 none;
	char			*envp[RES_MAXLIST + 8];
	char			 path[] =
	    "PATH=/usr/local/bin:/usr/bin:/bin";
	char			 home[PATH_MAX + 8], user[RES_NAMELEN + 8];
	char			 logname[RES_NAMELEN + 16];
	const char		*lang;
	char			 langv[128];
	size_t			 n = 0, i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (dup2(INIT_STDIN, STDIN_FILENO) == -1 ||
	    dup2(INIT_STDOUT, STDOUT_FILENO) == -1 ||
	    dup2(INIT_STDERR, STDERR_FILENO) == -1)
		init_fail(INIT_REPORT, "dup2: %s", strerror(errno));
	/* The report pipe closes at exec, which tells that it worked. */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		init_fail(INIT_REPORT, "close_range: %s", strerror(errno));

	/* The app's variables, then the defaults it does not set. */
	for (i = 0; i < sp->req.nenv; i++)
		envp[n++] = sp->env[i];
	snprintf(home, sizeof(home), "HOME=%s", cr->home);
	snprintf(user, sizeof(user), "USER=%s", cr->user);
	snprintf(logname, sizeof(logname), "LOGNAME=%s", cr->user);
	lang = getenv("LANG");
	snprintf(langv, sizeof(langv), "LANG=%s",
	    lang != NULL && strlen(lang) < 64 ? lang : "C.UTF-8");
	init_env_default(envp, &n, sp, path);
	init_env_default(envp, &n, sp, home);
	init_env_default(envp, &n, sp, user);
	init_env_default(envp, &n, sp, logname);
	init_env_default(envp, &n, sp, langv);
	envp[n] = NULL;
	execve(sp->command, sp->args, envp);
	init_fail(INIT_REPORT, "exec %s: %s", sp->command, strerror(errno));
}

/*
 * The namespace's init, as root (or the daemon's user) until it becomes
 * the server's user.  Order: wait for the spawner's go (it writes the
 * user namespace's maps first when not root), loopback, limits, user,
 * parent-death signal (the user switch clears it), directory, Landlock,
 * no_new_privs, seccomp; then the server.
 */
static void __attribute__((noreturn))
init_main(const struct spawn_spec *sp, const struct spawn_creds *cr,
    int fds[INIT_NFDS])
{
	struct sigaction	 sa;
	sigset_t		 none;
	char			 err[256], c;
	pid_t			 pid, w;
	int			 i, status, tmp[INIT_NFDS];

	/* Its descriptors on 3..8, everything else of the spawner shut. */
	for (i = 0; i < INIT_NFDS; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64)) == -1)
			_exit(126);
	for (i = 0; i < INIT_NFDS; i++)
		if (dup3(tmp[i], INIT_STDIN + i, O_CLOEXEC) == -1)
			_exit(126);
	if (syscall(SYS_close_range, INIT_STDIN + INIT_NFDS, ~0U, 0) == -1)
		for (i = INIT_STDIN + INIT_NFDS; i < 1024; i++)
			close(i);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_NAME, "mcpgate-init", 0, 0, 0);
	setproctitle("init of %s", sp->req.app);
	/*
	 * Without root, the spawner writes this process's user namespace
	 * maps, which /proc lets it do only while it is dumpable.
	 */
	if (!spawner_root && (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1 ||
	    write(INIT_STATUS, "r", 1) != 1))
		_exit(126);
	if (read(INIT_SYNC, &c, 1) != 1)
		_exit(126);
	close(INIT_SYNC);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	if (sp->req.network == APP_NET_NONE &&
	    server_sandbox_loopback(err, sizeof(err)) == -1)
		init_fail(INIT_REPORT, "%s", err);
	server_sandbox_rlimits();
	if (spawner_root) {
		if (setgroups((size_t)cr->ngroups, cr->groups) == -1 ||
		    setresgid(cr->gid, cr->gid, cr->gid) == -1 ||
		    setresuid(cr->uid, cr->uid, cr->uid) == -1)
			init_fail(INIT_REPORT, "cannot become %s: %s",
			    cr->user, strerror(errno));
		if (setuid(0) != -1)
			init_fail(INIT_REPORT, "privileges not dropped");
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		init_fail(INIT_REPORT, "PR_SET_PDEATHSIG: %s",
		    strerror(errno));
	if (sp->cwd != NULL) {
		if (chdir(sp->cwd) == -1)
			init_fail(INIT_REPORT, "cwd %s: %s", sp->cwd,
			    strerror(errno));
	} else if (chdir(cr->home) == -1 && chdir("/") == -1)
		init_fail(INIT_REPORT, "chdir /: %s", strerror(errno));
	if (server_sandbox_landlock(sp, err, sizeof(err)) == -1)
		init_fail(INIT_REPORT, "%s", err);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		init_fail(INIT_REPORT, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
	if (server_sandbox_seccomp(err, sizeof(err)) == -1)
		init_fail(INIT_REPORT, "%s", err);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = init_forward;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	switch (pid = fork()) {
	case -1:
		init_fail(INIT_REPORT, "fork: %s", strerror(errno));
	case 0:
		init_exec_server(sp, cr);
	default:
		break;
	}
	init_server_pid = pid;
	close(INIT_STDIN);
	close(INIT_STDOUT);
	close(INIT_STDERR);
	close(INIT_REPORT);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		if ((w = waitpid(-1, &status, 0)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(125);
		}
		if (w != pid)
			continue;
		/* Its end is the namespace's: the kernel kills the rest. */
		if (write(INIT_STATUS, &status, sizeof(status)) == -1)
			_exit(124);
		_exit(0);
	}
}

/* The user, its groups and home, as the configuration names it. */
static int
spawner_creds(const char *name, struct spawn_creds *cr, char *err,
    size_t errlen)
{
	struct passwd	*pw;
	int		 n = SPAWNER_MAXGROUPS;

	memset(cr, 0, sizeof(*cr));
	if (!spawner_root) {
		/* A developer's daemon: servers run as its user. */
		if ((pw = getpwuid(getuid())) == NULL) {
			snprintf(err, errlen, "who is uid %u?",
			    (unsigned)getuid());
			return (-1);
		}
		cr->uid = pw->pw_uid;
		cr->gid = pw->pw_gid;
	} else {
		if (name[0] == '\0') {
			snprintf(err, errlen, "the app has no run_as user");
			return (-1);
		}
		errno = 0;
		if ((pw = getpwnam(name)) == NULL) {
			snprintf(err, errlen, "run_as user %s does not exist",
			    name);
			return (-1);
		}
		if (pw->pw_uid == 0 || pw->pw_gid == 0) {
			snprintf(err, errlen, "run_as user %s is root; a "
			    "server never runs as root", name);
			return (-1);
		}
		cr->uid = pw->pw_uid;
		cr->gid = pw->pw_gid;
		if (getgrouplist(pw->pw_name, pw->pw_gid, cr->groups,
		    &n) == -1) {
			snprintf(err, errlen, "run_as user %s is in more than "
			    "%d groups", name, SPAWNER_MAXGROUPS);
			return (-1);
		}
		cr->ngroups = n;
	}
	strlcpy(cr->user, pw->pw_name, sizeof(cr->user));
	strlcpy(cr->home, pw->pw_dir, sizeof(cr->home));
	return (0);
}

static int
write_proc(pid_t pid, const char *file, const char *text)
{
	char	 path[64];
	int	 fd, ok;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return (ok ? 0 : -1);
}

/* The server, as the host sees it: the init's child. */
static pid_t
server_host_pid(pid_t init)
{
	char	 path[64], buf[64];
	ssize_t	 n;
	long	 pid;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)init,
	    (int)init);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (init);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (init);
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return (pid > 0 ? (pid_t)pid : init);
}

/*
 * Read the init's report until it closes it: nothing means the server
 * was executed.  The set-up takes milliseconds; a bound keeps the
 * spawner from waiting for ever.
 */
static int
spawner_report(int fd, char *msg, size_t msglen)
{
	struct pollfd	 pfd;
	uint64_t	 deadline = ev_now_ms() + SPAWNER_EXEC_WAIT_MS, now;
	size_t		 len = 0;
	ssize_t		 n;

	msg[0] = '\0';
	for (;;) {
		now = ev_now_ms();
		if (now >= deadline) {
			snprintf(msg, msglen, "it did not start within %d s",
			    SPAWNER_EXEC_WAIT_MS / 1000);
			return (-1);
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - now)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(msg, msglen, "poll: %s", strerror(errno));
			return (-1);
		}
		if ((n = read(fd, msg + len, msglen - 1 - len)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(msg, msglen, "read: %s", strerror(errno));
			return (-1);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		msg[len] = '\0';
		if (len == msglen - 1)
			break;
	}
	return (len > 0 ? -1 : 0);
}

static int
spawner_report_ready(int fd)
{
	struct pollfd	 pfd;
	char		 c;

	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, SPAWNER_EXEC_WAIT_MS) != 1 || read(fd, &c, 1) != 1)
		return (-1);
	return (0);
}

static void
close_pending(void)
{
	int	 i;

	for (i = 0; i < 3; i++)
		if (pending[i] != -1) {
			close(pending[i]);
			pending[i] = -1;
		}
}

static void
spawner_start(uint32_t id, const struct spawn_spec *sp)
{
	struct spawn_creds	 cr;
	struct spawn_started	 st;
	struct server		*s;
	char			 msg[256], map[64];
	int			 rep[2], stp[2], syn[2], fds[INIT_NFDS];
	int			 status;
	unsigned long		 flags;
	pid_t			 pid;

	if (nservers >= SPAWNER_MAX_SERVERS) {
		spawner_fail(id, "too many servers (%d)", SPAWNER_MAX_SERVERS);
		return;
	}
	spawner_cgroup_check(sp);
	if (spawner_creds(sp->req.run_as, &cr, msg, sizeof(msg)) == -1) {
		spawner_fail(id, "%s", msg);
		return;
	}
	if (pipe2(rep, O_CLOEXEC) == -1) {
		spawner_fail(id, "pipe: %s", strerror(errno));
		return;
	}
	if (pipe2(stp, O_CLOEXEC) == -1) {
		spawner_fail(id, "pipe: %s", strerror(errno));
		close(rep[0]);
		close(rep[1]);
		return;
	}
	if (pipe2(syn, O_CLOEXEC) == -1) {
		spawner_fail(id, "pipe: %s", strerror(errno));
		close(rep[0]);
		close(rep[1]);
		close(stp[0]);
		close(stp[1]);
		return;
	}
	flags = CLONE_NEWPID | SIGCHLD;
	if (sp->req.network == APP_NET_NONE)
		flags |= CLONE_NEWNET;
	if (!spawner_root)
		flags |= CLONE_NEWUSER;
	fds[0] = pending[SPAWN_FD_STDIN];
	fds[1] = pending[SPAWN_FD_STDOUT];
	fds[2] = pending[SPAWN_FD_STDERR];
	fds[3] = rep[1];
	fds[4] = stp[1];
	fds[5] = syn[0];
	/* A fork into new namespaces; single-threaded, so a raw clone. */
	pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid == 0)
		init_main(sp, &cr, fds);
	close(rep[1]);
	close(stp[1]);
	close(syn[0]);
	if (pid == -1) {
		spawner_fail(id, "cannot make its namespaces: %s",
		    strerror(errno));
		close(rep[0]);
		close(stp[0]);
		close(syn[1]);
		return;
	}
	/* Once it is ready for them: its ready byte on the status pipe. */
	if (!spawner_root && spawner_report_ready(stp[0]) == 0) {
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)getuid(),
		    (unsigned)getuid());
		if (write_proc(pid, "uid_map", map) == -1 ||
		    write_proc(pid, "setgroups", "deny") == -1)
			log_warn("user namespace of %s", sp->req.app);
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)getgid(),
		    (unsigned)getgid());
		if (write_proc(pid, "gid_map", map) == -1)
			log_warn("user namespace of %s", sp->req.app);
	}
	/*
	 * Its cgroups before the go: the init and all it starts are in
	 * them from its first instruction of its own.  Limits asked for
	 * and not applied: nothing runs.
	 */
	if (cgroup_server_add(&spawner_cg, sp->req.app, id,
	    sp->req.memory_max, sp->req.tasks_max, pid, msg,
	    sizeof(msg)) == -1) {
		close(syn[1]);
		close(rep[0]);
		close(stp[0]);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		spawner_cgroup_remove(sp->req.app, id);
		spawner_fail(id, "%s", msg);
		return;
	}
	if (write(syn[1], "g", 1) != 1)
		log_warn("%s: go", sp->req.app);
	close(syn[1]);
	if (spawner_report(rep[0], msg, sizeof(msg)) == -1) {
		close(rep[0]);
		close(stp[0]);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		spawner_cgroup_remove(sp->req.app, id);
		spawner_fail(id, "%s", msg);
		return;
	}
	close(rep[0]);
	if (fcntl(stp[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("%s", __func__);
	s->id = id;
	s->init = pid;
	s->statusfd = stp[0];
	s->cgroup = spawner_cg.mode != CGROUP_NONE &&
	    (sp->req.memory_max > 0 || sp->req.tasks_max > 0);
	strlcpy(s->app, sp->req.app, sizeof(s->app));
	TAILQ_INSERT_TAIL(&servers, s, entry);
	nservers++;
	memset(&st, 0, sizeof(st));
	st.init = pid;
	st.pid = server_host_pid(pid);
	spawner_send(IMSG_SPAWN_STARTED, id, &st, sizeof(st));
}

static void
server_term(void *arg)
{
	struct server	*s = arg;

	kill(s->init, SIGTERM);		/* the init passes it on */
}

static void
server_kill(void *arg)
{
	struct server	*s = arg;

	s->killed = 1;
	kill(s->init, SIGKILL);		/* and with it the namespace */
}

static void
spawner_stop(uint32_t id)
{
	struct server	*s;

	/* It may have ended on its own, its EXITED on the way. */
	if ((s = server_find(id)) == NULL || s->stopping)
		return;
	s->stopping = 1;
	ev_timer_set(&s->term, server_term, s);
	ev_timer_set(&s->kill, server_kill, s);
	ev_timer_add(&s->term, APP_TERM_MS);
	ev_timer_add(&s->kill, APP_KILL_MS);
}

static void
server_free(struct server *s)
{
	ev_timer_del(&s->term);
	ev_timer_del(&s->kill);
	close(s->statusfd);
	TAILQ_REMOVE(&servers, s, entry);
	nservers--;
	free(s);
}

/* An init ended: the server's status if it said it, else the init's. */
static void
spawner_reap(void)
{
	struct spawn_exited	 ex;
	struct server		*s;
	int			 status, sstatus;
	pid_t			 pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(s, &servers, entry)
			if (s->init == pid)
				break;
		if (s == NULL)
			continue;
		memset(&ex, 0, sizeof(ex));
		if (read(s->statusfd, &sstatus, sizeof(sstatus)) ==
		    sizeof(sstatus)) {
			ex.status = sstatus;
			ex.killed = 0;
		} else {
			ex.status = status;
			ex.killed = s->killed || (WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL);
		}
		if (s->cgroup) {
			ex.oom_kills = (uint32_t)cgroup_server_oom(&spawner_cg,
			    s->app, s->id);
			spawner_cgroup_remove(s->app, s->id);
		}
		spawner_send(IMSG_SPAWN_EXITED, s->id, &ex, sizeof(ex));
		server_free(s);
	}
}

static void
spawner_signal(int fd, short events, void *arg)
{
	struct signalfd_siginfo	 si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	spawner_reap();
}

/*
 * The parent closed the channel (it stops) or died: every server is
 * killed with its namespace and reaped before the spawner exits, and
 * the parent waits for that.
 */
static void __attribute__((noreturn))
spawner_end(int status)
{
	struct server		*s;
	struct cgroup_gone	*g, *next;
	int			 st, i;

	TAILQ_FOREACH(s, &servers, entry)
		kill(s->init, SIGKILL);
	while ((s = TAILQ_FIRST(&servers)) != NULL) {
		while (waitpid(s->init, &st, 0) == -1 && errno == EINTR)
			;
		if (s->cgroup)
			spawner_cgroup_remove(s->app, s->id);
		server_free(s);
	}
	/* The cgroups the kernel still held, a bounded while longer. */
	for (i = 0; i < SPAWNER_CG_TRIES && !TAILQ_EMPTY(&cgroups_gone);
	    i++) {
		usleep(SPAWNER_CG_RETRY_MS * 1000);
		for (g = TAILQ_FIRST(&cgroups_gone); g != NULL; g = next) {
			next = TAILQ_NEXT(g, entry);
			if (cgroup_server_remove(&spawner_cg, g->app,
			    g->id) == 1)
				continue;
			ev_timer_del(&g->retry);
			TAILQ_REMOVE(&cgroups_gone, g, entry);
			free(g);
		}
	}
	cgroup_end(&spawner_cg);
	exit(status);
}

static void __attribute__((noreturn))
spawner_bad(struct imsg *imsg, const char *why)
{
	log_warnx("bad message %s (%zu bytes) from the parent: %s",
	    imsg_type_name(imsg_get_type(imsg)), imsg_get_len(imsg), why);
	spawner_end(1);
}

static void
spawner_dispatch(int fd, short events, void *arg)
{
	struct imsg		 imsg;
	struct spawn_fd		 sf;
	struct spawn_spec	 sp;
	const void		*data;
	char			 err[128];
	size_t			 len;
	ssize_t			 n;
	int			 rfd;

	(void)fd;
	(void)arg;
	if (events & EV_READ) {
		if ((n = imsgbuf_read(&spawner_ibuf)) == -1 && errno != EAGAIN)
			spawner_end(1);
		if (n == 0)
			spawner_end(0);
	}
	if ((events & EV_WRITE) && imsgbuf_write(&spawner_ibuf) == -1)
		spawner_end(1);
	for (;;) {
		if ((n = imsgbuf_get(&spawner_ibuf, &imsg)) == -1) {
			log_warnx("malformed message from the parent");
			spawner_end(1);
		}
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_SPAWN_FD:
			if (imsg_get_data(&imsg, &sf, sizeof(sf)) == -1)
				spawner_bad(&imsg, "size");
			rfd = imsg_get_fd(&imsg);
			if (rfd == -1 || sf.which < 0 || sf.which > 2 ||
			    pending[sf.which] != -1 ||
			    (sf.which > 0 &&
			    pending_id != imsg_get_id(&imsg))) {
				if (rfd != -1)
					close(rfd);
				spawner_bad(&imsg, "out of order");
			}
			pending[sf.which] = rfd;
			pending_id = imsg_get_id(&imsg);
			break;
		case IMSG_SPAWN_START:
			if (imsg_get_buf(&imsg, &data, &len) == -1 ||
			    pending[0] == -1 || pending[1] == -1 ||
			    pending[2] == -1 ||
			    pending_id != imsg_get_id(&imsg) ||
			    server_find(imsg_get_id(&imsg)) != NULL)
				spawner_bad(&imsg, "out of order");
			if (spawn_spec_parse(&sp, data, len, err,
			    sizeof(err)) == -1)
				spawner_bad(&imsg, err);
			spawner_start(imsg_get_id(&imsg), &sp);
			spawn_spec_free(&sp);
			close_pending();
			break;
		case IMSG_SPAWN_STOP:
			if (imsg_get_len(&imsg) != 0)
				spawner_bad(&imsg, "size");
			spawner_stop(imsg_get_id(&imsg));
			break;
		default:
			spawner_bad(&imsg, "unexpected");
		}
		imsg_free(&imsg);
	}
	spawner_events();
}

/*
 * Without cgroups (none writable, or not root), say once, when an app
 * asks for limits, that they are not enforced and why.
 */
static void
spawner_cgroup_check(const struct spawn_spec *sp)
{
	static int	 warned;

	if (warned || spawner_cg.mode != CGROUP_NONE ||
	    (sp->req.memory_max == 0 && sp->req.tasks_max == 0))
		return;
	warned = 1;
	log_warnx("app %s: memory_max and tasks_max are not enforced (%s)",
	    sp->req.app, spawner_cg.why);
}

static void
cgroup_gone_retry(void *arg)
{
	struct cgroup_gone	*g = arg;
	int			 r;

	if ((r = cgroup_server_remove(&spawner_cg, g->app, g->id)) == 1 &&
	    ++g->tries < SPAWNER_CG_TRIES) {
		ev_timer_add(&g->retry, SPAWNER_CG_RETRY_MS);
		return;
	}
	if (r == 1)
		log_warnx("app %s: the cgroup of server %u is still busy "
		    "after %d ms; left", g->app, g->id,
		    SPAWNER_CG_TRIES * SPAWNER_CG_RETRY_MS);
	TAILQ_REMOVE(&cgroups_gone, g, entry);
	free(g);
}

/*
 * A server's cgroups, its init reaped: the kernel may still be letting
 * go of its last tasks, so a busy one is tried again shortly.
 */
static void
spawner_cgroup_remove(const char *app, uint32_t id)
{
	struct cgroup_gone	*g;

	if (cgroup_server_remove(&spawner_cg, app, id) != 1)
		return;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	g->id = id;
	strlcpy(g->app, app, sizeof(g->app));
	ev_timer_set(&g->retry, cgroup_gone_retry, g);
	ev_timer_add(&g->retry, SPAWNER_CG_RETRY_MS);
	TAILQ_INSERT_TAIL(&cgroups_gone, g, entry);
}

void
spawner_main(int foreground, int verbose)
{
	struct sigaction	 sa;
	sigset_t		 mask;
	int			 sfd;

	log_init(foreground, LOG_DAEMON);
	log_procinit("spawner");
	log_setlevel(verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	setproctitle("spawner");
	prctl(PR_SET_NAME, "mcpgated-spawner", 0, 0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("PR_SET_PDEATHSIG");
	spawner_root = geteuid() == 0;
	if (imsgbuf_init(&spawner_ibuf, PROC_PARENT_FD) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&spawner_ibuf);
	imsgbuf_set_maxmsg(&spawner_ibuf, SPAWN_REQ_MAX + 1024);
	log_setforward(spawner_log_forward);

	/* The terminal's signals are the parent's to handle. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	if (ev_init() == -1)
		fatal("ev_init");
	ev_set(&spawner_sigev, sfd, spawner_signal, NULL);
	if (ev_add(&spawner_sigev, EV_READ) == -1)
		fatal("ev_add");
	ev_set(&spawner_ev, PROC_PARENT_FD, spawner_dispatch, NULL);
	spawner_events();

	spawner_sandbox_enter();
	cgroup_init(&spawner_cg, spawner_root);
	if (!spawner_root)
		log_warnx("not running as root: servers run as this user, "
		    "in a user namespace");
	if (ev_dispatch() == -1)
		fatal("event loop");
	exit(0);
}
