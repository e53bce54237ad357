/*
 * Each process's sandbox, applied in a forked child: the calls the
 * process needs go through, a call outside its list kills it with SIGSYS,
 * Landlock denies files, and the privilege drop is complete.  The
 * parent's profile too: what it does while serving works (state writes,
 * the control socket, syslog, stopping children, fork and exec, threads
 * as a password hashing pool starts them), and the rest does not.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/evp.h>

#include "../../privsep/privsep.h"
#include "imsg.h"
#include "sandbox.h"
#include "unit.h"

extern const struct sandbox_policy netd_sandbox, mcpd_sandbox, auditd_sandbox;
extern const struct sandbox_policy resolver_sandbox;
void	 resolver_lookup(const char *, struct dns_answer *);

extern char	**environ;

/* Given to this program by itself, run again under the parent's sandbox. */
#define EXEC_OK_FLAG	"--exec-ok"

static char	 tmpdir[] = "/tmp/mgsandbox.XXXXXX";

/* Run fn in a child; return its wait status. */
static int
in_child(void (*fn)(const void *), const void *arg)
{
	pid_t	 pid;
	int	 status;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		fn(arg);
		_exit(0);	/* no atexit work: it could need more calls */
	}
	if (waitpid(pid, &status, 0) == -1)
		return (-1);
	return (status);
}

static int
killed_by_sigsys(int status)
{
	return (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}

static void
apply(const struct sandbox_policy *pol)
{
	if (sandbox_seccomp(pol) == -1)
		_exit(90);
}

/* What every child does: imsg with a descriptor, epoll, time, memory. */
struct common {
	struct imsgbuf	 a, b;
	int		 sp[2], pp[2], ep;
};

/* The set-up a process does before it sandboxes itself. */
static void
common_setup(struct common *c)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, c->sp) == -1 ||
	    pipe(c->pp) == -1 || (c->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		_exit(91);
	if (imsgbuf_init(&c->a, c->sp[0]) == -1 ||
	    imsgbuf_init(&c->b, c->sp[1]) == -1)
		_exit(92);
	imsgbuf_allow_fdpass(&c->a);
	imsgbuf_allow_fdpass(&c->b);
}

/* After the table is loaded: only what it allows works now. */
static void
common_calls(struct common *c)
{
	struct imsg		 imsg;
	struct epoll_event	 ee;
	struct timespec		 ts;
	unsigned char		 rnd[16];
	char			 ch = 'x', *big;
	int			 fd;

	if (imsg_compose(&c->a, 1, 2, 0, c->pp[1], "hi", 2) != 1 ||
	    imsgbuf_flush(&c->a) == -1 || imsgbuf_read(&c->b) != 1 ||
	    imsgbuf_get(&c->b, &imsg) != 1 ||
	    (fd = imsg_get_fd(&imsg)) == -1 || write(fd, &ch, 1) != 1 ||
	    read(c->pp[0], &ch, 1) != 1)
		_exit(93);
	imsg_free(&imsg);
	close(fd);
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->sp[1], &ee) == -1 ||
	    epoll_wait(c->ep, &ee, 1, 0) == -1)
		_exit(94);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1 ||
	    clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		_exit(95);
	if ((big = malloc(8 * 1024 * 1024)) == NULL)
		_exit(96);
	memset(big, 1, 8 * 1024 * 1024);
	if ((big = realloc(big, 32 * 1024 * 1024)) == NULL)
		_exit(96);
	free(big);
	if (fcntl(c->sp[0], F_GETFL) == -1 || getpid() <= 0 || getppid() <= 0)
		_exit(97);
	imsgbuf_clear(&c->a);
	imsgbuf_clear(&c->b);
	close(c->sp[0]);
	close(c->sp[1]);
}

/* The policy under test, for the children. */
static const struct sandbox_policy *current;

static void
needed_netd(const void *arg)
{
	struct common		 c;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 ls, sp[2], on = 1;

	(void)arg;
	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    listen(ls, 1) == -1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) ==
	    -1)
		_exit(80);
	common_setup(&c);
	apply(current);
	common_calls(&c);
	if (accept4(ls, (struct sockaddr *)&sin, &len, SOCK_NONBLOCK) != -1 ||
	    errno != EAGAIN)
		_exit(81);
	if (getsockname(ls, (struct sockaddr *)&sin, &len) == -1 ||
	    setsockopt(sp[0], SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) ==
	    -1 || shutdown(sp[0], SHUT_RDWR) == -1)
		_exit(82);
}

