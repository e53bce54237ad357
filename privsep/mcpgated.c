/*
 * mcpgated: the parent.  It reads the configuration, prepares the state,
 * audit and chroot directories, loads or creates the CA, binds the listen
 * sockets and the control socket, then starts netd, mcpd and auditd and
 * hands each its channels, descriptors and keys.  Afterwards it serves the
 * control socket, relays children's log lines, reloads on SIGHUP and stops
 * everything when a child dies.
 */
#include <sys/types.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "audit_record.h"
#include "configure.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "../auditd/auditd.h"
#include "../mcpd/mcpd.h"
#include "../netd/netd.h"

#define START_TIMEOUT_MS	15000
#define STOP_AUDIT_MS		5000

struct audit_wait {
	TAILQ_ENTRY(audit_wait)	 entry;
	uint32_t		 id;
	audit_done_fn		 done;
	void			*arg;
};

struct parent			*parent;
static struct parent		 parent_state;
static struct event		 sig_ev;
static struct ev_timer		 start_timer;
static struct ev_timer		 stop_timer;
static TAILQ_HEAD(, audit_wait)	 audit_waits =
    TAILQ_HEAD_INITIALIZER(audit_waits);
static uint32_t			 audit_nextid = 1;
static int			 audit_sealing;	/* IMSG_AUDIT_SEAL sent */

extern char			**environ;
static char			 cmdname_configure[] = "mcpgated configure";
static char			 cmdname_install[] = "mcpgated install";

static void	 parent_dispatch(int, short, void *);
static void	 parent_stop(int);
static void	 stop_record(void);

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: mcpgated [-dnv] [-f file]\n"
	    "       mcpgated configure [-o file] [--force] [options]\n"
	    "       mcpgated install systemd [-o file] [--force]\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -f file  configuration file (default %s)\n"
	    "  -n       check the configuration, print 'configuration OK' "
	    "or the errors\n"
	    "  -v       verbose: log debug messages\n"
	    "  configure         write a complete mcpgated.conf "
	    "(configure --help)\n"
	    "  install systemd   write the systemd unit\n"
	    "See mcpgated(8) and mcpgated.conf(5).\n", CONF_DEFAULT_PATH);
	exit(status);
}

static void
print_errors(const struct conf_errors *errs)
{
	int	 i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	if (errs->dropped > 0)
		fprintf(stderr, "(and %d more errors)\n", errs->dropped);
}

/* What mcpgated -n finds wrong with an app. */
static const char	*check_path;
static int		 check_errors;

static void
check_say(const char *app, const char *problem)
{
	fprintf(stderr, "%s: app '%s': %s\n", check_path, app, problem);
}

static void
check_warn(const char *app, const char *what)
{
	fprintf(stderr, "%s: app '%s': warning: %s\n", check_path, app,
	    what);
}

/* The same, when the daemon starts: the app will fail its sessions. */
static void
start_say(const char *app, const char *problem)
{
	log_warnx("app %s: %s; its sessions will fail until this is fixed",
	    app, problem);
}

static void
start_warn(const char *app, const char *what)
{
	log_warnx("app %s: %s", app, what);
}

/* A directory that must exist with a given owner and no access by others. */
static int
prepare_dir(const char *what, const char *path, uid_t uid, gid_t gid,
    mode_t mode, mode_t forbidden)
{
	struct stat	 st;

	if (mkdir(path, mode) == 0) {
		if (chown(path, uid, gid) == -1 || chmod(path, mode) == -1) {
			log_warn("%s %s", what, path);
			return (-1);
		}
		log_info("created %s %s", what, path);
	} else if (errno != EEXIST) {
		log_warn("%s %s", what, path);
		return (-1);
	}
	if (lstat(path, &st) == -1) {
		log_warn("%s %s", what, path);
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("%s %s is not a directory", what, path);
		return (-1);
	}
	if (st.st_uid != uid || (st.st_mode & forbidden)) {
		log_warnx("%s %s must be owned by uid %u with mode %04o "
		    "(it is uid %u, mode %04o)", what, path, (unsigned)uid,
		    (unsigned)mode, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		return (-1);
	}
	return (0);
}

static int
lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		log_warnx("unknown user %s: create it (make install does) or "
		    "set another in the configuration", name);
		return (-1);
	}
	if (pw->pw_uid == 0) {
		log_warnx("user %s is root; the children need an "
		    "unprivileged user", name);
		return (-1);
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return (0);
}

