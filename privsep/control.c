/*
 * The control socket: mcpgatectl's way in.  A unix stream socket, mode
 * 0600, whose peers are checked again with SO_PEERCRED: root, or the
 * daemon's own user when it runs unprivileged.  One JSON request per line,
 * one JSON answer per line.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit_record.h"
#include "buf.h"
#include "log.h"
#include "privsep.h"

#define CTL_MAXREQ	(8 * 1024 * 1024)	/* create takes 4 MiB of YAML */
#define CTL_READ	(64 * 1024)
#define CTL_MAXCONNS	32
#define CTL_STATUS_MS	2000

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	uint32_t		 id;
	int			 fd;
	uid_t			 uid;
	pid_t			 pid;
	struct event		 ev;
	struct ev_timer		 timer;
	struct buf		 rbuf;
	char			*wbuf;
	size_t			 wlen;
	size_t			 woff;
	int			 busy;		/* an answer is on its way */
	int			 closing;
	int			 have_netd;
	int			 have_mcpd;
	int			 have_auditd;
	struct netd_status	 netd;
	struct mcpd_status	 mcpd;
	struct auditd_status	 auditd;
};

static TAILQ_HEAD(, ctl_conn)	 ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static struct event		 ctl_ev;
static int			 ctl_fd = -1;
static int			 ctl_nconns;
static uint32_t			 ctl_nextid = 1;

static void	 control_accept(int, short, void *);
static void	 control_io(int, short, void *);
static void	 control_close(struct ctl_conn *);
static void	 control_answer(struct ctl_conn *, json_t *);
static void	 control_handle(struct ctl_conn *, const char *, size_t);
static void	 control_status_send(struct ctl_conn *);

/*
 * Bind the socket, refusing to take it over from a daemon that is still
 * answering on it.
 */
int
control_init(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("control socket");
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_warnx("%s is in use: is another mcpgated running?", path);
		close(fd);
		return (-1);
	}
	close(fd);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_warnx("%s exists and is not a socket; not replacing it",
		    path);
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("control socket");
		return (-1);
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", path);
		umask(old);
		close(fd);
		return (-1);
	}
	umask(old);
	if (chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		log_warn("%s", path);
		close(fd);
		unlink(path);
		return (-1);
	}
	ctl_fd = fd;
	return (0);
}

/* Start serving; the event loop must exist. */
void
control_listen(void)
{
	ev_set(&ctl_ev, ctl_fd, control_accept, NULL);
	if (ev_add(&ctl_ev, EV_READ) == -1)
		fatal("control ev_add");
}

void
control_cleanup(const char *path)
{
	struct ctl_conn	*c;

	while ((c = TAILQ_FIRST(&ctl_conns)) != NULL)
		control_close(c);
	if (ctl_fd != -1) {
		close(ctl_fd);
		ctl_fd = -1;
		unlink(path);
	}
}

static void
control_accept(int fd, short events, void *arg)
{
	struct ctl_conn	*c;
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int		 cfd;
	static const char refusal[] = "{\"ok\":false,\"error\":"
	    "\"permission_denied\",\"message\":\"the control socket is for "
	    "root only\"}\n";

	(void)events;
	(void)arg;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control SO_PEERCRED");
		close(cfd);
		return;
	}
	if (cred.uid != 0 && cred.uid != geteuid()) {
		log_warnx("control: refused uid %u (pid %d)",
		    (unsigned)cred.uid, (int)cred.pid);
		if (write(cfd, refusal, sizeof(refusal) - 1) == -1)
			log_debug("control: refusal not sent");
		close(cfd);
		return;
	}
	if (ctl_nconns >= CTL_MAXCONNS) {
		log_warnx("control: too many connections");
		close(cfd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("control");
		close(cfd);
		return;
	}
	buf_init(&c->rbuf, CTL_MAXREQ);
	c->id = ctl_nextid++;
	if (ctl_nextid == 0)
		ctl_nextid = 1;
	c->fd = cfd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	ev_set(&c->ev, cfd, control_io, c);
	ev_timer_set(&c->timer, NULL, NULL);
	if (ev_add(&c->ev, EV_READ) == -1) {
		log_warn("control ev_add");
		close(cfd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	ctl_nconns++;
}

static void
control_close(struct ctl_conn *c)
{
	ev_del(&c->ev);
	ev_timer_del(&c->timer);
	close(c->fd);
	free(c->wbuf);
	if (c->rbuf.data != NULL)
		explicit_bzero(c->rbuf.data, c->rbuf.cap);
	buf_free(&c->rbuf);
	TAILQ_REMOVE(&ctl_conns, c, entry);
	ctl_nconns--;
	free(c);
}

static struct ctl_conn *
control_find(uint32_t id)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &ctl_conns, entry)
		if (c->id == id)
			return (c);
	return (NULL);
}