static void
needed_mcpd(const void *arg)
{
	struct common	 c;

	(void)arg;
	common_setup(&c);
	apply(current);
	common_calls(&c);
}

static void
needed_auditd(const void *arg)
{
	struct common	 c;
	struct dirent	*de;
	DIR		*d;
	struct msghdr	 mh;
	struct iovec	 iov[2];
	char		 buf[8];
	int		 dirfd, fd, dfd, logsp[2];

	(void)arg;
	if ((dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY)) == -1 ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, logsp) == -1)
		_exit(70);
	common_setup(&c);
	apply(current);
	common_calls(&c);
	/* audit.syslog: a record to the socket the parent connected. */
	iov[0].iov_base = "<86>";
	iov[0].iov_len = 4;
	iov[1].iov_base = "{}";
	iov[1].iov_len = 2;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (sendmsg(logsp[0], &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != 6)
		_exit(73);
	close(logsp[0]);
	if ((fd = openat(dirfd, "audit-000000000001.jsonl", O_RDWR | O_CREAT |
	    O_APPEND, 0640)) == -1 || write(fd, "line\n", 5) != 5 ||
	    fdatasync(fd) == -1 || fsync(fd) == -1 ||
	    pread(fd, buf, 4, 0) != 4 || ftruncate(fd, 2) == -1 ||
	    lseek(fd, 0, SEEK_END) != 2)
		_exit(71);
	close(fd);
	if ((dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY)) == -1 ||
	    (d = fdopendir(dfd)) == NULL)
		_exit(72);
	while ((de = readdir(d)) != NULL)
		;
	closedir(d);
}

/*
 * The resolver: getaddrinfo from /etc/hosts, and the calls it makes to
 * ask a name server over UDP (to a loopback port nobody answers on);
 * nscd's AF_UNIX socket fails with EACCES rather than killing it.
 */
static void
needed_resolver(const void *arg)
{
	struct common		 c;
	struct dns_answer	 ans;
	struct sockaddr_in	 sin;
	struct mmsghdr		 mm;
	struct iovec		 iov;
	struct pollfd		 pfd;
	char			 q[32] = "query", buf[64];
	int			 fd, n, on = 1;

	(void)arg;
	resolver_lookup("localhost", &ans);	/* the modules, loaded */
	common_setup(&c);
	apply(current);
	common_calls(&c);
	resolver_lookup("localhost", &ans);
	if (ans.error != 0 || ans.naddrs == 0)
		_exit(70);
	if ((fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC)) == -1 ||
	    read(fd, buf, sizeof(buf)) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		_exit(71);
	close(fd);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(53);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1 || setsockopt(fd, SOL_IP, IP_RECVERR, &on,
	    sizeof(on)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		_exit(72);
	memset(&mm, 0, sizeof(mm));
	iov.iov_base = q;
	iov.iov_len = sizeof(q);
	mm.msg_hdr.msg_iov = &iov;
	mm.msg_hdr.msg_iovlen = 1;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 0) == -1 || sendmmsg(fd, &mm, 1, MSG_NOSIGNAL) ==
	    -1 || ioctl(fd, FIONREAD, &n) == -1)
		_exit(73);
	(void)recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL);
	close(fd);
	if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EACCES ||
	    socket(AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EACCES)
		_exit(74);
}

static const struct {
	const struct sandbox_policy	*pol;
	void				(*needed)(const void *);
} procs[] = {
	{ &netd_sandbox, needed_netd },
	{ &mcpd_sandbox, needed_mcpd },
	{ &auditd_sandbox, needed_auditd },
	{ &resolver_sandbox, needed_resolver },
};

static void
test_needed_calls_pass(void)
{
	size_t	 i;
	int	 status;

	for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		current = procs[i].pol;
		status = in_child(procs[i].needed, NULL);
		T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s: the calls it needs: %s %d", procs[i].pol->proc,
		    WIFSIGNALED(status) ? "killed by signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
	}
}

enum forbidden {
	F_EXECVE,
	F_SOCKET,
	F_PTRACE,
	F_KILL,
	F_SETUID,
	F_MMAP_EXEC,
	F_OPEN,
	F_CONNECT,
	F_FCNTL_DUP,
};

static const char *const forbidden_names[] = {
	"execve", "socket", "ptrace", "kill", "setuid", "mmap(PROT_EXEC)",
	"openat", "connect", "fcntl(F_DUPFD)",
};

