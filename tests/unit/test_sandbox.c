/*
 * Each process's sandbox, applied in a forked child: the calls the
 * process needs go through, a call outside its list kills it with SIGSYS,
 * Landlock denies files, and the privilege drop is complete.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imsg.h"
#include "sandbox.h"
#include "unit.h"

extern const struct sandbox_policy netd_sandbox, mcpd_sandbox, auditd_sandbox;

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
	char		 buf[8];
	int		 dirfd, fd, dfd;

	(void)arg;
	if ((dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY)) == -1)
		_exit(70);
	common_setup(&c);
	apply(current);
	common_calls(&c);
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

static const struct {
	const struct sandbox_policy	*pol;
	void				(*needed)(const void *);
} procs[] = {
	{ &netd_sandbox, needed_netd },
	{ &mcpd_sandbox, needed_mcpd },
	{ &auditd_sandbox, needed_auditd },
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
			status = in_child(forbidden_call, &f);
			T_ASSERTF(killed_by_sigsys(status), "%s: %s did not "
			    "kill it (status %d)", procs[i].pol->proc,
			    forbidden_names[f], status);
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

static void
remove_tmpdir(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 p[sizeof(tmpdir) + 300];

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
		if (unlink(p) == -1)
			rmdir(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

int
main(void)
{
	t_suite = "sandbox";
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	T_RUN(test_needed_calls_pass);
	T_RUN(test_forbidden_calls_kill);
	T_RUN(test_landlock);
	T_RUN(test_drop_privileges);
	T_RUN(test_check_root);
	remove_tmpdir();
	return (t_done());
}