static void
control_update(struct ctl_conn *c)
{
	short	 events = 0;

	if (c->wlen > c->woff)
		events |= EV_WRITE;
	else if (!c->busy && !c->closing)
		events |= EV_READ;
	if (events == 0 && c->closing) {
		control_close(c);
		return;
	}
	if (ev_add(&c->ev, events) == -1)
		control_close(c);
}

static void
control_io(int fd, short events, void *arg)
{
	struct ctl_conn	*c = arg;
	ssize_t		 n;
	char		*nl, chunk[CTL_READ];
	size_t		 linelen;

	if (events & EV_WRITE) {
		n = write(fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			control_close(c);
			return;
		}
		if (n > 0)
			c->woff += (size_t)n;
		if (c->woff == c->wlen) {
			free(c->wbuf);
			c->wbuf = NULL;
			c->wlen = c->woff = 0;
		}
	}
	if ((events & EV_READ) && !c->busy) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			control_close(c);
			return;
		}
		if (n > 0 && buf_add(&c->rbuf, chunk, (size_t)n) == -1) {
			c->rbuf.failed = 0;
			c->rbuf.len = 0;
			c->closing = 1;
			control_answer(c, control_error("bad_request",
			    "request longer than %d MiB",
			    CTL_MAXREQ / 1024 / 1024));
			return;
		}
	}
	/* One request at a time; the next waits until this one is answered. */
	while (!c->busy && c->wlen == 0 &&
	    c->rbuf.len > 0 && (nl = memchr(c->rbuf.data, '\n',
	    c->rbuf.len)) != NULL) {
		linelen = (size_t)(nl - c->rbuf.data);
		*nl = '\0';
		control_handle(c, c->rbuf.data, linelen);
		explicit_bzero(c->rbuf.data, linelen);
		memmove(c->rbuf.data, nl + 1, c->rbuf.len - linelen - 1);
		c->rbuf.len -= linelen + 1;
	}
	control_update(c);
}

static void
control_answer(struct ctl_conn *c, json_t *ans)
{
	char	*s;

	c->busy = 0;
	if (ans == NULL || (s = json_dumps(ans, JSON_COMPACT)) == NULL) {
		json_decref(ans);
		control_close(c);
		return;
	}
	json_decref(ans);
	free(c->wbuf);
	if (asprintf(&c->wbuf, "%s\n", s) == -1) {
		free(s);
		control_close(c);
		return;
	}
	free(s);
	c->wlen = strlen(c->wbuf);
	c->woff = 0;
	control_update(c);
}

json_t *
control_error(const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (json_pack("{s:b,s:s,s:s}", "ok", 0, "error", code,
	    "message", msg));
}

/* The answer to a request that took a while; the asker may be gone. */
void
control_reply(uint32_t id, json_t *ans)
{
	struct ctl_conn	*c;

	if ((c = control_find(id)) == NULL) {
		json_decref(ans);
		return;
	}
	control_answer(c, ans);
}

static void
control_status_timeout(void *arg)
{
	control_status_send(arg);
}

static void
control_status(struct ctl_conn *c)
{
	c->busy = 1;
	c->have_netd = c->have_mcpd = c->have_auditd = 0;
	parent_send(PROC_NETD, IMSG_STATUS_REQ, c->id, -1, NULL, 0);
	parent_send(PROC_MCPD, IMSG_STATUS_REQ, c->id, -1, NULL, 0);
	parent_send(PROC_AUDITD, IMSG_STATUS_REQ, c->id, -1, NULL, 0);
	ev_timer_set(&c->timer, control_status_timeout, c);
	ev_timer_add(&c->timer, CTL_STATUS_MS);
}

/*
 * A child's part of a status answer, whole: the dispatcher took it with
 * the typed getter, and a part of the wrong size stopped the daemon.
 * The answer goes once every part is in.
 */