static void
forbidden_call(const void *arg)
{
	enum forbidden	 f = *(const enum forbidden *)arg;
	char		*argv[] = { "true", NULL };
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		_exit(60);
	apply(current);
	switch (f) {
	case F_EXECVE:
		execv("/bin/true", argv);
		break;
	case F_SOCKET:
		socket(AF_INET, SOCK_STREAM, 0);
		break;
	case F_PTRACE:
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case F_KILL:
		kill(getppid(), 0);
		break;
	case F_SETUID:
		if (setuid(0) == 0)
			_exit(61);
		break;
	case F_MMAP_EXEC:
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		break;
	case F_OPEN:
		open("/etc/hostname", O_RDONLY);
		break;
	case F_CONNECT:
		connect(sp[0], NULL, 0);
		break;
	case F_FCNTL_DUP:
		fcntl(sp[0], F_DUPFD, 100);
		break;
	}
	_exit(0);
}

static void
test_forbidden_calls_kill(void)
{
	size_t		 i;
	enum forbidden	 f;
	int		 status;

	for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		current = procs[i].pol;
		for (f = F_EXECVE; f <= F_FCNTL_DUP; f++) {
#ifdef MCPGATE_SANITIZE
			/* The sanitizer runtime needs these; see sandbox.c. */
			if (f == F_MMAP_EXEC || f == F_OPEN)
				continue;
#endif
			if (f == F_OPEN && procs[i].pol == &auditd_sandbox)
				continue;	/* it opens its files */
			/* It reads /etc and asks name servers. */
			if ((f == F_OPEN || f == F_SOCKET || f == F_CONNECT) &&
			    procs[i].pol == &resolver_sandbox)
				continue;
			/* It connects to HTTP MCP servers. */
			if ((f == F_SOCKET || f == F_CONNECT) &&
			    procs[i].pol == &netd_sandbox)
				continue;
			status = in_child(forbidden_call, &f);
			T_ASSERTF(killed_by_sigsys(status), "%s: %s did not "
			    "kill it (status %d)", procs[i].pol->proc,
			    forbidden_names[f], status);
		}
	}
}

enum rforbidden {
	RF_OPEN_WRITE,
	RF_PACKET,
	RF_BIND,
	RF_LISTEN,
	RF_IOCTL,
};

static const char *const rforbidden_names[] = {
	"openat for writing", "socket(AF_PACKET)", "bind", "listen",
	"ioctl(TIOCGWINSZ)",
};

static void
resolver_forbidden_call(const void *arg)
{
	enum rforbidden		 f = *(const enum rforbidden *)arg;
	struct sockaddr_in	 sin;
	char			 ws[8];
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		_exit(60);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	apply(current);
	switch (f) {
	case RF_OPEN_WRITE:
		open("/tmp/mgsandbox-resolver", O_WRONLY | O_CREAT, 0600);
		break;
	case RF_PACKET:
		socket(AF_PACKET, SOCK_RAW, 0);
		break;
	case RF_BIND:
		bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		break;
	case RF_LISTEN:
		listen(fd, 1);
		break;
	case RF_IOCTL:
		ioctl(0, TIOCGWINSZ, ws);
		break;
	}
	_exit(0);
}

/*
 * Beyond the calls every child is refused: the two that make network
 * sockets of their own (the resolver, netd for HTTP servers) cannot
 * make any other kind, nor bind or listen on one.
 */
static void
test_resolver_forbidden(void)
{
	const struct sandbox_policy	*pols[] = {
		&resolver_sandbox, &netd_sandbox
	};
	enum rforbidden			 f;
	size_t				 i;
	int				 status;

	for (i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
		current = pols[i];
		for (f = RF_OPEN_WRITE; f <= RF_IOCTL; f++) {
#ifdef MCPGATE_SANITIZE
			/* The sanitizer runtime opens files, asks the tty. */
			if (f == RF_OPEN_WRITE || f == RF_IOCTL)
				continue;
#endif
			status = in_child(resolver_forbidden_call, &f);
			T_ASSERTF(killed_by_sigsys(status), "%s: %s did not "
			    "kill it (status %d)", pols[i]->proc,
			    rforbidden_names[f], status);
		}
	}
}

