/*
 * The parent's side of the stdio MCP servers: it starts the spawner
 * (spawner.c) before it sandboxes itself, turns mcpd's request for an
 * app into what the configuration says to run, makes the server's
 * pipes, hands the spawner the server's ends and mcpd the others, logs
 * what the server writes on its standard error (prefixed, rate-limited,
 * its last lines kept for when it fails), and tells mcpd how it ended.
 * mcpd names an app, never a command: at worst a compromised mcpd starts
 * what the configuration allows, up to a bound.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
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

#define SPAWN_TAIL_LEN		256	/* bytes of a kept line */
#define SPAWN_STOP_WAIT_MS	3000	/* for the spawner to end them */

struct spawned {
	TAILQ_ENTRY(spawned)	 entry;
	uint32_t		 id;		/* the spawner's name */
	uint32_t		 peer;		/* mcpd's connection */
	struct app_ref		 ref;
	char			 app[RES_NAMELEN];
	uint64_t		 init_timeout;
	uint64_t		 memory_max;	/* bytes, for its OOM */
	int			 started;
	int			 stopping;	/* mcpd is done with it */
	int			 stdin_w;	/* for mcpd */
	int			 stdout_r;	/* for mcpd */
	int			 errfd;
	struct event		 errev;
	char			 errbuf[LOG_LINE_MAX];
	size_t			 errlen;
	uint64_t		 rate_sec;
	unsigned int		 rate_n;
	unsigned int		 dropped;
	char			 tail[SPAWN_TAIL_LINES][SPAWN_TAIL_LEN];
	unsigned int		 ntail;		/* lines ever kept */
};

static struct {
	pid_t			 pid;
	struct imsgbuf		 ibuf;
	struct event		 ev;
	const struct spawn_ops	*ops;
	uint32_t		 nextid;
	size_t			 max;
	size_t			 n;
	TAILQ_HEAD(, spawned)	 list;
	struct spawn_stats	 stats;
} sp = { .pid = -1, .ibuf = { .fd = -1 }, .max = 1024,
	.list = TAILQ_HEAD_INITIALIZER(sp.list) };

extern char	**environ;

static void	 spawn_dispatch(int, short, void *);

static void
spawn_events(void)
{
	if (sp.ibuf.fd == -1)
		return;
	if (ev_add(&sp.ev, EV_READ |
	    (imsgbuf_queuelen(&sp.ibuf) > 0 ? EV_WRITE : 0)) == -1)
		fatal("ev_add");
}

/*
 * Fork and re-execute mcpgated as the spawner, its channel on
 * descriptor 3.  Called before the parent sandboxes itself or starts a
 * thread.  self_fd is mcpgated's executable.
 */
pid_t
spawn_init(int self_fd, int foreground, int verbose,
    const struct spawn_ops *ops)
{
	sigset_t	 none;
	char		*argv[8];
	int		 argc = 0, chan[2], devnull;
	pid_t		 pid, me = getpid();

	sp.ops = ops;
	argv[argc++] = "mcpgated";
	argv[argc++] = "-P";
	argv[argc++] = "spawner";
	if (foreground)
		argv[argc++] = "-d";
	if (verbose)
		argv[argc++] = "-v";
	argv[argc] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) == -1)
		fatal("socketpair for the spawner");
	switch (pid = fork()) {
	case -1:
		fatal("fork the spawner");
	case 0:
		break;
	default:
		close(chan[1]);
		sp.pid = pid;
		if (imsgbuf_init(&sp.ibuf, chan[0]) == -1)
			fatal("imsgbuf_init");
		imsgbuf_allow_fdpass(&sp.ibuf);
		ev_set(&sp.ev, chan[0], spawn_dispatch, NULL);
		spawn_events();
		log_debug("started spawner (pid %d)", (int)pid);
		return (pid);
	}

	/* The spawner, until exec: it dies with the parent. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != me)
		_exit(127);
	if (self_fd <= PROC_PARENT_FD && (self_fd = fcntl(self_fd,
	    F_DUPFD_CLOEXEC, PROC_PARENT_FD + 1)) == -1)
		_exit(127);
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(devnull, STDIN_FILENO) == -1 ||
	    dup2(devnull, STDOUT_FILENO) == -1)
		_exit(127);
	if (dup2(chan[1], PROC_PARENT_FD) == -1)
		_exit(127);
	if (syscall(SYS_close_range, PROC_PARENT_FD + 1, ~0U,
	    CLOSE_RANGE_CLOEXEC) == -1) {
		int	 fd;

		for (fd = PROC_PARENT_FD + 1; fd < 1024; fd++)
			if (fd != self_fd)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef MCPGATE_SANITIZE
	{
		/* As the other children: no LeakSanitizer's tracer. */
		char	 opts[1024];
		char	*old = getenv("ASAN_OPTIONS");

		snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0",
		    old != NULL ? old : "", old != NULL ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