/* Everything on disk that the children rely on, checked or created. */
static int
prepare_fs(struct parent *p, struct sandbox_creds creds[PROC_MAX])
{
	struct mcpgated_conf	*c = &p->conf;
	char			 err[512];
	uid_t			 me = geteuid(), uid, auid, ruid;
	gid_t			 gid, agid, rgid;

	memset(creds, 0, sizeof(struct sandbox_creds) * PROC_MAX);
	if (p->root) {
		if (lookup_user(c->user, &uid, &gid) == -1 ||
		    lookup_user(c->audit_user, &auid, &agid) == -1 ||
		    lookup_user(c->resolver_user, &ruid, &rgid) == -1)
			return (-1);
		if (uid == auid) {
			log_warnx("users %s and %s share uid %u; the audit "
			    "user must be separate", c->user, c->audit_user,
			    (unsigned)uid);
			return (-1);
		}
		if (ruid == uid || ruid == auid) {
			log_warnx("the resolver's user %s shares uid %u with "
			    "%s; it must be separate", c->resolver_user,
			    (unsigned)ruid, ruid == uid ? c->user :
			    c->audit_user);
			return (-1);
		}
		if (mkdir(c->chroot, 0755) == 0)
			log_info("created chroot directory %s", c->chroot);
		else if (errno != EEXIST) {
			log_warn("chroot %s", c->chroot);
			return (-1);
		}
		if (sandbox_check_root(c->chroot, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			return (-1);
		}
	} else {
		uid = auid = ruid = me;
		gid = agid = rgid = getegid();
	}
	if (prepare_dir("state_dir", c->state_dir, me, getegid(), 0700,
	    077) == -1)
		return (-1);
	if (prepare_dir("audit directory", c->audit_dir, auid, agid, 0750,
	    027) == -1)
		return (-1);

	creds[PROC_NETD].drop = creds[PROC_MCPD].drop =
	    creds[PROC_AUDITD].drop = p->root;
	creds[PROC_NETD].uid = creds[PROC_MCPD].uid = uid;
	creds[PROC_NETD].gid = creds[PROC_MCPD].gid = gid;
	strlcpy(creds[PROC_NETD].root, c->chroot, sizeof(creds[0].root));
	strlcpy(creds[PROC_MCPD].root, c->chroot, sizeof(creds[0].root));
	creds[PROC_AUDITD].uid = auid;
	creds[PROC_AUDITD].gid = agid;
	strlcpy(creds[PROC_AUDITD].root, c->audit_dir, sizeof(creds[0].root));
	/* Not chrooted: it reads /etc, and Landlock keeps it there. */
	creds[PROC_RESOLVER].drop = p->root;
	creds[PROC_RESOLVER].uid = ruid;
	creds[PROC_RESOLVER].gid = rgid;
	return (0);
}

static int
bind_listeners(struct parent *p)
{
	struct listen_addr	*la;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 host[NI_MAXHOST], serv[NI_MAXSERV];
	int			 i, fd, on = 1;

	if (!p->conf.proxy_enabled)
		return (0);
	for (i = 0; i < p->conf.nlisten; i++) {
		la = &p->conf.listen[i];
		if ((fd = socket(la->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			log_warn("socket for %s", la->text);
			return (-1);
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1 || (la->ss.ss_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on)) == -1)) {
			log_warn("setsockopt %s", la->text);
			close(fd);
			return (-1);
		}
		if (bind(fd, (struct sockaddr *)&la->ss, la->sslen) == -1) {
			log_warn("cannot listen on %s", la->text);
			close(fd);
			return (-1);
		}
		if (listen(fd, 511) == -1) {
			log_warn("listen %s", la->text);
			close(fd);
			return (-1);
		}
		sslen = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
		    getnameinfo((struct sockaddr *)&ss, sslen, host,
		    sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
			log_warn("getsockname %s", la->text);
			close(fd);
			return (-1);
		}
		snprintf(p->bound[i].addr, sizeof(p->bound[i].addr),
		    ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
		p->listen_fds[i] = fd;
		p->nbound++;
	}
	return (0);
}

void
parent_conf_snapshot(const struct mcpgated_conf *c, struct conf_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	strlcpy(s->name, c->name, sizeof(s->name));
	s->log_level = c->log_level;
	s->app_enabled = c->app_enabled;
	s->mcp_demo_server = c->mcp_demo_server;
	s->audit_fsync = c->audit_fsync;
	s->audit_on_failure = c->audit_on_failure;
	s->audit_max_file_size = c->audit_max_file_size;
	s->max_message_size = c->max_message_size;
	s->max_connections = c->max_connections;
	s->handshake_timeout = c->handshake_timeout;
	s->cert_ttl = c->cert_ttl;
	s->password_min_length = c->password_min_length;
	s->start_time = parent != NULL ? parent->start_us : 0;
	s->max_buffered = c->max_buffered;
	s->max_json_values = c->max_json_values;
	s->max_sessions_per_user = c->max_sessions_per_user;
	s->max_connections_per_address = c->max_connections_per_address;
	s->init_timeout = c->init_timeout;
	s->idle_timeout = c->idle_timeout;
}

static void
child_events(struct child *c)
{
	if (c->pid <= 0)
		return;
	if (ev_add(&c->ev, EV_READ |
	    (imsgbuf_queuelen(&c->ibuf) > 0 ? EV_WRITE : 0)) == -1)
		fatal("ev_add");
}

/*
 * Move what waits in a child's backlog into its channel, in order, while
 * the channel's queue takes it.
 */
static void
child_backlog_flush(struct child *c)
{
	struct iovec		 iov;
	struct backlog_msg	*b;

	while ((b = TAILQ_FIRST(&c->backlog)) != NULL) {
		iov.iov_base = b->data;
		iov.iov_len = b->len;
		if (imsg_composev(&c->ibuf, b->type, b->peerid, 0, b->fd, &iov,
		    b->len > 0 ? 1 : 0) == -1) {
			if (errno == ENOBUFS)
				return;
			fatal("%s: %s to %s", __func__,
			    imsg_type_name(b->type), proc_name(c->id));
		}
		TAILQ_REMOVE(&c->backlog, b, entry);
		c->backlog_bytes -= b->len;
		freezero(b, sizeof(*b) + b->len);
	}
}

/*
 * Queue a message for a child.  When the channel's queue is full (a
 * snapshot of many users, the records of a large change), the message
 * waits in a backlog of the parent's and goes, in order, as the queue
 * drains: what the parent itself decided to send is never lost, and
 * never stops the daemon.
 */
void
parent_sendv(enum proc_id id, uint32_t type, uint32_t peerid,
    const struct iovec *iov, int iovcnt)
{
	struct child		*c = &parent->children[id];
	struct backlog_msg	*b;
	size_t			 len = 0, off = 0;
	int			 i;

	if (TAILQ_EMPTY(&c->backlog) && imsg_composev(&c->ibuf, type,
	    peerid, 0, -1, iov, iovcnt) != -1) {
		child_events(c);
		return;
	}
	if (!TAILQ_EMPTY(&c->backlog) || errno == ENOBUFS) {
		for (i = 0; i < iovcnt; i++)
			len += iov[i].iov_len;
		if ((b = malloc(sizeof(*b) + len)) == NULL)
			fatal("%s", __func__);
		b->type = type;
		b->peerid = peerid;
		b->fd = -1;
		b->len = len;
		for (i = 0; i < iovcnt; i++) {
			memcpy(b->data + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		TAILQ_INSERT_TAIL(&c->backlog, b, entry);
		c->backlog_bytes += len;
		child_backlog_flush(c);
		child_events(c);
		return;
	}
	fatal("%s: %s to %s", __func__, imsg_type_name(type), proc_name(id));
}

void
parent_send(enum proc_id id, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct child		*c = &parent->children[id];
	struct backlog_msg	*b;
	struct iovec		 iov;

	if (fd == -1) {
		iov.iov_base = (void *)data;
		iov.iov_len = len;
		parent_sendv(id, type, peerid, &iov, len > 0 ? 1 : 0);
		return;
	}
	/*
	 * A descriptor waits in the backlog as the other messages do
	 * (a server's pipes, while a large snapshot goes out); the
	 * channel, or the backlog, owns it from here.
	 */
	if (TAILQ_EMPTY(&c->backlog) &&
	    imsg_compose(&c->ibuf, type, peerid, 0, fd, data, len) != -1) {
		child_events(c);
		return;
	}
	if (TAILQ_EMPTY(&c->backlog) && errno != ENOBUFS)
		fatal("%s: %s to %s", __func__, imsg_type_name(type),
		    proc_name(id));
	if ((b = malloc(sizeof(*b) + len)) == NULL)
		fatal("%s", __func__);
	b->type = type;
	b->peerid = peerid;
	b->fd = fd;
	b->len = len;
	if (len > 0)
		memcpy(b->data, data, len);
	TAILQ_INSERT_TAIL(&c->backlog, b, entry);
	c->backlog_bytes += len;
	child_backlog_flush(c);
	child_events(c);
}

/*
 * The longest record the parent sends: what a line of the log and a
 * message to auditd hold, less room for the fields the writer adds.
 */
static size_t
audit_record_room(void)
{
	size_t	 max = parent->conf.max_message_size;

	if (max > AUDIT_LINE_MAX)
		max = AUDIT_LINE_MAX;
	return (max - 1024);
}

/*
 * A record too long to write, said short: its event, who and what it
 * was about, whether it succeeded, and that the rest was left out.  The
 * records the parent makes stay far below the limit; this is the guard
 * that keeps one that does not from stopping the daemon.
 */
static char *
audit_summary(json_t *fields, size_t len)
{
	static const char *const keep[] = { "event", "success", "user",
	    "role", "token", "admin_uid", "remote_addr", "reason", NULL };
	json_t	*sum, *v;
	char	*s;
	int	 i;

	sum = json_object();
	for (i = 0; keep[i] != NULL; i++) {
		v = json_object_get(fields, keep[i]);
		if (v != NULL && (!json_is_string(v) ||
		    json_string_length(v) <= 256))
			json_object_set(sum, keep[i], v);
	}
	json_object_set_new(sum, "record_truncated", json_true());
	json_object_set_new(sum, "record_bytes", json_integer((json_int_t)len));
	log_warnx("an audit record of %s was %zu bytes, more than a record "
	    "holds; its summary is recorded instead",
	    json_string_value(json_object_get(fields, "event")), len);
	if ((s = json_dumps(sum, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(sum);
	return (s);
}

/*
 * Send a record to auditd; done, when given, hears whether it was written.
 * Takes the reference to fields.
 */
void
parent_audit(json_t *fields, audit_done_fn done, void *arg)
{
	struct audit_wait	*w;
	char			*s;
	size_t			 len;
	uint32_t		 id = audit_nextid++;

	if (audit_nextid == 0)
		audit_nextid = 1;
	if ((s = json_dumps(fields, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	if ((len = strlen(s)) > audit_record_room()) {
		free(s);
		s = audit_summary(fields, len);
		len = strlen(s);
	}
	json_decref(fields);
	parent_send(PROC_AUDITD, IMSG_AUDIT_RECORD, id, -1, s, len);
	free(s);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	w->id = id;
	w->done = done;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&audit_waits, w, entry);
}

static void
parent_audit_ack(uint32_t id, const struct audit_ack *ack)
{
	struct audit_wait	*w;

	TAILQ_FOREACH(w, &audit_waits, entry)
		if (w->id == id)
			break;
	if (w == NULL)
		fatalx("auditd acknowledged record %u that was never sent", id);
	TAILQ_REMOVE(&audit_waits, w, entry);
	if (ack->status != AUDIT_ACK_OK)
		log_warnx("audit record not written: %s",
		    strerror(ack->error));
	if (w->done != NULL)
		w->done(w->arg, ack);
	free(w);
}

static void
start_timeout(void *arg)
{
	int	 i;

	(void)arg;
	for (i = PROC_NETD; i < PROC_MAX; i++)
		if (!parent->children[i].ready)
			log_warnx("%s did not finish starting",
			    proc_name(i));
	parent_fatal("the children did not start in time");
}

static void
all_ready(void)
{
	json_t	*listen;
	char	 addrs[CONF_MAXLISTEN * CONF_ADDRLEN] = "";
	int	 i;

	ev_timer_del(&start_timer);
	/* Serving: the one point where the parent starts threads. */
	login_hashing_start();
	listen = json_array();
	for (i = 0; i < parent->nbound; i++) {
		json_array_append_new(listen,
		    json_string(parent->bound[i].addr));
		if (i > 0)
			strlcat(addrs, " ", sizeof(addrs));
		strlcat(addrs, parent->bound[i].addr, sizeof(addrs));
	}
	parent_audit(json_pack("{s:s,s:s,s:i,s:s,s:o,s:s,s:b}",
	    "event", "daemon.start", "version", MCPGATE_VERSION,
	    "pid", (int)getpid(), "config", parent->conf_path,
	    "listen", listen, "ca_fingerprint", parent->ca.fingerprint,
	    "privileged", parent->root), NULL, NULL);
	log_info("mcpgated %s ready: %s%s; control socket %s",
	    MCPGATE_VERSION, parent->nbound ? "listening on " :
	    "proxy_service disabled", addrs, parent->conf.control_socket);
}

/* A child's line, written under its name, in the foreground too. */
static void
child_log(struct child *c, struct imsg *imsg)
{
	struct log_line	 ll;

	if (imsg_get_data(imsg, &ll, sizeof(ll)) == -1 ||
	    ll.pri < LOG_EMERG || ll.pri > LOG_DEBUG)
		fatalx("bad log message from %s", proc_name(c->id));
	ll.msg[sizeof(ll.msg) - 1] = '\0';
	log_emit_from(proc_name(c->id), ll.pri, ll.msg);
}

/*
 * Something the daemon cannot go on without is gone: say why, stop the
 * children at once, remove the control socket and exit non-zero, without
 * writing anything more, so that systemd restarts the whole daemon.
 */
void
parent_fatal(const char *why)
{
	log_warnx("stopping: %s", why);
	proc_stop_all(parent, 0);
	control_cleanup(parent->conf.control_socket);
	exit(1);
}

/*
 * A child's channel ended or broke: it is gone, which stops everything.
 * The kernel gets a moment to tell how it ended, which proc_reap() says
 * before it stops the daemon.
 */
static void
child_lost(struct child *c, const char *why)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	char		 msg[128];
	int		 i;

	if (parent->stopping)
		return;
	proc_drain(c);
	for (i = 0; i < 50; i++) {
		proc_reap(parent);
		nanosleep(&ts, NULL);
	}
	log_warnx("%s (pid %d): %s", proc_name(c->id), (int)c->pid, why);
	snprintf(msg, sizeof(msg), "%s is gone", proc_name(c->id));
	parent_fatal(msg);
}

/*
 * A session's server, as mcpd asks for it by the app's name: the
 * configuration says whether it is offered, and what runs (a stdio
 * app's, spawn.c) or where it is (an HTTP or SSE app's, httpapp.c).
 */
static void
parent_app_start(uint32_t peer, struct app_start *as)
{
	const struct app_res	*app;
	struct app_failed	 f;

	as->ref.session[sizeof(as->ref.session) - 1] = '\0';
	as->app[sizeof(as->app) - 1] = '\0';
	as->user[sizeof(as->user) - 1] = '\0';
	app = parent->conf.app_enabled ? app_lookup(as->app) : NULL;
	if (app == NULL) {
		memset(&f, 0, sizeof(f));
		f.ref = as->ref;
		snprintf(f.message, sizeof(f.message), "no app named %s",
		    as->app);
		log_warnx("session %s of %s: %s", as->ref.session, as->user,
		    f.message);
		parent_send(PROC_MCPD, IMSG_APP_FAILED, peer, -1, &f,
		    sizeof(f));
		return;
	}
	if (app->transport != APP_STDIO)
		httpapp_start(peer, as, app);
	else
		spawn_app(peer, as, app);
}

static void
parent_app_stdin(uint32_t peer, const struct app_ref *ref, int fd)
{
	parent_send(PROC_MCPD, IMSG_APP_STDIN, peer, fd, ref, sizeof(*ref));
}

static void
parent_app_started(uint32_t peer, const struct app_started *st,
    int fd)
{
	parent_send(PROC_MCPD, IMSG_APP_STARTED, peer, fd, st, sizeof(*st));
}

static void
parent_app_failed(uint32_t peer, const struct app_failed *f)
{
	parent_send(PROC_MCPD, IMSG_APP_FAILED, peer, -1, f, sizeof(*f));
}

static void
parent_app_exited(uint32_t peer, const struct app_exited *ex)
{
	parent_send(PROC_MCPD, IMSG_APP_EXITED, peer, -1, ex, sizeof(*ex));
}

/* The spawner's end is fatal, as a child's. */
static void
parent_spawner_lost(const char *why)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 i;

	if (parent->stopping)
		return;
	for (i = 0; i < 50 && spawn_pid() > 0; i++) {
		proc_reap(parent);
		nanosleep(&ts, NULL);
	}
	log_warnx("spawner: %s", why);
	parent_fatal("spawner is gone");
}

static const struct spawn_ops parent_spawn_ops = {
	parent_app_stdin, parent_app_started, parent_app_failed,
	parent_app_exited, parent_spawner_lost
};

/*
 * The children's messages.  Each is checked first for its size, with
 * the typed getter, then for its sender: a message of the wrong size or
 * from the wrong child is a compromised child, which stops the daemon.
 */
static void
parent_dispatch(int fd, short events, void *arg)
{
	struct child		*c = arg;
	struct imsg		 imsg;
	struct audit_ack	 ack;
	struct audit_anchor	 anchor;
	struct login_req	 login;
	union {
		struct netd_status	 netd;
		struct mcpd_status	 mcpd;
		struct auditd_status	 auditd;
	}			 st;
	union {
		struct app_start	 start;
		struct app_ref		 ref;
		struct http_key		 key;
	}			 app;
	ssize_t			 n;
	int			 i;

	(void)fd;
	if (events & EV_READ) {
		if ((n = imsgbuf_read(&c->ibuf)) == -1) {
			child_lost(c, "channel broken");
			return;
		}
		if (n == 0) {
			child_lost(c, "closed its channel");
			return;
		}
	}
	if (events & EV_WRITE) {
		if (imsgbuf_write(&c->ibuf) == -1) {
			child_lost(c, "channel broken");
			return;
		}
		child_backlog_flush(c);
	}
	for (;;) {
		if ((n = imsgbuf_get(&c->ibuf, &imsg)) == -1) {
			log_warnx("malformed message from %s",
			    proc_name(c->id));
			child_lost(c, "sent a malformed message");
			return;
		}
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_READY:
			if (imsg_get_len(&imsg) != 0 || c->ready)
				goto bad;
			c->ready = 1;
			log_debug("%s (pid %d) ready", proc_name(c->id),
			    (int)c->pid);
			/* netd takes the origins once it serves. */
			if (c->id == PROC_NETD)
				httpapp_origins_push();
			for (i = PROC_NETD; i < PROC_MAX; i++)
				if (!parent->children[i].ready)
					break;
			if (i == PROC_MAX)
				all_ready();
			break;
		case IMSG_LOG:
			child_log(c, &imsg);
			break;
		case IMSG_STATUS_NETD:
			if (imsg_get_data(&imsg, &st.netd,
			    sizeof(st.netd)) == -1 || c->id != PROC_NETD)
				goto bad;
			control_status_netd(imsg_get_id(&imsg), &st.netd);
			break;
		case IMSG_STATUS_MCPD:
			if (imsg_get_data(&imsg, &st.mcpd,
			    sizeof(st.mcpd)) == -1 || c->id != PROC_MCPD ||
			    control_status_mcpd(imsg_get_id(&imsg),
			    &st.mcpd) == -1)
				goto bad;
			break;
		case IMSG_STATUS_AUDITD:
			if (imsg_get_data(&imsg, &st.auditd,
			    sizeof(st.auditd)) == -1 || c->id != PROC_AUDITD)
				goto bad;
			control_status_auditd(imsg_get_id(&imsg), &st.auditd);
			break;
		case IMSG_AUDIT_ACK:
			if (imsg_get_data(&imsg, &ack, sizeof(ack)) == -1 ||
			    c->id != PROC_AUDITD)
				goto bad;
			parent_audit_ack(imsg_get_id(&imsg), &ack);
			break;
		case IMSG_AUDIT_ANCHOR:
			if (imsg_get_data(&imsg, &anchor, sizeof(anchor)) ==
			    -1 || c->id != PROC_AUDITD ||
			    anchor_update(&anchor) == -1)
				goto bad;
			break;
		case IMSG_AUDIT_SEALED:
			if (imsg_get_len(&imsg) != 0 ||
			    c->id != PROC_AUDITD || !audit_sealing)
				goto bad;
			parent_stop(0);
			break;
		case IMSG_LOGIN_REQ:
			if (imsg_get_data(&imsg, &login, sizeof(login)) ==
			    -1 || c->id != PROC_MCPD)
				goto bad;
			login_request(imsg_get_id(&imsg), &login);
			explicit_bzero(&login, sizeof(login));
			break;
		case IMSG_DRAINED:
			if (imsg_get_len(&imsg) != 0 || c->id != PROC_MCPD ||
			    !parent->stopping)
				goto bad;
			stop_record();
			break;
		case IMSG_APP_START:
			if (imsg_get_data(&imsg, &app.start,
			    sizeof(app.start)) == -1 || c->id != PROC_MCPD)
				goto bad;
			parent_app_start(imsg_get_id(&imsg), &app.start);
			break;
		case IMSG_HTTP_SESSION_READY:
			if (imsg_get_data(&imsg, &app.key,
			    sizeof(app.key)) == -1 || c->id != PROC_NETD)
				goto bad;
			app.key.ref.session[sizeof(app.key.ref.session) - 1] =
			    '\0';
			if (httpapp_ready(imsg_get_id(&imsg), &app.key) == -1)
				goto bad;
			break;
		case IMSG_APP_STOP:
			if (imsg_get_data(&imsg, &app.ref,
			    sizeof(app.ref)) == -1 || c->id != PROC_MCPD)
				goto bad;
			app.ref.session[sizeof(app.ref.session) - 1] = '\0';
			if (!httpapp_stop(imsg_get_id(&imsg), &app.ref))
				spawn_stop(imsg_get_id(&imsg), &app.ref);
			break;
		default:
			goto bad;
		}
		imsg_free(&imsg);
	}
	child_events(c);
	return;
 bad:
	log_warnx("unexpected message %s (%zu bytes) from %s",
	    imsg_type_name(imsg_get_type(&imsg)), imsg_get_len(&imsg),
	    proc_name(c->id));
	imsg_free(&imsg);
	child_lost(c, "sent an unexpected message");
}

/*
 * Keys that live in the children's set-up and cannot change under them:
 * a reload reports them and keeps the running values.
 */
static void
reload_fixed(struct mcpgated_conf *nc, json_t *restart)
{
	struct mcpgated_conf	*oc = &parent->conf;
	int			 i, same;

#define KEEP(field, name) do {						\
	if (strcmp(nc->field, oc->field) != 0) {			\
		json_array_append_new(restart, json_string(name));	\
		strlcpy(nc->field, oc->field, sizeof(nc->field));	\
	}								\
} while (0)
	KEEP(user, "mcpgated.user");
	KEEP(audit_user, "mcpgated.audit_user");
	KEEP(resolver_user, "mcpgated.resolver_user");
	KEEP(chroot, "mcpgated.chroot");
	KEEP(state_dir, "mcpgated.state_dir");
	KEEP(control_socket, "mcpgated.control_socket");
	KEEP(audit_dir, "audit.dir");
	KEEP(name, "proxy_service.name");
	KEEP(public_addr, "proxy_service.public_addr");
#undef KEEP
	same = nc->nlisten == oc->nlisten &&
	    nc->proxy_enabled == oc->proxy_enabled;
	for (i = 0; same && i < nc->nlisten; i++)
		if (strcmp(nc->listen[i].text, oc->listen[i].text) != 0)
			same = 0;
	if (!same) {
		json_array_append_new(restart,
		    json_string("proxy_service.listen_addr"));
		nc->nlisten = oc->nlisten;
		nc->proxy_enabled = oc->proxy_enabled;
		memcpy(nc->listen, oc->listen, sizeof(nc->listen));
	}
	if (nc->max_message_size != oc->max_message_size) {
		json_array_append_new(restart,
		    json_string("limits.max_message_size"));
		nc->max_message_size = oc->max_message_size;
	}
}

static void	 parent_audit_syslog(const struct mcpgated_conf *);

/*
 * Read the configuration again.  A bad file is reported and the running
 * configuration stays; a good one goes to every child.  Either way the
 * attempt is audited.
 */
int
parent_reload(const char *trigger, uid_t uid, json_t **errorsp,
    json_t **restartp)
{
	struct mcpgated_conf	*nc;
	struct conf_errors	 errs;
	struct conf_snapshot	 snap;
	json_t			*errors, *restart, *rec;
	int			 i;

	if ((nc = malloc(sizeof(*nc))) == NULL) {
		log_warn("reload");
		return (-1);
	}
	if (config_parse_file(parent->conf_path, nc, &errs) == -1) {
		errors = json_array();
		for (i = 0; i < errs.n; i++) {
			log_warnx("reload: %s", errs.msg[i]);
			json_array_append_new(errors, json_string(errs.msg[i]));
		}
		log_warnx("reload failed: the running configuration stays");
		rec = json_pack("{s:s,s:b,s:s,s:i,s:s,s:O}", "event",
		    "daemon.reload", "success", 0, "trigger", trigger,
		    "admin_uid", (int)uid, "error", errs.msg[0],
		    "errors", errors);
		parent_audit(rec, NULL, NULL);
		if (errorsp != NULL)
			*errorsp = errors;
		else
			json_decref(errors);
		free(nc);
		return (-1);
	}
	restart = json_array();
	reload_fixed(nc, restart);
	for (i = 0; i < (int)json_array_size(restart); i++)
		log_warnx("reload: %s changed; restart mcpgated to apply it",
		    json_string_value(json_array_get(restart, i)));
	strlcpy(nc->path, parent->conf_path, sizeof(nc->path));
	/* The running apps go; a server started from one has its copy. */
	config_free(&parent->conf);
	memcpy(&parent->conf, nc, sizeof(*nc));
	free(nc);
	log_setlevel(parent->verbose ? LOG_LVL_DEBUG : parent->conf.log_level);
	apps_log_hidden();

	spawn_set_max(parent->conf.max_connections);
	parent_conf_snapshot(&parent->conf, &snap);
	for (i = PROC_NETD; i < PROC_MAX; i++)
		parent_send(i, IMSG_RECONF, 0, -1, &snap, sizeof(snap));
	parent_audit_syslog(&parent->conf);
	/* The apps offered may have changed: new sessions see them. */
	identity_push();
	if (restartp != NULL)
		*restartp = json_incref(restart);
	parent_audit(json_pack("{s:s,s:b,s:s,s:i,s:o}", "event",
	    "daemon.reload", "success", 1, "trigger", trigger, "admin_uid",
	    (int)uid, "restart_needed", restart), NULL, NULL);
	log_info("configuration reloaded (%s)", trigger);
	return (0);
}

/*
 * daemon.stop is written: auditd seals the log with a checkpoint and
 * reports it, so that the anchor covers the whole log, then everything
 * stops.
 */
static void
stop_audited(void *arg, const struct audit_ack *ack)
{
	(void)arg;
	(void)ack;
	if (audit_sealing)
		return;
	audit_sealing = 1;
	parent_send(PROC_AUDITD, IMSG_AUDIT_SEAL, 0, -1, NULL, 0);
	ev_timer_del(&stop_timer);
	ev_timer_add(&stop_timer, STOP_AUDIT_MS);
}

/* The sessions have ended (or will not in time): record daemon.stop. */
static void
stop_record(void)
{
	if (parent->stop_recorded)
		return;
	parent->stop_recorded = 1;
	parent_audit(json_pack("{s:s,s:s}", "event", "daemon.stop",
	    "reason", parent->stop_why), stop_audited, NULL);
	ev_timer_del(&stop_timer);
	ev_timer_add(&stop_timer, STOP_AUDIT_MS);
}

static void
stop_timeout(void *arg)
{
	(void)arg;
	if (!parent->stop_recorded) {
		log_warnx("mcpd did not end its sessions in time");
		stop_record();
		return;
	}
	if (audit_sealing)
		log_warnx("auditd did not seal the log in time");
	else
		log_warnx("auditd did not confirm daemon.stop in time");
	parent_stop(0);
}

/*
 * Stop cleanly: mcpd ends the sessions and their records are written,
 * then daemon.stop is, then the children finish.
 */
static void
parent_begin_stop(const char *why)
{
	if (parent->stopping)
		return;
	parent->stopping = 1;
	strlcpy(parent->stop_why, why, sizeof(parent->stop_why));
	log_info("%s, stopping", why);
	ev_timer_set(&stop_timer, stop_timeout, NULL);
	ev_timer_add(&stop_timer, STOP_AUDIT_MS);
	if (parent->children[PROC_MCPD].ready)
		parent_send(PROC_MCPD, IMSG_DRAIN, 0, -1, NULL, 0);
	else
		stop_record();
}

static void
parent_stop(int status)
{
	int	 i;

	ev_timer_del(&stop_timer);
	/*
	 * Tell each child this is a clean stop (auditd then seals the log),
	 * and let what is queued go out before the channels close.
	 */
	for (i = PROC_NETD; i < PROC_MAX; i++) {
		if (parent->children[i].pid <= 0)
			continue;
		parent_send(i, IMSG_STOP, 0, -1, NULL, 0);
		imsgbuf_flush(&parent->children[i].ibuf);
	}
	proc_stop_all(parent, 1);
	control_cleanup(parent->conf.control_socket);
	ca_free(&parent->ca);
	jwt_free(&parent->jwt);
	store_free(&parent->store);
	config_free(&parent->conf);
	log_info("stopped");
	exit(status);
}

static void
parent_signal(int fd, short events, void *arg)
{
	struct signalfd_siginfo	 si;
	ssize_t			 n;

	(void)events;
	(void)arg;
	while ((n = read(fd, &si, sizeof(si))) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			proc_reap(parent);
			break;
		case SIGHUP:
			if (!parent->stopping)
				parent_reload("signal", si.ssi_uid, NULL,
				    NULL);
			break;
		case SIGTERM:
			parent_begin_stop("received SIGTERM");
			break;
		case SIGINT:
			parent_begin_stop("received SIGINT");
			break;
		}
	}
}

/*
 * audit.syslog for auditd, with a datagram socket connected to /dev/log
 * when it is on: auditd may make no socket itself.  A fresh one at each
 * reload, so that a syslog daemon restarted since is reached again.
 */
static void
parent_audit_syslog(const struct mcpgated_conf *c)
{
	struct audit_syslog	 as;
	struct sockaddr_un	 sun;
	int			 fd = -1;

	memset(&as, 0, sizeof(as));
	as.enabled = c->audit_syslog;
	as.facility = c->audit_syslog_facility;
	strlcpy(as.tag, c->audit_syslog_tag, sizeof(as.tag));
	if (as.enabled) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, _PATH_LOG, sizeof(sun.sun_path));
		if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			log_warn("audit.syslog: cannot connect to %s; audit "
			    "records go to the audit file only, until a reload "
			    "finds it", _PATH_LOG);
			if (fd != -1)
				close(fd);
			fd = -1;
		}
	}
	parent_send(PROC_AUDITD, IMSG_AUDIT_SYSLOG, 0, fd, &as, sizeof(as));
}

static void
send_init(struct parent *p, const struct sandbox_creds creds[PROC_MAX],
    int netd_mcpd[2], int mcpd_auditd[2], int netd_resolver[2], int auditdir)
{
	struct conf_snapshot	 snap;
	struct init_peer	 peer;
	struct audit_key	 akey;
	size_t			 klen = sizeof(akey.seed);
	int			 i;

	parent_conf_snapshot(&p->conf, &snap);
	for (i = PROC_NETD; i < PROC_MAX; i++) {
		parent_send(i, IMSG_INIT_CREDS, 0, -1, &creds[i],
		    sizeof(creds[i]));
		parent_send(i, IMSG_INIT_CONF, 0, -1, &snap, sizeof(snap));
	}

	peer.proc = PROC_MCPD;
	parent_send(PROC_NETD, IMSG_INIT_PEER, 0, netd_mcpd[0], &peer,
	    sizeof(peer));
	for (i = 0; i < p->nbound; i++) {
		parent_send(PROC_NETD, IMSG_INIT_LISTEN, 0, p->listen_fds[i],
		    &p->bound[i], sizeof(p->bound[i]));
		p->listen_fds[i] = -1;	/* the parent keeps no network socket */
	}
	parent_send(PROC_NETD, IMSG_INIT_TLS_CERT, 0, -1,
	    p->ca.server_cert_pem, strlen(p->ca.server_cert_pem));
	parent_send(PROC_NETD, IMSG_INIT_TLS_KEY, 0, -1,
	    p->ca.server_key_pem, p->ca.server_key_len);
	freezero(p->ca.server_key_pem, p->ca.server_key_len);
	p->ca.server_key_pem = NULL;
	parent_send(PROC_NETD, IMSG_INIT_CA_CERT, 0, -1, p->ca.ca_pem,
	    strlen(p->ca.ca_pem));
	peer.proc = PROC_RESOLVER;
	parent_send(PROC_NETD, IMSG_INIT_PEER, 0, netd_resolver[0], &peer,
	    sizeof(peer));
	peer.proc = PROC_NETD;
	parent_send(PROC_RESOLVER, IMSG_INIT_PEER, 0, netd_resolver[1], &peer,
	    sizeof(peer));

	peer.proc = PROC_NETD;
	parent_send(PROC_MCPD, IMSG_INIT_PEER, 0, netd_mcpd[1], &peer,
	    sizeof(peer));
	peer.proc = PROC_AUDITD;
	parent_send(PROC_MCPD, IMSG_INIT_PEER, 0, mcpd_auditd[0], &peer,
	    sizeof(peer));
	parent_send(PROC_MCPD, IMSG_INIT_CA_CERT, 0, -1, p->ca.ca_pem,
	    strlen(p->ca.ca_pem));
	identity_push();

	peer.proc = PROC_MCPD;
	parent_send(PROC_AUDITD, IMSG_INIT_PEER, 0, mcpd_auditd[1], &peer,
	    sizeof(peer));
	parent_send(PROC_AUDITD, IMSG_INIT_AUDIT_DIR, 0, auditdir, NULL, 0);
	if (EVP_PKEY_get_raw_private_key(p->ca.audit_key, akey.seed,
	    &klen) != 1 || klen != sizeof(akey.seed))
		fatalx("audit key: cannot export");
	parent_send(PROC_AUDITD, IMSG_INIT_AUDIT_KEY, 0, -1, &akey,
	    sizeof(akey));
	explicit_bzero(&akey, sizeof(akey));
	parent_audit_syslog(&p->conf);

	for (i = PROC_NETD; i < PROC_MAX; i++)
		parent_send(i, IMSG_INIT_DONE, 0, -1, NULL, 0);
}

static void
start_children(struct parent *p, const struct sandbox_creds creds[PROC_MAX])
{
	int	 chan[PROC_MAX][2], netd_mcpd[2], mcpd_auditd[2];
	int	 netd_resolver[2];
	int	 i, auditdir;

	if ((auditdir = open(p->conf.audit_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("%s", p->conf.audit_dir);
	for (i = PROC_NETD; i < PROC_MAX; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    chan[i]) == -1)
			fatal("socketpair");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    netd_mcpd) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    mcpd_auditd) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    netd_resolver) == -1)
		fatal("socketpair");

	for (i = PROC_NETD; i < PROC_MAX; i++) {
		struct child	*c = &p->children[i];

		c->id = i;
		c->pid = proc_start(p, i, chan[i][1], &c->errfd);
		close(chan[i][1]);
		ev_set(&c->errev, c->errfd, proc_stderr, c);
		if (ev_add(&c->errev, EV_READ) == -1)
			fatal("ev_add");
		if (imsgbuf_init(&c->ibuf, chan[i][0]) == -1)
			fatal("imsgbuf_init");
		imsgbuf_allow_fdpass(&c->ibuf);
		imsgbuf_set_maxmsg(&c->ibuf, i == PROC_MCPD ?
		    SNAPSHOT_MSG_MAX : p->conf.max_message_size);
		/* An origin with its CAs: netd reads up to the default. */
		if (i == PROC_NETD && p->conf.max_message_size <
		    IMSG_DEFAULT_MAXMSG)
			imsgbuf_set_maxmsg(&c->ibuf, IMSG_DEFAULT_MAXMSG);
		/* Room for the largest part of a snapshot, and more. */
		if (i == PROC_MCPD)
			imsgbuf_set_maxqueue(&c->ibuf, 2 * SNAPSHOT_MSG_MAX);
		TAILQ_INIT(&c->backlog);
		ev_set(&c->ev, chan[i][0], parent_dispatch, c);
		child_events(c);
		log_debug("started %s (pid %d)", proc_name(i), (int)c->pid);
	}
	send_init(p, creds, netd_mcpd, mcpd_auditd, netd_resolver, auditdir);
}

