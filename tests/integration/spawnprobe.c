/*
 * Drives the parent's spawner API (privsep/spawn.c) directly, as the
 * parent does for mcpd: it starts the real spawner (mcpgated -P spawner)
 * and asks it for servers of an app it builds from its arguments.
 *
 *   spawnprobe -x mcpgated [-v] [-u run_as] [-n] [-r path] [-w path]
 *       [-e NAME=VALUE] [-c cwd] [-M memory_max] [-T tasks_max] [-m max]
 *       [-N count]
 *       [-a app] -- command [arg ...]
 *
 * -n: network none; -r and -w: read_only_paths and writable_paths; -m:
 * the bound on servers at once; -N: start that many sessions at once;
 * -P: once the spawner runs, load the parent's seccomp allow-list, as
 * the parent does, so that what spawn.c does is shown to fit in it;
 * -E: once every server runs, stop the spawner as the daemon does when
 * it stops (spawn_stop_all), print "all stopped" and exit.
 * It prints "spawner pid P", then for each session "started S pid P",
 * "failed S: MESSAGE" or "exited S status N|signal N killed K"; the
 * first server's output is copied to standard output, and standard
 * input to it.  At the end of standard input it closes every server's
 * descriptors and stops them, as mcpd does, and exits when all are
 * gone.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "../../privsep/privsep.h"

#define PROBE_MAX	64

struct probe_session {
	struct app_ref	 ref;
	int		 in;		/* its stdin */
	int		 out;		/* its stdout */
	struct event	 outev;
	int		 started;
	int		 done;
};

static struct probe_session	 sess[PROBE_MAX];
static int			 nsess, ndone, stdin_done, stop_all;
static struct event		 stdin_ev;

static struct probe_session *
probe_find(const struct app_ref *ref)
{
	int	 i;

	for (i = 0; i < nsess; i++)
		if (sess[i].ref.serial == ref->serial)
			return (&sess[i]);
	errx(2, "unknown session %llu", (unsigned long long)ref->serial);
}

static void
probe_maybe_exit(void)
{
	if (ndone == nsess) {
		fflush(stdout);
		exit(0);
	}
}

static void
probe_out(int fd, short events, void *arg)
{
	struct probe_session	*s = arg;
	char			 buf[65536];
	ssize_t			 n;

	(void)events;
	if ((n = read(fd, buf, sizeof(buf))) <= 0) {
		ev_del(&s->outev);
		close(s->out);
		s->out = -1;
		return;
	}
	if (s == &sess[0]) {
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
	}
}

/* What mcpd does at a session's end: close, then stop. */
static void
probe_end_all(void)
{
	int	 i;

	for (i = 0; i < nsess; i++) {
		/* One still starting is ended once started. */
		if (sess[i].done || !sess[i].started)
			continue;
		if (sess[i].in != -1) {
			close(sess[i].in);
			sess[i].in = -1;
		}
		spawn_stop(1, &sess[i].ref);
	}
}

static void
probe_stdin(int fd, short events, void *arg)
{
	char	 buf[65536];
	ssize_t	 n, off, w;

	(void)events;
	(void)arg;
	if ((n = read(fd, buf, sizeof(buf))) <= 0) {
		ev_del(&stdin_ev);
		stdin_done = 1;
		probe_end_all();
		return;
	}
	for (off = 0; off < n && sess[0].in != -1; off += w)
		if ((w = write(sess[0].in, buf + off, (size_t)(n - off))) <= 0)
			break;
}

/* Standard input is read once the first server runs, or failed. */
static void
probe_read_stdin(void)
{
	static int	 reading;

	if (reading)
		return;
	reading = 1;
	ev_set(&stdin_ev, STDIN_FILENO, probe_stdin, NULL);
	if (ev_add(&stdin_ev, EV_READ) == -1) {
		/* /dev/null, a file: its end at once */
		stdin_done = 1;
		probe_end_all();
	}
}

static void
op_stdin(uint32_t peer, const struct app_ref *ref, int fd)
{
	struct probe_session	*s = probe_find(ref);

	(void)peer;
	s->in = fd;
}

static void
op_started(uint32_t peer, const struct app_started *st, int fd)
{
	struct probe_session	*s = probe_find(&st->ref);

	(void)peer;
	printf("started %llu pid %d init_timeout %llu\n",
	    (unsigned long long)st->ref.serial, (int)st->pid,
	    (unsigned long long)st->init_timeout);
	fflush(stdout);
	s->out = fd;
	ev_set(&s->outev, fd, probe_out, s);
	if (ev_add(&s->outev, EV_READ) == -1)
		err(2, "ev_add");
	s->started = 1;
	if (stop_all && s == &sess[nsess - 1]) {
		spawn_stop_all();
		printf("all stopped\n");
		fflush(stdout);
		exit(0);
	}
	if (stdin_done)
		probe_end_all();
	if (s == &sess[0])
		probe_read_stdin();
}

static void
op_failed(uint32_t peer, const struct app_failed *f)
{
	struct probe_session	*s = probe_find(&f->ref);

	(void)peer;
	printf("failed %llu: %s\n", (unsigned long long)f->ref.serial,
	    f->message);
	s->done = 1;
	ndone++;
	probe_maybe_exit();
	if (s == &sess[0])
		probe_read_stdin();
}