#endif
	fexecve(self_fd, argv, environ);
	dprintf(STDERR_FILENO, "mcpgated: exec spawner: %s\n",
	    strerror(errno));
	_exit(127);
}

pid_t
spawn_pid(void)
{
	return (sp.pid);
}

/* At most this many servers at once (limits.max_connections). */
void
spawn_set_max(size_t max)
{
	sp.max = max > 0 ? max : 1;
}

size_t
spawn_running(void)
{
	return (sp.n);
}

const struct spawn_stats *
spawn_stats(void)
{
	return (&sp.stats);
}

static struct spawned *
spawned_find(uint32_t id)
{
	struct spawned	*s;

	TAILQ_FOREACH(s, &sp.list, entry)
		if (s->id == id)
			return (s);
	return (NULL);
}

static struct spawned *
spawned_find_ref(uint32_t peer, const struct app_ref *ref)
{
	struct spawned	*s;

	TAILQ_FOREACH(s, &sp.list, entry)
		if (s->peer == peer && s->ref.serial == ref->serial &&
		    strcmp(s->ref.session, ref->session) == 0)
			return (s);
	return (NULL);
}

/* A line of the server's standard error: logged, or counted, and kept. */
static void
spawned_line(void *arg, const char *text)
{
	struct spawned	*s = arg;
	uint64_t	 sec = ev_now_ms() / 1000;

	strlcpy(s->tail[s->ntail % SPAWN_TAIL_LINES], text, SPAWN_TAIL_LEN);
	s->ntail++;
	if (sec != s->rate_sec) {
		if (s->dropped > 0)
			log_warnx("app %s session %s: %u lines dropped",
			    s->app, s->ref.session, s->dropped);
		s->rate_sec = sec;
		s->rate_n = 0;
		s->dropped = 0;
	}
	if (s->rate_n++ < SPAWN_STDERR_RATE)
		log_info("app %s session %s: %s", s->app, s->ref.session,
		    text);
	else
		s->dropped++;
}

/* 0 at its end (the pipe is then closed), 1 otherwise. */
static int
spawned_stderr_read(struct spawned *s)
{
	if (fd_read_lines(s->errfd, s->errbuf, sizeof(s->errbuf), &s->errlen,
	    spawned_line, s))
		return (1);
	ev_del(&s->errev);
	close(s->errfd);
	s->errfd = -1;
	return (0);
}

static void
spawned_stderr(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	spawned_stderr_read(arg);
}

/* What is left on its standard error, once it is gone. */
static void
spawned_drain(struct spawned *s)
{
	struct pollfd	 pfd;
	int		 i;

	for (i = 0; i < 256 && s->errfd != -1; i++) {
		pfd.fd = s->errfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) != 1 || spawned_stderr_read(s) == 0)
			break;
	}
	if (s->dropped > 0)
		log_warnx("app %s session %s: %u lines dropped", s->app,
		    s->ref.session, s->dropped);
	s->dropped = 0;
}

