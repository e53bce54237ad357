/*
 * Starting and stopping the children.  Each is a fork and a re-exec of
 * mcpgated itself (fresh address space layout and stack cookies), with
 * its channel to the parent on descriptor 3 and nothing else open.
 */
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "privsep.h"

extern char	**environ;

/*
 * Start a child.  Its standard output and error are a pipe whose reading
 * end goes to *errfd: the parent writes what comes out of it under the
 * child's name, so that a child cannot write to the daemon's standard
 * error, nor pass a line off as another process's.
 */
pid_t
proc_start(struct parent *p, enum proc_id id, int chan, int *errfd)
{
	sigset_t	 none;
	char		*argv[8];
	int		 argc = 0, errpipe[2], devnull;
	pid_t		 pid;

	argv[argc++] = "mcpgated";
	argv[argc++] = "-P";
	argv[argc++] = (char *)proc_name(id);
	if (p->foreground)
		argv[argc++] = "-d";
	if (p->verbose)
		argv[argc++] = "-v";
	argv[argc] = NULL;

	if (pipe2(errpipe, O_CLOEXEC) == -1)
		fatal("pipe for %s", proc_name(id));
	switch (pid = fork()) {
	case -1:
		fatal("fork %s", proc_name(id));
	case 0:
		break;
	default:
		close(errpipe[1]);
		if (fcntl(errpipe[0], F_SETFL, O_NONBLOCK) == -1)
			fatal("fcntl");
		*errfd = errpipe[0];
		return (pid);
	}

	/* The child, until exec; the channel is above 2, as is the pipe. */
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(devnull, STDIN_FILENO) == -1 ||
	    dup2(errpipe[1], STDOUT_FILENO) == -1 ||
	    dup2(errpipe[1], STDERR_FILENO) == -1)
		_exit(127);
	if (chan == PROC_PARENT_FD) {
		if (fcntl(chan, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(chan, PROC_PARENT_FD) == -1)
		_exit(127);
	if (syscall(SYS_close_range, PROC_PARENT_FD + 1, ~0U,
	    CLOSE_RANGE_CLOEXEC) == -1) {
		int	 fd;

		for (fd = PROC_PARENT_FD + 1; fd < 1024; fd++)
			if (fd != p->self_fd)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef MCPGATE_SANITIZE
	{
		/*
		 * LeakSanitizer stops the world with ptrace and threads at
		 * exit, which no child's seccomp table allows: the sandboxed
		 * children run without it.  The parent keeps it.
		 */
		char	 opts[1024];
		char	*old = getenv("ASAN_OPTIONS");

		snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0",
		    old != NULL ? old : "", old != NULL ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
#endif
	fexecve(p->self_fd, argv, environ);
	dprintf(STDERR_FILENO, "mcpgated: exec %s: %s\n", proc_name(id),
	    strerror(errno));
	_exit(127);
}

/* A line of the child's standard output or error, logged as its own. */
static void
proc_stderr_line(void *arg, const char *text)
{
	struct child	*c = arg;

	log_emit_from(proc_name(c->id), LOG_NOTICE, text);
}

/*
 * Read what a child wrote to its standard output or error: returns 0 on
 * EOF or an error (the pipe is then closed), 1 otherwise.
 */
static int
proc_stderr_read(struct child *c)
{
	if (fd_read_lines(c->errfd, c->errbuf, sizeof(c->errbuf), &c->errlen,
	    proc_stderr_line, c))
		return (1);
	ev_del(&c->errev);
	close(c->errfd);
	c->errfd = -1;
	return (0);
}

void
proc_stderr(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	proc_stderr_read(arg);
}

/*
 * A child is gone or going: log what it still had to say, on its channel
 * (its last log lines, before the parent reports how it ended) and on its
 * standard error, without waiting for more.
 */
void
proc_drain(struct child *c)
{
	struct pollfd	 pfd;
	struct imsg	 imsg;
	struct log_line	 ll;
	int		 i;

	for (i = 0; i < 64 && c->ibuf.fd != -1; i++) {
		pfd.fd = c->ibuf.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) != 1 || imsgbuf_read(&c->ibuf) != 1)
			break;
	}
	while (c->ibuf.fd != -1 && imsgbuf_get(&c->ibuf, &imsg) == 1) {
		if (imsg_get_type(&imsg) == IMSG_LOG &&
		    imsg_get_data(&imsg, &ll, sizeof(ll)) == 0 &&
		    ll.pri >= LOG_EMERG && ll.pri <= LOG_DEBUG) {
			ll.msg[sizeof(ll.msg) - 1] = '\0';
			log_emit_from(proc_name(c->id), ll.pri, ll.msg);
		}
		imsg_free(&imsg);
	}
	for (i = 0; i < 256 && c->errfd != -1; i++) {
		pfd.fd = c->errfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) != 1 || proc_stderr_read(c) == 0)
			break;
	}
}

