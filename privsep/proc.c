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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

extern char	**environ;

pid_t
proc_start(struct parent *p, enum proc_id id, int chan)
{
	sigset_t	 none;
	char		*argv[8];
	int		 argc = 0;
	pid_t		 pid;

	argv[argc++] = "mcpgated";
	argv[argc++] = "-P";
	argv[argc++] = (char *)proc_name(id);
	if (p->foreground)
		argv[argc++] = "-d";
	if (p->verbose)
		argv[argc++] = "-v";
	argv[argc] = NULL;

	switch (pid = fork()) {
	case -1:
		fatal("fork %s", proc_name(id));
	case 0:
		break;
	default:
		return (pid);
	}

	/* The child, until exec. */
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

	for (i = PROC_NETD; i < PROC_MAX; i++) {
		c = &p->children[i];
		if (c->pid <= 0)
			continue;
		if (graceful) {
			ev_del(&c->ev);
			close(c->ibuf.fd);
			imsgbuf_clear(&c->ibuf);
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
}

/*
 * A child ended.  Unless the daemon is stopping, that is fatal: say which
 * and how, stop the others, and exit non-zero without writing anything
 * more, so that systemd restarts the whole daemon.
 */
void
proc_reap(struct parent *p)
{
	struct child	*c;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((c = proc_find(p, pid)) == NULL)
			continue;
		c->pid = 0;
		if (p->stopping)
			continue;
		proc_describe(c, status);
		log_warnx("stopping: %s is gone", proc_name(c->id));
		proc_stop_all(p, 0);
		control_cleanup(p->conf.control_socket);
		exit(1);
	}
}