/* Its last lines, for a server that failed. */
static void
spawned_tail(struct spawned *s)
{
	unsigned int	 i, first;

	if (s->ntail == 0)
		return;
	first = s->ntail > SPAWN_TAIL_LINES ? s->ntail - SPAWN_TAIL_LINES : 0;
	log_warnx("app %s session %s: its last %u lines of standard error:",
	    s->app, s->ref.session, s->ntail - first);
	for (i = first; i < s->ntail; i++)
		log_warnx("app %s session %s: | %s", s->app, s->ref.session,
		    s->tail[i % SPAWN_TAIL_LINES]);
}

static void
spawned_free(struct spawned *s)
{
	if (s->errfd != -1) {
		ev_del(&s->errev);
		close(s->errfd);
	}
	if (s->stdin_w != -1)
		close(s->stdin_w);
	if (s->stdout_r != -1)
		close(s->stdout_r);
	TAILQ_REMOVE(&sp.list, s, entry);
	sp.n--;
	free(s);
}

static void
spawn_failed(uint32_t peer, const struct app_ref *ref, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
spawn_failed(uint32_t peer, const struct app_ref *ref, const char *fmt, ...)
{
	struct app_failed	 f;
	va_list			 ap;

	memset(&f, 0, sizeof(f));
	f.ref = *ref;
	va_start(ap, fmt);
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	va_end(ap);
	sp.stats.failed++;
	sp.ops->failed(peer, &f);
}

/* Append a string and its NUL to the request. */
static int
req_str(char **buf, size_t *len, const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*nb;

	if (*len + n > SPAWN_REQ_MAX)
		return (-1);
	if ((nb = realloc(*buf, *len + n)) == NULL)
		fatal("%s", __func__);
	memcpy(nb + *len, s, n);
	*buf = nb;
	*len += n;
	return (0);
}

static int
req_build(const struct app_res *app, char **bufp, size_t *lenp)
{
	struct spawn_req	 req;
	char			*buf, *kv;
	size_t			 len, i;
	int			 r = 0;

	memset(&req, 0, sizeof(req));
	strlcpy(req.app, app->name, sizeof(req.app));
	strlcpy(req.run_as, app->run_as, sizeof(req.run_as));
	req.network = app->sandbox.network;
	req.restricted = app->sandbox.restricted;
	req.memory_max = app->sandbox.memory_max;
	req.tasks_max = app->sandbox.tasks_max;
	req.nargs = (uint32_t)app->args.n;
	req.nenv = (uint32_t)app->nenv;
	req.nread_only = (uint32_t)app->sandbox.read_only.n;
	req.nwritable = (uint32_t)app->sandbox.writable.n;
	if ((buf = malloc(sizeof(req))) == NULL)
		fatal("%s", __func__);
	memcpy(buf, &req, sizeof(req));
	len = sizeof(req);
	r |= req_str(&buf, &len, app->command);
	r |= req_str(&buf, &len, app->cwd != NULL ? app->cwd : "");
	for (i = 0; i < app->args.n; i++)
		r |= req_str(&buf, &len, app->args.v[i]);
	for (i = 0; i < app->nenv; i++) {
		if (asprintf(&kv, "%s=%s", app->env[i].key,
		    app->env[i].values.n > 0 ? app->env[i].values.v[0] :
		    "") == -1)
			fatal("%s", __func__);
		r |= req_str(&buf, &len, kv);
		free(kv);
	}
	for (i = 0; i < app->sandbox.read_only.n; i++)
		r |= req_str(&buf, &len, app->sandbox.read_only.v[i]);
	for (i = 0; i < app->sandbox.writable.n; i++)
		r |= req_str(&buf, &len, app->sandbox.writable.v[i]);
	if (r != 0) {
		free(buf);
		return (-1);
	}
	*bufp = buf;
	*lenp = len;
	return (0);
}

/*
 * Start a session's server: mcpd's start names the app, app says how it
 * runs.  What follows comes through spawn_ops: the descriptors and
 * started, or failed; then exited.
 */
void
spawn_app(uint32_t peer, const struct app_start *as, const struct app_res *app)
{
	struct spawned	*s;
	struct spawn_fd	 sf;
	char		*req;
	size_t		 reqlen;
	int		 in[2], out[2], err[2], fds[3], i;

	/* An HTTP or SSE app's server runs elsewhere (httpapp.c). */
	if (app->transport != APP_STDIO) {
		spawn_failed(peer, &as->ref, "app %s runs no server here",
		    app->name);
		return;
	}
	if (sp.ibuf.fd == -1) {
		spawn_failed(peer, &as->ref, "the spawner is not running");
		return;
	}
	if (spawned_find_ref(peer, &as->ref) != NULL) {
		spawn_failed(peer, &as->ref, "a server already runs for "
		    "session %s", as->ref.session);
		return;
	}
	if (sp.n >= sp.max) {
		log_warnx("app %s session %s: refused, %zu servers run "
		    "(limits.max_connections)", app->name, as->ref.session,
		    sp.n);
		spawn_failed(peer, &as->ref, "the gateway runs too many "
		    "servers; try again later");
		return;
	}
	if (app->command == NULL || app->command[0] != '/') {
		spawn_failed(peer, &as->ref, "app %s has no command",
		    app->name);
		return;
	}
	if (req_build(app, &req, &reqlen) == -1) {
		spawn_failed(peer, &as->ref, "app %s: its command line and "
		    "sandbox are too long", app->name);
		return;
	}
	if (pipe2(in, O_CLOEXEC) == -1) {
		log_warn("app %s: pipe", app->name);
		spawn_failed(peer, &as->ref, "cannot start the server");
		free(req);
		return;
	}
	if (pipe2(out, O_CLOEXEC) == -1) {
		log_warn("app %s: pipe", app->name);
		close(in[0]);
		close(in[1]);
		spawn_failed(peer, &as->ref, "cannot start the server");
		free(req);
		return;
	}
	if (pipe2(err, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("app %s: pipe", app->name);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		spawn_failed(peer, &as->ref, "cannot start the server");
		free(req);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("%s", __func__);
	if (++sp.nextid == 0)
		sp.nextid = 1;
	s->id = sp.nextid;
	s->peer = peer;
	s->ref = as->ref;
	strlcpy(s->app, app->name, sizeof(s->app));
	s->init_timeout = app->init_timeout;
	s->memory_max = app->sandbox.memory_max;
	s->stdin_w = in[1];
	s->stdout_r = out[0];
	s->errfd = err[0];
	TAILQ_INSERT_TAIL(&sp.list, s, entry);
	sp.n++;
	ev_set(&s->errev, s->errfd, spawned_stderr, s);
	if (ev_add(&s->errev, EV_READ) == -1)
		fatal("ev_add");

	/* The server's ends: the channel owns each once queued. */
	fds[SPAWN_FD_STDIN] = in[0];
	fds[SPAWN_FD_STDOUT] = out[1];
	fds[SPAWN_FD_STDERR] = err[1];
	for (i = 0; i < 3; i++) {
		sf.which = i;
		if (imsg_compose(&sp.ibuf, IMSG_SPAWN_FD, s->id, 0, fds[i],
		    &sf, sizeof(sf)) == -1)
			fatal("%s: to the spawner", __func__);
	}
	if (imsg_compose(&sp.ibuf, IMSG_SPAWN_START, s->id, 0, -1, req,
	    reqlen) == -1)
		fatal("%s: to the spawner", __func__);
	free(req);
	spawn_events();
	log_debug("app %s session %s: starting for %s", app->name,
	    as->ref.session, as->user);
}

/* mcpd ended the session: the spawner ends the server. */
void
spawn_stop(uint32_t peer, const struct app_ref *ref)
{
	struct spawned	*s;

	/* It may be gone already, its end on the way to mcpd. */
	if ((s = spawned_find_ref(peer, ref)) == NULL || s->stopping)
		return;
	s->stopping = 1;
	if (imsg_compose(&sp.ibuf, IMSG_SPAWN_STOP, s->id, 0, -1, NULL,
	    0) == -1)
		fatal("%s: to the spawner", __func__);
	spawn_events();
}

static void
spawn_started(struct spawned *s, const struct spawn_started *st)
{
	struct app_started	 as;

	if (s->started)
		fatalx("the spawner started server %u twice", s->id);
	s->started = 1;
	sp.stats.started++;
	log_info("app %s session %s: server started (pid %d)", s->app,
	    s->ref.session, (int)st->pid);
	if (s->stopping) {
		/* mcpd no longer wants it: its stdin closes. */
		close(s->stdin_w);
		close(s->stdout_r);
		s->stdin_w = s->stdout_r = -1;
		return;
	}
	memset(&as, 0, sizeof(as));
	as.ref = s->ref;
	as.pid = st->pid;
	as.init_timeout = s->init_timeout;
	sp.ops->stdin_fd(s->peer, &s->ref, s->stdin_w);
	sp.ops->started(s->peer, &as, s->stdout_r);
	s->stdin_w = s->stdout_r = -1;
}

static void
spawn_exited(struct spawned *s, const struct spawn_exited *ex)
{
	struct app_exited	 ae;
	char			 max[32];
	int			 st = ex->status;

	spawned_drain(s);
	if (ex->oom_kills > 0)
		sp.stats.exits[STATUS_EXIT_OOM]++;
	else if (ex->killed)
		sp.stats.exits[STATUS_EXIT_KILLED]++;
	else if (WIFSIGNALED(st))
		sp.stats.exits[STATUS_EXIT_SIGNAL]++;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		sp.stats.exits[STATUS_EXIT_OK]++;
	else
		sp.stats.exits[STATUS_EXIT_ERROR]++;
	if (ex->oom_kills > 0) {
		fmt_size(s->memory_max, max, sizeof(max));
		log_warnx("app %s session %s: out of memory (memory_max %s)",
		    s->app, s->ref.session, max);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_info("app %s session %s: server exited", s->app,
		    s->ref.session);
	else {
		if (WIFSIGNALED(st))
			log_warnx("app %s session %s: server terminated by "
			    "signal %d (%s)%s", s->app, s->ref.session,
			    WTERMSIG(st), strsignal(WTERMSIG(st)),
			    ex->killed ? ", its namespace killed" : "");
		else
			log_warnx("app %s session %s: server exited with "
			    "status %d", s->app, s->ref.session,
			    WEXITSTATUS(st));
		spawned_tail(s);
	}
	memset(&ae, 0, sizeof(ae));
	ae.ref = s->ref;
	ae.status = st;
	ae.killed = ex->killed;
	sp.ops->exited(s->peer, &ae);
	spawned_free(s);
}

static void
spawn_fail_msg(struct spawned *s, struct spawn_failed *f)
{
	f->message[sizeof(f->message) - 1] = '\0';
	spawned_drain(s);
	log_warnx("app %s session %s: cannot start: %s", s->app,
	    s->ref.session, f->message);
	spawned_tail(s);
	spawn_failed(s->peer, &s->ref, "app %s: %s", s->app, f->message);
	spawned_free(s);
}

/* The spawner's messages: a wrong one is a compromised spawner. */
static void
spawn_dispatch(int fd, short events, void *arg)
{
	struct imsg		 imsg;
	struct log_line		 ll;
	union {
		struct spawn_started	 started;
		struct spawn_failed	 failed;
		struct spawn_exited	 exited;
	}			 m;
	struct spawned		*s;
	ssize_t			 n;

	(void)fd;
	(void)arg;
	if (events & EV_READ) {
		if ((n = imsgbuf_read(&sp.ibuf)) == -1 || n == 0) {
			ev_del(&sp.ev);
			sp.ops->lost(n == 0 ? "closed its channel" :
			    "channel broken");
			return;
		}
	}
	if ((events & EV_WRITE) && imsgbuf_write(&sp.ibuf) == -1) {
		ev_del(&sp.ev);
		sp.ops->lost("channel broken");
		return;
	}
	for (;;) {
		if ((n = imsgbuf_get(&sp.ibuf, &imsg)) == -1) {
			sp.ops->lost("sent a malformed message");
			return;
		}
		if (n == 0)
			break;
		s = spawned_find(imsg_get_id(&imsg));
		switch (imsg_get_type(&imsg)) {
		case IMSG_LOG:
			if (imsg_get_data(&imsg, &ll, sizeof(ll)) == -1 ||
			    ll.pri < LOG_EMERG || ll.pri > LOG_DEBUG)
				goto bad;
			ll.msg[sizeof(ll.msg) - 1] = '\0';
			log_emit_from("spawner", ll.pri, ll.msg);
			break;
		case IMSG_SPAWN_STARTED:
			if (imsg_get_data(&imsg, &m.started,
			    sizeof(m.started)) == -1 || s == NULL ||
			    s->started)
				goto bad;
			spawn_started(s, &m.started);
			break;
		case IMSG_SPAWN_FAILED:
			if (imsg_get_data(&imsg, &m.failed,
			    sizeof(m.failed)) == -1 || s == NULL ||
			    s->started)
				goto bad;
			spawn_fail_msg(s, &m.failed);
			break;
		case IMSG_SPAWN_EXITED:
			if (imsg_get_data(&imsg, &m.exited,
			    sizeof(m.exited)) == -1 || s == NULL ||
			    !s->started)
				goto bad;
			spawn_exited(s, &m.exited);
			break;
		default:
			goto bad;
		}
		imsg_free(&imsg);
	}
	spawn_events();
	return;
 bad:
	log_warnx("unexpected message %s (%zu bytes) from the spawner",
	    imsg_type_name(imsg_get_type(&imsg)), imsg_get_len(&imsg));
	imsg_free(&imsg);
	ev_del(&sp.ev);
	sp.ops->lost("sent an unexpected message");
}

/* proc_reap's question: was that the spawner?  It says how it ended. */
int
spawn_reaped(pid_t pid, int status)
{
	if (pid <= 0 || pid != sp.pid)
		return (0);
	sp.pid = -1;
	if (WIFSIGNALED(status))
		log_warnx("spawner (pid %d) terminated by signal %d (%s)",
		    (int)pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warnx("spawner (pid %d) exited with status %d", (int)pid,
		    WEXITSTATUS(status));
	return (1);
}

/*
 * The daemon stops: the spawner's channel closes, it kills every
 * server's namespace, reaps them and exits; the parent waits for that,
 * and kills it (and with it the inits, by their parent-death signal)
 * if it takes too long.
 */
void
spawn_stop_all(void)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	uint64_t	 deadline;
	pid_t		 pid;
	int		 status;

	if (sp.ibuf.fd != -1) {
		ev_del(&sp.ev);
		close(sp.ibuf.fd);
		imsgbuf_clear(&sp.ibuf);
		sp.ibuf.fd = -1;
	}
	if (sp.pid <= 0)
		return;
	deadline = ev_now_ms() + SPAWN_STOP_WAIT_MS;
	for (;;) {
		if ((pid = waitpid(sp.pid, &status, WNOHANG)) == sp.pid ||
		    (pid == -1 && errno == ECHILD)) {
			sp.pid = -1;
			return;
		}
		if (ev_now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	log_warnx("spawner (pid %d) did not stop, killing it", (int)sp.pid);
	kill(sp.pid, SIGKILL);
	waitpid(sp.pid, &status, 0);
	sp.pid = -1;
}