static void
landlock_none(const void *arg)
{
	(void)arg;
	/* As in sandbox_enter(): without it only root may restrict itself. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(53);
	if (sandbox_landlock(SB_FS_NONE) == -1)
		_exit(50);
	if (open("/etc/hostname", O_RDONLY) != -1 || errno != EACCES)
		_exit(51);
	if (open("/tmp/mgsandbox-landlock", O_WRONLY | O_CREAT, 0600) != -1)
		_exit(52);
}

static void
landlock_dir(const void *arg)
{
	int	 dirfd, fd;

	(void)arg;
	if ((dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY)) == -1)
		_exit(40);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(46);
	if (sandbox_landlock(dirfd) == -1)
		_exit(41);
	if ((fd = openat(dirfd, "inside", O_WRONLY | O_CREAT, 0600)) == -1)
		_exit(42);
	close(fd);
	if (open("/etc/hostname", O_RDONLY) != -1 || errno != EACCES)
		_exit(43);
	if (mkdirat(dirfd, "sub", 0700) != -1 || errno != EACCES)
		_exit(44);
	if (unlinkat(dirfd, "inside", 0) != -1 || errno != EACCES)
		_exit(45);
}

static void
test_landlock(void)
{
	int	 status;

	if (sandbox_landlock_abi() == 0)
		T_SKIP("the kernel has no Landlock");
	status = in_child(landlock_none, NULL);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "netd/mcpd Landlock: status %d", status);
	status = in_child(landlock_dir, NULL);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "auditd Landlock: status %d", status);
}

static void
drop_child(const void *arg)
{
	const struct sandbox_creds	*cr = arg;
	char				 cwd[64];

	if (sandbox_drop(cr) == -1)
		_exit(30);
	if (getuid() != cr->uid || geteuid() != cr->uid ||
	    getgid() != cr->gid || getegid() != cr->gid)
		_exit(31);
	if (getgroups(0, NULL) != 1)
		_exit(32);
	if (setuid(0) != -1 || seteuid(0) != -1)
		_exit(33);
	if (getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, "/") != 0)
		_exit(34);
	if (access("/etc/passwd", F_OK) != -1)
		_exit(35);		/* outside the chroot */
}

static void
test_drop_privileges(void)
{
	struct sandbox_creds	 cr;
	struct passwd		*pw;
	char			 root[sizeof(tmpdir) + 8];
	int			 status;

	if (geteuid() != 0)
		T_SKIP("needs root to chroot and switch users");
	if ((pw = getpwnam("nobody")) == NULL)
		T_SKIP("no user nobody");
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	T_ASSERT(mkdir(root, 0755) == 0 || errno == EEXIST);
	memset(&cr, 0, sizeof(cr));
	cr.drop = 1;
	cr.uid = pw->pw_uid;
	cr.gid = pw->pw_gid;
	strlcpy(cr.root, root, sizeof(cr.root));
	status = in_child(drop_child, &cr);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "sandbox_drop: status %d", status);
}

static void
test_check_root(void)
{
	char	 d[sizeof(tmpdir) + 16], f[sizeof(d) + 8], err[512];

	if (geteuid() != 0)
		T_SKIP("needs root to own the directory");
	snprintf(d, sizeof(d), "%s/chroot", tmpdir);
	T_ASSERT(mkdir(d, 0755) == 0);
	T_ASSERT(sandbox_check_root(d, err, sizeof(err)) == 0);
	T_ASSERT(chmod(d, 0777) == 0);
	T_ASSERT(sandbox_check_root(d, err, sizeof(err)) == -1);
	T_ASSERTF(strstr(err, "writable by nobody else") != NULL, "%s", err);
	T_ASSERT(chmod(d, 0755) == 0);
	snprintf(f, sizeof(f), "%s/x", d);
	T_ASSERT(close(open(f, O_WRONLY | O_CREAT, 0600)) == 0);
	T_ASSERT(sandbox_check_root(d, err, sizeof(err)) == -1);
	T_ASSERTF(strstr(err, "must be empty") != NULL, "%s", err);
	T_ASSERT(sandbox_check_root(f, err, sizeof(err)) == -1);
	T_ASSERT(unlink(f) == 0);
	T_ASSERT(rmdir(d) == 0);
}

/* --- the parent ---------------------------------------------------------- */

/* What a password hashing worker does, and whether it all worked. */
struct pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 go;
	int		 efd;
	int		 ok;
};