static struct ctl_conn *
control_status_conn(uint32_t id)
{
	struct ctl_conn	*c;

	if ((c = control_find(id)) == NULL || !c->busy)
		return (NULL);		/* timed out or gone */
	return (c);
}

static void
control_status_part(struct ctl_conn *c)
{
	if (c->have_netd && c->have_mcpd && c->have_auditd)
		control_status_send(c);
}

void
control_status_netd(uint32_t id, const struct netd_status *st)
{
	struct ctl_conn	*c;

	if ((c = control_status_conn(id)) == NULL)
		return;
	c->netd = *st;
	c->have_netd = 1;
	control_status_part(c);
}

/*
 * mcpd's part names its apps: distinct NUL-terminated names of the
 * characters a name may have, or mcpd is not itself (-1).
 */
int
control_status_mcpd(uint32_t id, const struct mcpd_status *st)
{
	struct ctl_conn	*c;
	const char	*p;
	uint32_t	 i, j;

	if (st->napps >= STATUS_APPS_MAX)
		return (-1);
	for (i = 0; i < st->napps; i++) {
		p = st->apps[i].name;
		if (memchr(p, '\0', sizeof(st->apps[i].name)) == NULL ||
		    *p == '\0')
			return (-1);
		for (; *p != '\0'; p++)
			if (!name_char((unsigned char)*p, NAME_PUNCT "@"))
				return (-1);
		/* Twice would be two series of one name. */
		for (j = 0; j < i; j++)
			if (strcmp(st->apps[j].name, st->apps[i].name) == 0)
				return (-1);
	}
	if ((c = control_status_conn(id)) == NULL)
		return (0);
	c->mcpd = *st;
	c->have_mcpd = 1;
	control_status_part(c);
	return (0);
}

void
control_status_auditd(uint32_t id, const struct auditd_status *st)
{
	struct ctl_conn	*c;

	if ((c = control_status_conn(id)) == NULL)
		return;
	c->auditd = *st;
	c->auditd.file[sizeof(c->auditd.file) - 1] = '\0';
	c->have_auditd = 1;
	control_status_part(c);
}

/*
 * What mcpd counted, by the fixed label sets of proto.h: every label,
 * zero or not, so that a series does not appear out of nowhere.
 */
static json_t *
control_status_mcp(const struct mcpd_status *st)
{
	json_t		*refusals, *logins, *requests, *m, *apps;
	uint32_t	 i;
	int		 j, k;

	refusals = json_object();
	logins = json_object();
	json_object_set_new(logins, "success",
	    json_integer((json_int_t)st->logins_ok));
	for (j = 0; j < STATUS_REF_MAX; j++) {
		json_object_set_new(refusals, status_refusal_name(j),
		    json_integer((json_int_t)st->refusals[j]));
		json_object_set_new(logins, status_refusal_name(j),
		    json_integer((json_int_t)st->logins_failed[j]));
	}
	requests = json_object();
	for (j = 0; j < STATUS_M_MAX; j++) {
		m = json_object();
		for (k = 0; k < STATUS_RES_MAX; k++)
			json_object_set_new(m, status_result_name(k),
			    json_integer((json_int_t)st->requests[j][k]));
		json_object_set_new(requests, status_method_name(j), m);
	}
	apps = json_array();
	for (i = 0; i < st->napps; i++)
		json_array_append_new(apps, json_pack("{s:s,s:I,s:I}",
		    "name", st->apps[i].name,
		    "open", (json_int_t)st->apps[i].open,
		    "started", (json_int_t)st->apps[i].started));
	/* The apps past the slots, together; "*" is no app's name. */
	if (st->apps[STATUS_APPS_MAX - 1].started > 0)
		json_array_append_new(apps, json_pack("{s:s,s:I,s:I}",
		    "name", "*",
		    "open", (json_int_t)st->apps[STATUS_APPS_MAX - 1].open,
		    "started",
		    (json_int_t)st->apps[STATUS_APPS_MAX - 1].started));
	return (json_pack("{s:o,s:o,s:o,s:{s:I,s:I},s:o}",
	    "refusals", refusals,
	    "logins", logins,
	    "requests", requests,
	    "denials", "tool", (json_int_t)st->tool_denials,
	    "app", (json_int_t)st->app_denials,
	    "apps", apps));
}