/*
 * The daemon leaves its working directory for /, and a reload must read
 * the same file: its path is made absolute at the start.
 */
static void
conf_path_absolute(struct parent *p)
{
	char	 cwd[PATH_MAX], abs[PATH_MAX];

	if (p->conf_path[0] == '/')
		return;
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, p->conf_path) >=
	    sizeof(abs))
		fatalx("%s: cannot make the path absolute", p->conf_path);
	strlcpy(p->conf_path, abs, sizeof(p->conf_path));
}

static void
signals_init(void)
{
	sigset_t	 mask;
	int		 fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	ev_set(&sig_ev, fd, parent_signal, NULL);
	if (ev_add(&sig_ev, EV_READ) == -1)
		fatal("ev_add");
}

int
main(int argc, char *argv[])
{
	struct sandbox_creds	 creds[PROC_MAX];
	struct conf_errors	 errs;
	struct parent		*p = &parent_state;
	const char		*procname = NULL;
	int			 ch, checkonly = 0, i;
	enum proc_id		 id;

	/* The commands an administrator runs once: before setproctitle. */
	if (argc > 1 && strcmp(argv[1], "configure") == 0) {
		argv[1] = cmdname_configure;	/* getopt's messages */
		configure_main(argc - 1, argv + 1);
	}
	if (argc > 1 && strcmp(argv[1], "install") == 0) {
		argv[1] = cmdname_install;
		install_main(argc - 1, argv + 1);
	}
	setproctitle_init(argc, argv, environ);
	json_zeroing_alloc();
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			usage(stdout, 0);

	memset(p, 0, sizeof(*p));
	for (i = 0; i < PROC_MAX; i++)
		p->children[i].ibuf.fd = p->children[i].errfd = -1;
	strlcpy(p->conf_path, CONF_DEFAULT_PATH, sizeof(p->conf_path));
	while ((ch = getopt(argc, argv, "df:nP:v")) != -1) {
		switch (ch) {
		case 'd':
			p->foreground = 1;
			break;
		case 'f':
			if (strlcpy(p->conf_path, optarg,
			    sizeof(p->conf_path)) >= sizeof(p->conf_path))
				errx(1, "configuration path too long");
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'P':
			procname = optarg;
			break;
		case 'v':
			p->verbose = 1;
			break;
		default:
			usage(stderr, 1);
		}
	}
	if (optind != argc)
		usage(stderr, 1);

	if (procname != NULL) {
		if (strcmp(procname, "netd") == 0)
			id = PROC_NETD;
		else if (strcmp(procname, "mcpd") == 0)
			id = PROC_MCPD;
		else if (strcmp(procname, "auditd") == 0)
			id = PROC_AUDITD;
		else if (strcmp(procname, "resolver") == 0)
			id = PROC_RESOLVER;
		else if (strcmp(procname, "spawner") == 0)
			id = PROC_PARENT;	/* not a child of children[] */
		else
			errx(1, "-P is for mcpgated's own children");
		if (fcntl(PROC_PARENT_FD, F_GETFD) == -1)
			errx(1, "-P is for mcpgated's own children");
		switch (id) {
		case PROC_NETD:
			netd_main(p->foreground, p->verbose);
		case PROC_MCPD:
			mcpd_main(p->foreground, p->verbose);
		case PROC_AUDITD:
			auditd_main(p->foreground, p->verbose);
		case PROC_RESOLVER:
			resolver_main(p->foreground, p->verbose);
		case PROC_PARENT:
			spawner_main(p->foreground, p->verbose);
		default:
			abort();
		}
	}

	if (config_parse_file(p->conf_path, &p->conf, &errs) == -1) {
		print_errors(&errs);
		exit(1);
	}
	if (checkonly) {
		check_path = p->conf_path;
		for (i = 0; i < (int)p->conf.napps; i++)
			check_errors += app_check(&p->conf.apps[i],
			    check_say, check_warn);
		if (check_errors > 0)
			exit(1);
		printf("configuration OK\n");
		exit(0);
	}

	log_init(1, LOG_DAEMON);
	log_procinit("parent");
	log_setlevel(p->verbose ? LOG_LVL_DEBUG : p->conf.log_level);
	parent = p;
	conf_path_absolute(p);
	p->root = geteuid() == 0;
	if (!p->root)
		log_warnx("not running as root: the children keep this "
		    "user and skip chroot; seccomp and Landlock still apply");
	if (prepare_fs(p, creds) == -1)
		exit(1);
	anchor_init(p->conf.state_dir);
	if (ca_init(&p->ca, &p->conf) == -1 ||
	    jwt_init(&p->jwt, p->conf.state_dir) == -1)
		exit(1);
	if (store_load(&p->store, p->conf.state_dir) == -1) {
		log_warnx("the identity store in %s cannot be read",
		    p->conf.state_dir);
		exit(1);
	}
	apps_log_hidden();
	for (i = 0; i < (int)p->conf.napps; i++)
		app_check(&p->conf.apps[i], start_say, start_warn);
	if (login_init() == -1)
		exit(1);
	if (bind_listeners(p) == -1)
		exit(1);
	if (control_init(p->conf.control_socket) == -1)
		exit(1);
	if ((p->self_fd = open("/proc/self/exe", O_PATH | O_CLOEXEC)) == -1)
		fatal("/proc/self/exe");

	if (!p->foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(0, LOG_DAEMON);
	}
	setproctitle("parent");
	json_object_seed(0);	/* else jansson opens /dev/urandom later */
	p->start_us = now_us();
	if (ev_init() == -1)
		fatal("ev_init");
	signals_init();
	control_listen();
	start_children(p, creds);
	/*
	 * The spawner too, before the sandbox (which it must not inherit)
	 * and before any thread.
	 */
	spawn_set_max(p->conf.max_connections);
	spawn_init(p->self_fd, p->foreground, p->verbose, &parent_spawn_ops);
	/* The children are started; what the parent starts now inherits. */
	parent_sandbox_enter(p);
	ev_timer_set(&start_timer, start_timeout, NULL);
	ev_timer_add(&start_timer, START_TIMEOUT_MS);

	if (ev_dispatch() == -1)
		fatal("event loop");
	return (0);
}