static void *
pool_worker(void *arg)
{
	struct pool	*pl = arg;
	uint8_t		 hash[32], salt[16];
	uint64_t	 one = 1;
	size_t		 len = 19 * 1024 * 1024;
	void		*arena;
	int		 ok = 0;

	memset(salt, 7, sizeof(salt));
	pthread_mutex_lock(&pl->lock);
	while (!pl->go)
		pthread_cond_wait(&pl->cond, &pl->lock);
	pthread_mutex_unlock(&pl->lock);
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), 10) == 0 &&
	    (arena = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0)) != MAP_FAILED) {
		memset(arena, 1, len);
		munmap(arena, len);
		ok = argon2id_hash_raw(2, 19456, 1, "password", 8, salt,
		    sizeof(salt), hash, sizeof(hash)) == ARGON2_OK;
	}
	pl->ok = ok;
	if (write(pl->efd, &one, sizeof(one)) != sizeof(one))
		pl->ok = 0;
	return (NULL);
}

/*
 * Threads started once sandboxed, as the parent's password hashing pool
 * starts them: clone3 is refused with ENOSYS and libc falls back to
 * clone; the worker lowers its priority, maps its memory, computes an
 * Argon2id hash and wakes the loop through an eventfd.
 */
static int
parent_threads(void)
{
	struct pool	 pl;
	pthread_t	 t;
	uint64_t	 n;

	memset(&pl, 0, sizeof(pl));
	pthread_mutex_init(&pl.lock, NULL);
	pthread_cond_init(&pl.cond, NULL);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 1)
		return (1);
	if ((pl.efd = eventfd(0, EFD_CLOEXEC)) == -1)
		return (2);
	if (pthread_create(&t, NULL, pool_worker, &pl) != 0)
		return (3);
	pthread_mutex_lock(&pl.lock);
	pl.go = 1;
	pthread_cond_signal(&pl.cond);
	pthread_mutex_unlock(&pl.lock);
	if (read(pl.efd, &n, sizeof(n)) != sizeof(n) ||
	    pthread_join(t, NULL) != 0)
		return (4);
	close(pl.efd);
	return (pl.ok ? 0 : 5);
}

/*
 * A child for the parent to stop, sandboxed by Landlock as netd is when
 * landlock is set.  Should the test fail first, it holds no output of the
 * test's and goes away by itself.
 */
static void
kid_wait(int landlock)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1 || dup2(fd, STDERR_FILENO) == -1)
		_exit(1);
	if (landlock && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    sandbox_landlock(SB_FS_NONE) == -1))
		_exit(1);
	alarm(20);
	pause();
	_exit(0);
}

/*
 * fork, then exec argv[0] (or fd when not -1); the wait status, or -1.
 * A program that has not ended within 30 seconds (the leak check of a
 * sanitizer build waits for ever if its tracer dies) is killed.
 */
static int
parent_run(int fd, char *const argv[])
{
	struct timespec	 ms = { 0, 10 * 1000 * 1000 };
	pid_t		 pid, r;
	int		 status, i;

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		if (fd != -1)
			fexecve(fd, argv, environ);
		else
			execv(argv[0], argv);
		_exit(errno == EACCES ? 42 : 43);
	}
	for (i = 0; i < 3000; i++) {
		if ((r = waitpid(pid, &status, WNOHANG)) == pid)
			return (status);
		if (r == -1)
			return (-1);
		nanosleep(&ms, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return (-1);
}

static int
unix_addr(struct sockaddr_un *sun, const char *name)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	return ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s",
	    tmpdir, name) >= sizeof(sun->sun_path) ? -1 : 0);
}

/*
 * What the parent does while serving, under its seccomp table alone:
 * the children's channels, the control socket, a state write, syslog,
 * stopping a child, signing, fork and exec, threads.
 */