/* The parent's own count of the stdio servers. */
static json_t *
control_status_servers(void)
{
	const struct spawn_stats	*ss = spawn_stats();
	json_t				*exits;
	int				 i;

	exits = json_object();
	for (i = 0; i < STATUS_EXIT_MAX; i++)
		json_object_set_new(exits, status_exit_name(i),
		    json_integer((json_int_t)ss->exits[i]));
	return (json_pack("{s:I,s:I,s:I,s:o}",
	    "running", (json_int_t)spawn_running(),
	    "started", (json_int_t)ss->started,
	    "failed", (json_int_t)ss->failed,
	    "exits", exits));
}

static void
control_status_send(struct ctl_conn *c)
{
	struct mcpgated_conf	*conf = &parent->conf;
	json_t			*ans, *procs, *listen, *audit, *conns, *sessions;
	json_t			*refused, *http;
	char			 file[PATH_MAX + AUDIT_FILE_MAX];
	int			 i;

	ev_timer_del(&c->timer);
	procs = json_array();
	json_array_append_new(procs, json_pack("{s:s,s:i}", "name", "parent",
	    "pid", (int)getpid()));
	for (i = PROC_NETD; i < PROC_MAX; i++)
		json_array_append_new(procs, json_pack("{s:s,s:i}", "name",
		    proc_name(i), "pid", (int)parent->children[i].pid));
	listen = json_array();
	for (i = 0; i < parent->nbound; i++)
		json_array_append_new(listen,
		    json_string(parent->bound[i].addr));
	if (c->have_netd)
		conns = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		    "open", (json_int_t)c->netd.conns,
		    "handshaking", (json_int_t)c->netd.handshaking,
		    "accepted", (json_int_t)c->netd.accepted,
		    "refused", (json_int_t)c->netd.refused,
		    "tls_failed", (json_int_t)c->netd.tls_failed,
		    "bytes_received", (json_int_t)c->netd.bytes_in,
		    "bytes_sent", (json_int_t)c->netd.bytes_out);
	else
		conns = json_null();
	/* netd's requests to the HTTP apps' servers, and their bodies. */
	if (c->have_netd)
		http = json_pack("{s:I,s:I,s:I,s:I}",
		    "requests", (json_int_t)c->netd.http_requests,
		    "failed", (json_int_t)c->netd.http_failed,
		    "bytes_received", (json_int_t)c->netd.http_bytes_in,
		    "bytes_sent", (json_int_t)c->netd.http_bytes_out);
	else
		http = json_null();
	if (c->have_mcpd)
		sessions = json_pack("{s:I,s:I,s:I,s:I,s:I}",
		    "open", (json_int_t)c->mcpd.sessions,
		    "connections", (json_int_t)c->mcpd.conns,
		    "buffered", (json_int_t)c->mcpd.buffered,
		    "buffered_peak", (json_int_t)c->mcpd.buffered_peak,
		    "max_buffered", (json_int_t)conf->max_buffered);
	else
		sessions = json_null();
	/* Refusals and ends the limits decided, since the start, by reason. */
	refused = json_object();
	if (c->have_netd) {
		json_object_set_new(refused, "max_connections",
		    json_integer((json_int_t)c->netd.refused));
		json_object_set_new(refused, "max_connections_per_address",
		    json_integer((json_int_t)c->netd.refused_address));
		json_object_set_new(refused, "handshake_timeout",
		    json_integer((json_int_t)c->netd.handshake_timeouts));
		json_object_set_new(refused, "unread_output",
		    json_integer((json_int_t)c->netd.close_timeouts));
	}
	if (c->have_mcpd) {
		json_object_set_new(refused, "request_timeout",
		    json_integer((json_int_t)c->mcpd.request_timeouts));
		json_object_set_new(refused, "max_sessions_per_user",
		    json_integer((json_int_t)c->mcpd.refused_sessions));
		json_object_set_new(refused, "init_timeout",
		    json_integer((json_int_t)c->mcpd.init_timeouts));
		json_object_set_new(refused, "idle_timeout",
		    json_integer((json_int_t)c->mcpd.idle_timeouts));
		json_object_set_new(refused, "over_budget",
		    json_integer((json_int_t)c->mcpd.over_budget));
		json_object_set_new(refused, "max_message_size",
		    json_integer((json_int_t)c->mcpd.too_large));
		json_object_set_new(refused, "max_json_values",
		    json_integer((json_int_t)c->mcpd.too_many_values));
	}
	if (c->have_auditd) {
		snprintf(file, sizeof(file), "%s/%s", conf->audit_dir,
		    c->auditd.file);
		audit = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:b,s:s,s:s}",
		    "dir", conf->audit_dir,
		    "file", c->auditd.file[0] ? file : "",
		    "seq", (json_int_t)c->auditd.seq,
		    "records", (json_int_t)c->auditd.records,
		    "failures", (json_int_t)c->auditd.failures,
		    "syncs", (json_int_t)c->auditd.syncs,
		    "failing", c->auditd.failing,
		    "fsync", config_fsync_name(conf->audit_fsync),
		    "on_failure", conf->audit_on_failure == AUDIT_FAIL_DENY ?
		    "deny" : "allow");
		/* Counted since the start, whatever the switch says now. */
		json_object_set_new(audit, "syslog", json_pack(
		    "{s:b,s:s,s:s,s:b,s:I,s:I,s:I}",
		    "enabled", conf->audit_syslog,
		    "facility", config_facility_name(
		    conf->audit_syslog_facility),
		    "tag", conf->audit_syslog_tag,
		    "connected", c->auditd.syslog_connected,
		    "sent", (json_int_t)c->auditd.syslog_sent,
		    "dropped", (json_int_t)c->auditd.syslog_dropped,
		    "truncated", (json_int_t)c->auditd.syslog_truncated));
	} else
		audit = json_null();
	ans = json_pack("{s:b,s:s,s:s,s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
	    "s:s,s:s,s:o,s:o}",
	    "ok", 1,
	    "version", MCPGATE_VERSION,
	    "name", conf->name,
	    "uptime", (json_int_t)((now_us() - parent->start_us) / 1000000),
	    "config", parent->conf_path,
	    "processes", procs,
	    "listen", listen,
	    "connections", conns,
	    "http", http,
	    "sessions", sessions,
	    "refused", refused,
	    "audit", audit,
	    "ca_fingerprint", parent->ca.fingerprint,
	    "state_dir", conf->state_dir,
	    "mcp", c->have_mcpd ? control_status_mcp(&c->mcpd) : json_null(),
	    "servers", control_status_servers());
	control_answer(c, ans);
}