static void
proc_describe(struct child *c, int status)
{
	if (WIFSIGNALED(status))
		log_warnx("%s (pid %d) terminated by signal %d (%s)",
		    proc_name(c->id), (int)c->pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		log_warnx("%s (pid %d) exited with status %d",
		    proc_name(c->id), (int)c->pid, WEXITSTATUS(status));
}

static struct child *
proc_find(struct parent *p, pid_t pid)
{
	int	 i;

	for (i = PROC_NETD; i < PROC_MAX; i++)
		if (p->children[i].pid == pid)
			return (&p->children[i]);
	return (NULL);
}

/*
 * Stop every child still running.  Gracefully, their channels close and
 * they finish their work; otherwise they get SIGTERM at once.  Whatever is
 * left after the deadline is killed.
 */
void
proc_stop_all(struct parent *p, int graceful)
{
	struct child	*c;
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	uint64_t	 deadline;
	pid_t		 pid;
	int		 i, status, left;

	/* The servers first, with the spawner, killed and reaped. */
	spawn_stop_all();
	for (i = PROC_NETD; i < PROC_MAX; i++) {
		c = &p->children[i];
		if (c->pid <= 0)
			continue;
		if (graceful) {
			ev_del(&c->ev);
			close(c->ibuf.fd);
			imsgbuf_clear(&c->ibuf);
			c->ibuf.fd = -1;
		} else
			kill(c->pid, SIGTERM);
	}
	deadline = ev_now_ms() + (graceful ? 3000 : 800);
	for (;;) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if ((c = proc_find(p, pid)) != NULL) {
				if (graceful && (!WIFEXITED(status) ||
				    WEXITSTATUS(status) != 0))
					proc_describe(c, status);
				c->pid = 0;
			}
		for (left = 0, i = PROC_NETD; i < PROC_MAX; i++)
			if (p->children[i].pid > 0)
				left++;
		if (left == 0 || ev_now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	for (i = PROC_NETD; i < PROC_MAX; i++) {
		c = &p->children[i];
		if (c->pid <= 0)
			continue;
		log_warnx("%s (pid %d) did not stop, killing it",
		    proc_name(c->id), (int)c->pid);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
		c->pid = 0;
	}
	/* Their last words. */
	for (i = PROC_NETD; i < PROC_MAX; i++)
		proc_drain(&p->children[i]);
}

/*
 * A child ended.  Unless the daemon is stopping, that is fatal: say which
 * and how, and parent_fatal() stops the others.
 */
void
proc_reap(struct parent *p)
{
	struct child	*c;
	char		 why[64];
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (spawn_reaped(pid, status)) {
			if (!p->stopping)
				parent_fatal("spawner is gone");
			continue;
		}
		if ((c = proc_find(p, pid)) == NULL)
			continue;
		if (p->stopping) {
			c->pid = 0;
			continue;
		}
		proc_drain(c);
		proc_describe(c, status);
		c->pid = 0;
		snprintf(why, sizeof(why), "%s is gone", proc_name(c->id));
		parent_fatal(why);
	}
}