static void
needed_parent(const void *arg)
{
	struct common		 c;
	struct sockaddr_un	 ctl, logaddr;
	struct ucred		 cred;
	struct timespec		 ms = { 0, 1000 * 1000 };
	EVP_MD_CTX		*md;
	EVP_PKEY		*key;
	socklen_t		 len = sizeof(cred);
	unsigned char		 sig[64];
	size_t			 siglen = sizeof(sig);
	char			 path[sizeof(tmpdir) + 32];
	char			 tmp[sizeof(path) + 8];
	char			*data;
	char			*argv[] = { "/bin/true", NULL };
	size_t			 dlen;
	pid_t			 kid;
	int			 ls, cs, as, logs, s, fd, dfd, status;

	(void)arg;
	if (unix_addr(&ctl, "ctl.sock") == -1 ||
	    unix_addr(&logaddr, "log.sock") == -1 ||
	    (ls = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&ctl, sizeof(ctl)) == -1 ||
	    listen(ls, 4) == -1 ||
	    (cs = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(cs, (struct sockaddr *)&ctl, sizeof(ctl)) == -1 ||
	    (logs = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(logs, (struct sockaddr *)&logaddr, sizeof(logaddr)) == -1)
		_exit(20);
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		_exit(21);
	if ((kid = fork()) == -1)
		_exit(22);
	if (kid == 0)
		kid_wait(0);
	common_setup(&c);
	apply(&parent_sandbox);
	common_calls(&c);

	/* mcpgatectl comes in */
	if ((as = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1 || getsockopt(as, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.uid != geteuid() || write(cs, "x\n", 2) != 2 ||
	    read(as, tmp, 2) != 2)
		_exit(23);
	close(as);
	close(cs);
	close(ls);
	if (unlink(ctl.sun_path) == -1)
		_exit(24);

	/* a resource written as the store writes one, read back, deleted */
	snprintf(path, sizeof(path), "%s/user.yaml", tmpdir);
	if (write_file_atomic(path, "kind: user\n", 11, 0600) == -1 ||
	    read_file(path, 1024, &data, &dlen) == -1 || dlen != 11)
		_exit(25);
	free(data);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1 ||
	    fchmod(fd, 0600) == -1 || write(fd, "x", 1) != 1 ||
	    fsync(fd) == -1 || close(fd) == -1 ||
	    rename(tmp, path) == -1 ||
	    (dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    syncfs(dfd) == -1 || fsync(dfd) == -1 || close(dfd) == -1 ||
	    unlink(path) == -1)
		_exit(26);

	/* syslog connects again when syslogd restarted */
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&logaddr, sizeof(logaddr)) == -1 ||
	    send(s, "<30>x", 5, 0) != 5)
		_exit(27);
	close(s);
	close(logs);
	unlink(logaddr.sun_path);

	/* a child stopped and reaped */
	if (kill(kid, SIGTERM) == -1 || waitpid(kid, &status, 0) != kid ||
	    !WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM ||
	    nanosleep(&ms, NULL) == -1)
		_exit(28);

	/* a certificate signed */
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)"tbs",
	    3) != 1)
		_exit(29);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);

	/* a program started; clone3 fails so that libc uses clone */
	status = parent_run(-1, argv);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		_exit(30);
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		_exit(31);
	if ((status = parent_threads()) != 0)
		_exit(31 + status);
}

static void
test_parent_needed_calls_pass(void)
{
	int	 status;

	status = in_child(needed_parent, NULL);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "parent: the calls it needs: %s %d", WIFSIGNALED(status) ?
	    "killed by signal" : "exit", WIFSIGNALED(status) ?
	    WTERMSIG(status) : WEXITSTATUS(status));
}

enum parent_forbidden {
	PFB_SOCKET_INET,
	PFB_SOCKET_NETLINK,
	PFB_BIND,
	PFB_LISTEN,
	PFB_KILL_ALL,
	PFB_KILL_GROUP,
	PFB_SETUID,
	PFB_CHOWN,
	PFB_MOUNT,
	PFB_UNSHARE,
	PFB_CLONE_NEWUSER,
	PFB_SYSINFO,
	PFB_FCNTL_DUP,
	PFB_PTRACE,
	PFB_PRCTL,
	PFB_MMAP_EXEC,
	PFB_MPROTECT_EXEC,
	PFB_MAX
};

static const char *const parent_forbidden_names[] = {
	"socket(AF_INET)", "socket(AF_PACKET)", "bind", "listen",
	"kill(-1)", "kill(-pgid)", "setuid", "chown", "mount",
	"unshare(CLONE_NEWUSER)", "clone(CLONE_NEWUSER)", "sysinfo",
	"fcntl(F_DUPFD)", "ptrace", "prctl", "mmap(PROT_EXEC, anonymous)",
	"mprotect(PROT_EXEC)",
};