static void
control_reload(struct ctl_conn *c)
{
	json_t	*errors = NULL, *restart = NULL, *v;
	char	 msg[512] = "configuration reloaded";
	size_t	 i;

	if (parent_reload("control", c->uid, &errors, &restart) == 0) {
		json_array_foreach(restart, i, v) {
			strlcat(msg, i == 0 ? "; restart mcpgated to apply: " :
			    ", ", sizeof(msg));
			strlcat(msg, json_string_value(v), sizeof(msg));
		}
		control_answer(c, json_pack("{s:b,s:s,s:o}", "ok", 1,
		    "message", msg, "restart_needed", restart));
	} else
		control_answer(c, json_pack("{s:b,s:s,s:s,s:o}", "ok", 0,
		    "error", "config", "message", "the configuration has "
		    "errors; the running one stays", "errors",
		    errors != NULL ? errors : json_array()));
}

static void
control_handle(struct ctl_conn *c, const char *line, size_t len)
{
	json_error_t	 jerr;
	json_t		*req;
	const char	*cmd;

	if ((req = json_loadb(line, len, 0, &jerr)) == NULL ||
	    !json_is_object(req) ||
	    (cmd = json_string_value(json_object_get(req, "cmd"))) == NULL) {
		json_decref(req);
		control_answer(c, control_error("bad_request", "a request is "
		    "a JSON object with \"cmd\""));
		return;
	}
	log_debug("control: uid %u: %s", (unsigned)c->uid, cmd);
	c->busy = 1;
	if (strcmp(cmd, "status") == 0)
		control_status(c);
	else if (strcmp(cmd, "reload") == 0)
		control_reload(c);
	else if (jwt_control(c->id, c->uid, cmd) == 0)
		;
	else if (admin_handle(c->id, c->uid, cmd, req) == -1)
		control_answer(c, control_error("unknown_command",
		    "unknown command '%.64s'", cmd));
	json_decref(req);
}