static void
op_exited(uint32_t peer, const struct app_exited *ex)
{
	struct probe_session	*s = probe_find(&ex->ref);

	(void)peer;
	/* What the server still wrote. */
	while (s->out != -1)
		probe_out(s->out, EV_READ, s);
	if (WIFSIGNALED(ex->status))
		printf("exited %llu signal %d killed %d\n",
		    (unsigned long long)ex->ref.serial, WTERMSIG(ex->status),
		    ex->killed);
	else
		printf("exited %llu status %d killed %d\n",
		    (unsigned long long)ex->ref.serial, WEXITSTATUS(ex->status),
		    ex->killed);
	s->done = 1;
	ndone++;
	probe_maybe_exit();
}

static void
op_lost(const char *why)
{
	printf("spawner lost: %s\n", why);
	fflush(stdout);
	exit(3);
}

static const struct spawn_ops probe_ops = {
	op_stdin, op_started, op_failed, op_exited, op_lost
};

static void
usage(void)
{
	fprintf(stderr, "usage: spawnprobe -x mcpgated [-EnPv] [-u user] "
	    "[-r path] [-w path] [-e NAME=VALUE] [-c cwd] [-M bytes] "
	    "[-T tasks] [-m max] [-N count] [-a app] -- command [arg ...]\n");
	exit(2);
}

static void
probe_strlist_add(struct strlist *l, const char *s)
{
	if ((l->v = reallocarray(l->v, l->n + 1, sizeof(char *))) == NULL ||
	    (l->v[l->n] = strdup(s)) == NULL)
		err(2, NULL);
	l->n++;
}

int
main(int argc, char *argv[])
{
	struct app_res		 app;
	struct app_start	 as;
	const char		*mcpgated = NULL;
	char			*eq;
	int			 ch, i, self, verbose = 0, count = 1;
	int			 parent_filter = 0;
	size_t			 max = 1024;

	memset(&app, 0, sizeof(app));
	strlcpy(app.name, "probe", sizeof(app.name));
	app.init_timeout = 60000;
	while ((ch = getopt(argc, argv, "a:c:e:EM:m:nN:Pr:T:u:vw:x:")) != -1) {
		switch (ch) {
		case 'a':
			strlcpy(app.name, optarg, sizeof(app.name));
			break;
		case 'c':
			app.cwd = optarg;
			break;
		case 'e':
			if ((eq = strchr(optarg, '=')) == NULL)
				usage();
			*eq = '\0';
			if ((app.env = reallocarray(app.env, app.nenv + 1,
			    sizeof(*app.env))) == NULL)
				err(2, NULL);
			memset(&app.env[app.nenv], 0, sizeof(*app.env));
			app.env[app.nenv].key = optarg;
			probe_strlist_add(&app.env[app.nenv].values, eq + 1);
			app.nenv++;
			break;
		case 'E':
			stop_all = 1;
			break;
		case 'M':
			app.sandbox.memory_max = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			max = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			app.sandbox.network = APP_NET_NONE;
			break;
		case 'N':
			count = atoi(optarg);
			if (count < 1 || count > PROBE_MAX)
				usage();
			break;
		case 'P':
			parent_filter = 1;
			break;
		case 'r':
			probe_strlist_add(&app.sandbox.read_only, optarg);
			app.sandbox.restricted = 1;
			break;
		case 'T':
			app.sandbox.tasks_max = strtoull(optarg, NULL, 10);
			break;
		case 'u':
			strlcpy(app.run_as, optarg, sizeof(app.run_as));
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			probe_strlist_add(&app.sandbox.writable, optarg);
			app.sandbox.restricted = 1;
			break;
		case 'x':
			mcpgated = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (mcpgated == NULL || argc < 1)
		usage();
	app.command = argv[0];
	for (i = 1; i < argc; i++)
		probe_strlist_add(&app.args, argv[i]);

	log_init(1, LOG_DAEMON);
	log_procinit("parent");
	log_setlevel(verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	if ((self = open(mcpgated, O_PATH | O_CLOEXEC)) == -1)
		err(2, "%s", mcpgated);
	if (ev_init() == -1)
		err(2, "ev_init");
	spawn_set_max(max);
	printf("spawner pid %d\n", (int)spawn_init(self, 1, verbose,
	    &probe_ops));
	fflush(stdout);
	if (parent_filter && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    sandbox_seccomp(&parent_sandbox) == -1))
		errx(2, "the parent's seccomp filter");

	for (i = 0; i < count; i++) {
		memset(&as, 0, sizeof(as));
		as.ref.serial = (uint64_t)i + 1;
		snprintf(as.ref.session, sizeof(as.ref.session), "s%d", i + 1);
		strlcpy(as.app, app.name, sizeof(as.app));
		strlcpy(as.user, "alice", sizeof(as.user));
		sess[i].ref = as.ref;
		sess[i].in = sess[i].out = -1;
		nsess++;
		spawn_app(1, &as, &app);
	}
	if (ev_dispatch() == -1)
		err(2, "event loop");
	return (0);
}