static void
parent_forbidden_call(const void *arg)
{
	enum parent_forbidden	 f = *(const enum parent_forbidden *)arg;
	struct sockaddr_un	 sun;
	struct sysinfo		 si;
	pid_t			 pgrp = getpgrp();
	void			*page;
	int			 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 ||
	    unix_addr(&sun, "forbidden.sock") == -1 ||
	    (page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		_exit(60);
	apply(&parent_sandbox);
	switch (f) {
	case PFB_SOCKET_INET:
		socket(AF_INET, SOCK_STREAM, 0);
		break;
	case PFB_SOCKET_NETLINK:
		socket(AF_NETLINK, SOCK_RAW, 0);
		break;
	case PFB_BIND:
		bind(sp[0], (struct sockaddr *)&sun, sizeof(sun));
		break;
	case PFB_LISTEN:
		listen(sp[0], 1);
		break;
	case PFB_KILL_ALL:
		kill(-1, 0);
		break;
	case PFB_KILL_GROUP:
		kill(-pgrp, 0);
		break;
	case PFB_SETUID:
		if (setuid(0) == 0)
			_exit(61);
		break;
	case PFB_CHOWN:
		if (chown(tmpdir, 0, 0) == 0)
			_exit(62);
		break;
	case PFB_MOUNT:
		mount("none", "/nonexistent-mcpgate", "tmpfs", 0, NULL);
		break;
	case PFB_UNSHARE:
		unshare(CLONE_NEWUSER);
		break;
	case PFB_CLONE_NEWUSER:
		if (syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0) ==
		    0)
			_exit(0);
		break;
	case PFB_SYSINFO:
		sysinfo(&si);
		break;
	case PFB_FCNTL_DUP:
		fcntl(sp[0], F_DUPFD, 100);
		break;
	case PFB_PTRACE:
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case PFB_PRCTL:
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		break;
	case PFB_MMAP_EXEC:
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		break;
	case PFB_MPROTECT_EXEC:
		mprotect(page, 4096, PROT_READ | PROT_EXEC);
		break;
	case PFB_MAX:
		break;
	}
	_exit(0);
}

static void
test_parent_forbidden_calls_kill(void)
{
	enum parent_forbidden	 f;
	int			 status;

	for (f = 0; f < PFB_MAX; f++) {
#ifdef MCPGATE_SANITIZE
		/* The sanitizer runtime needs these; see sandbox.c. */
		if (f == PFB_PTRACE || f == PFB_PRCTL || f == PFB_MMAP_EXEC ||
		    f == PFB_MPROTECT_EXEC)
			continue;
#endif
		status = in_child(parent_forbidden_call, &f);
		T_ASSERTF(killed_by_sigsys(status), "parent: %s did not kill "
		    "it (status %d)", parent_forbidden_names[f], status);
	}
}

/* A directory under tmpdir, made or found. */
static void
parent_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/*
 * The whole profile, Landlock included, as main() enters it: the
 * configuration read again after an editor replaced it, state written,
 * the control socket removed, a child with a Landlock domain of its own
 * stopped, its own executable started again through the descriptor the
 * parent holds, threads; and nothing else on the file system.
 */
static void
parent_fs(const void *arg)
{
	static struct parent	 tp;
	struct timespec		 ms = { 0, 1000 * 1000 };
	char			 path[sizeof(tmpdir) + 64];
	char			*argv[] = { "test_sandbox", EXEC_OK_FLAG,
				    NULL };
	char			*argt[] = { "/bin/true", NULL };
	char			*data;
	size_t			 dlen;
	pid_t			 kid, editor;
	int			 fd, status, go[2];

	(void)arg;
	parent_path(tp.conf_path, sizeof(tp.conf_path), "etc/mcpgated.conf");
	parent_path(tp.conf.state_dir, sizeof(tp.conf.state_dir), "state");
	parent_path(tp.conf.control_socket, sizeof(tp.conf.control_socket),
	    "run/ctl.sock");
	if ((tp.self_fd = open("/proc/self/exe", O_PATH | O_CLOEXEC)) == -1 ||
	    pipe(go) == -1)
		_exit(20);
	/* A child with a Landlock domain of its own, as netd has. */
	if ((kid = fork()) == -1)
		_exit(21);
	if (kid == 0)
		kid_wait(1);
	/* An editor that replaces the configuration by a rename. */
	if ((editor = fork()) == -1)
		_exit(22);
	if (editor == 0) {
		char	 next[sizeof(path)];

		close(go[1]);	/* a sandboxed side that died is an EOF */
		if ((fd = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(1);
		alarm(20);
		if (read(go[0], &status, 1) != 1)
			_exit(1);
		parent_path(next, sizeof(next), "etc/mcpgated.conf.new");
		_exit(rename(next, tp.conf_path) == 0 ? 0 : 1);
	}
	nanosleep(&ms, NULL);	/* kid's domain is in place */

	parent_sandbox_enter(&tp);

	if (read_file(tp.conf_path, 1024, &data, &dlen) == -1 ||
	    strcmp(data, "version: v1\n") != 0)
		_exit(23);
	free(data);
	if (write(go[1], "x", 1) != 1 || waitpid(editor, &status, 0) !=
	    editor || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    read_file(tp.conf_path, 1024, &data, &dlen) == -1 ||
	    strcmp(data, "version: v1\n# replaced\n") != 0)
		_exit(24);
	free(data);

	parent_path(path, sizeof(path), "state/ca.crt");
	if (write_file_atomic(path, "crt\n", 4, 0644) == -1 ||
	    read_file(path, 1024, &data, &dlen) == -1 || dlen != 4 ||
	    unlink(path) == -1)
		_exit(25);
	free(data);

	if (unlink(tp.conf.control_socket) == -1)
		_exit(27);
	parent_path(path, sizeof(path), "run/other");
	if (open(path, O_WRONLY | O_CREAT, 0600) != -1 || errno != EACCES)
		_exit(28);
	parent_path(path, sizeof(path), "etc/written");
	if (open(path, O_WRONLY | O_CREAT, 0600) != -1 || errno != EACCES)
		_exit(29);
	parent_path(path, sizeof(path), "outside/secret");
	if (open(path, O_RDONLY) != -1 || errno != EACCES)
		_exit(30);
	if (open("/etc/hostname", O_RDONLY) != -1 || errno != EACCES)
		_exit(31);

	if (kill(kid, SIGTERM) == -1 || waitpid(kid, &status, 0) != kid ||
	    !WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		_exit(32);

	status = parent_run(tp.self_fd, argv);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		_exit(33);
	status = parent_run(-1, argt);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 42)
		_exit(34);
	if ((fd = parent_threads()) != 0)
		_exit(34 + fd);
}

static void
test_parent_landlock(void)
{
	char	 path[sizeof(tmpdir) + 64];
	int	 status, fd;

	if (sandbox_landlock_abi() == 0)
		T_SKIP("the kernel has no Landlock");
	parent_path(path, sizeof(path), "etc");
	T_ASSERT(mkdir(path, 0755) == 0);
	parent_path(path, sizeof(path), "state");
	T_ASSERT(mkdir(path, 0700) == 0);
	parent_path(path, sizeof(path), "run");
	T_ASSERT(mkdir(path, 0755) == 0);
	parent_path(path, sizeof(path), "outside");
	T_ASSERT(mkdir(path, 0755) == 0);
	parent_path(path, sizeof(path), "etc/mcpgated.conf");
	T_ASSERT(write_file_atomic(path, "version: v1\n", 12, 0644) == 0);
	parent_path(path, sizeof(path), "etc/mcpgated.conf.new");
	T_ASSERT(write_file_atomic(path, "version: v1\n# replaced\n", 23,
	    0644) == 0);
	parent_path(path, sizeof(path), "run/ctl.sock");
	T_ASSERT((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1);
	close(fd);
	parent_path(path, sizeof(path), "outside/secret");
	T_ASSERT(write_file_atomic(path, "secret\n", 7, 0600) == 0);
	status = in_child(parent_fs, NULL);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "parent sandbox: %s %d", WIFSIGNALED(status) ? "killed by signal" :
	    "exit", WIFSIGNALED(status) ? WTERMSIG(status) :
	    WEXITSTATUS(status));
}

int
main(int argc, char *argv[])
{
	/* Run again by test_parent_landlock, under the parent's sandbox. */
	if (argc == 2 && strcmp(argv[1], EXEC_OK_FLAG) == 0)
		return (0);
	t_suite = "sandbox";
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	T_RUN(test_needed_calls_pass);
	T_RUN(test_forbidden_calls_kill);
	T_RUN(test_resolver_forbidden);
	T_RUN(test_landlock);
	T_RUN(test_drop_privileges);
	T_RUN(test_check_root);
	T_RUN(test_parent_needed_calls_pass);
	T_RUN(test_parent_forbidden_calls_kill);
	T_RUN(test_parent_landlock);
	t_rmtree(tmpdir);
	return (t_done());
}
