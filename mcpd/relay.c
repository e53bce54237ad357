/*
 * A session's stdio MCP server, seen from mcpd.  The parent starts it when
 * the client's initialize has been recorded (mcpd names the app; the
 * parent alone decides what runs, as whom and how), and hands over two
 * pipes, the server's stdin and stdout.  Messages pass verbatim both
 * ways, ids and _meta included, except where policy filters (tools/list)
 * or refuses (tools/call, a server-to-client request the client did not
 * declare the capability for); mcp.c decides what the client's messages
 * mean, this file moves them and reads what the server says.  Responses
 * are matched to requests by id, never by order, and each side's
 * unanswered requests are bounded.  When the session ends the pipes close
 * and the parent ends the server; the session's end record waits for its
 * exit status.  An HTTP server's session is the same but for how
 * messages travel (remote.c): the parent hands over no descriptor but
 * tells netd the session's identity headers, and the end record waits
 * for the DELETE of the server's session rather than an exit status.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat.h"
#include "log.h"
#include "mcpd.h"

enum pending_kind {
	PEND_INITIALIZE,
	PEND_TOOLS_LIST,
	PEND_OTHER,
};

/* A session that ended, its record waiting for the server's exit. */
struct ending {
	TAILQ_ENTRY(ending)	 entry;
	uint32_t		 conn;
	uint64_t		 serial;
	json_t			*rec;		/* mcp.session.end */
	struct ev_timer		 timer;
	/* an HTTP server's: the DELETE it waits for, then the stop */
	uint64_t		 reqid;
	char			 session[33];
};

static TAILQ_HEAD(, ending) endings = TAILQ_HEAD_INITIALIZER(endings);
static size_t		 nendings;

/* How long an ended session's record waits for the exit status. */
#define ENDING_WAIT_MS	(APP_TERM_MS + APP_KILL_MS + 5000)
/* How long it waits for an HTTP server's DELETE. */
#define ENDING_DELETE_MS	5000
/* How long a server that closed its stdout has to exit, and the other way. */
#define EXIT_GRACE_MS	1000
/* How long a closed client waits for the answers it is owed. */
#define CLOSE_WAIT_MS	10000
/* What one read takes from a server. */
#define RELAY_READ	(64 * 1024)

static void	 be_readable(int, short, void *);
static void	 be_writable(int, short, void *);
static void	 be_timeout(void *);
static void	 be_lines(struct mconn *);
static void	 ending_done(struct ending *, int, int);

static json_t *
rpc_errorf(json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *
rpc_errorf(json_t *id, int code, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (rpc_error(id, code, msg));
}

static int
relay_pending_cmp(struct pending *a, struct pending *b)
{
	return (strcmp(a->key, b->key));
}

RB_GENERATE_STATIC(pending_tree, pending, entry, relay_pending_cmp)

int
relay_is_stdio(const struct app *app)
{
	return (strcmp(app->type, "stdio") == 0);
}

static struct pending *
relay_pending_find(struct pending_tree *t, json_t *id)
{
	struct pending	 k, *p;

	if ((k.key = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return (NULL);
	p = RB_FIND(pending_tree, t, &k);
	free(k.key);
	return (p);
}

/* 0, or -1 when the id is in use, -2 when full or out of memory. */
static int
relay_pending_add(struct pending_tree *t, size_t *n, json_t *id, int kind)
{
	struct pending	*p;

	if (*n >= RELAY_PENDING_MAX || (p = calloc(1, sizeof(*p))) == NULL)
		return (-2);
	if ((p->key = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY)) ==
	    NULL) {
		free(p);
		return (-2);
	}
	if (RB_FIND(pending_tree, t, p) != NULL) {
		free(p->key);
		free(p);
		return (-1);
	}
	p->id = json_incref(id);
	p->kind = kind;
	RB_INSERT(pending_tree, t, p);
	(*n)++;
	return (0);
}

static void
relay_pending_del(struct pending_tree *t, size_t *n, struct pending *p)
{
	RB_REMOVE(pending_tree, t, p);
	(*n)--;
	json_decref(p->id);
	free(p->key);
	free(p);
}

static void
relay_pending_clear(struct pending_tree *t, size_t *n)
{
	struct pending	*p;

	while ((p = RB_MIN(pending_tree, t)) != NULL)
		relay_pending_del(t, n, p);
}

static void
send_stop(uint32_t conn, uint64_t serial, const char *session)
{
	struct app_ref	 ref;

	memset(&ref, 0, sizeof(ref));
	ref.serial = serial;
	strlcpy(ref.session, session, sizeof(ref.session));
	child_chan_send(&child_parent, IMSG_APP_STOP, conn, -1, &ref,
	    sizeof(ref));
}

/*
 * initialize is recorded: ask the parent for the server.  The session
 * takes no more input until its descriptors arrive.
 */
void
relay_start(struct mconn *c, json_t *initialize)
{
	struct session		*s = c->session;
	struct backend		*be;
	struct app_start	 st;

	if ((be = calloc(1, sizeof(*be))) == NULL) {
		log_warn("session %s", s->id);
		session_send(c, rpc_error(json_object_get(initialize, "id"),
		    RPC_GATEWAY_ERROR, "mcpgate: the gateway is short of "
		    "memory; try again in a moment"));
		session_end(c, END_OVER_BUDGET, "the gateway is short of "
		    "memory");
		return;
	}
	be->state = BE_STARTING;
	be->in_fd = be->out_fd = -1;
	TAILQ_INIT(&be->wq);
	RB_INIT(&be->requests);
	RB_INIT(&be->server_requests);
	ev_timer_set(&be->timer, be_timeout, c);
	be->initialize = json_incref(initialize);
	s->backend = be;
	s->hold = HOLD_SERVER;

	memset(&st, 0, sizeof(st));
	st.ref.serial = s->serial;
	strlcpy(st.ref.session, s->id, sizeof(st.ref.session));
	strlcpy(st.app, s->app->name, sizeof(st.app));
	strlcpy(st.user, c->peer.cert_cn, sizeof(st.user));
	st.not_after = c->peer.cert_not_after;
	child_chan_send(&child_parent, IMSG_APP_START, c->id, -1, &st,
	    sizeof(st));
	log_debug("session %s: starting %s", s->id, s->app->name);
}

/* Bytes mcpd holds for the server: part of the connection's budget. */
size_t
relay_held(const struct session *s)
{
	if (s == NULL || s->backend == NULL)
		return (0);
	return (s->backend->rcap + s->backend->wqueued +
	    remote_held(s->backend->remote));
}

/* Whether the client's next message may go to the server now. */
int
relay_ready(struct mconn *c)
{
	struct backend	*be = c->session->backend;

	if (be != NULL && be->remote != NULL)
		return (remote_ready(be->remote));
	return (be == NULL || be->wqueued < SESSION_OUT_HIGHWATER);
}

static void
be_read_events(struct mconn *c, int on)
{
	struct backend	*be = c->session->backend;

	if (be->out_fd == -1 || be->reading == on)
		return;
	be->reading = on;
	if (on)
		ev_add(&be->rev, EV_READ);
	else
		ev_del(&be->rev);
}

/* The server reads no more: what was queued for it is dropped. */
static void
be_close_input(struct backend *be)
{
	struct mout_chunk	*ch;

	if (be->writing)
		ev_del(&be->wev);
	be->writing = 0;
	if (be->in_fd != -1)
		close(be->in_fd);
	be->in_fd = -1;
	while ((ch = TAILQ_FIRST(&be->wq)) != NULL) {
		TAILQ_REMOVE(&be->wq, ch, entry);
		free(ch);
	}
	be->wqueued = 0;
}

static void
be_flush(struct mconn *c)
{
	struct backend		*be = c->session->backend;
	struct mout_chunk	*ch;
	ssize_t			 n;

	while (be->in_fd != -1 && (ch = TAILQ_FIRST(&be->wq)) != NULL) {
		if ((n = write(be->in_fd, ch->data + ch->off,
		    ch->len - ch->off)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			log_debug("session %s: the server's input: %s",
			    c->session->id, strerror(errno));
			be_close_input(be);
			break;
		}
		ch->off += (size_t)n;
		be->wqueued -= (size_t)n;
		if (ch->off == ch->len) {
			TAILQ_REMOVE(&be->wq, ch, entry);
			free(ch);
		}
	}
	if (be->in_fd != -1 && !TAILQ_EMPTY(&be->wq) != be->writing) {
		be->writing = !be->writing;
		if (be->writing)
			ev_add(&be->wev, EV_WRITE);
		else
			ev_del(&be->wev);
	}
	mconn_account(c);
}

/* One line to the server; a newline is added. */
static void
be_write(struct mconn *c, const char *line, size_t len)
{
	struct backend		*be = c->session->backend;
	struct mout_chunk	*ch;

	if (be->in_fd == -1)
		return;		/* it exited or closed its input */
	if ((ch = malloc(sizeof(*ch) + len + 1)) == NULL) {
		mconn_doom(c);
		return;
	}
	ch->len = len + 1;
	ch->off = 0;
	memcpy(ch->data, line, len);
	ch->data[len] = '\n';
	TAILQ_INSERT_TAIL(&be->wq, ch, entry);
	be->wqueued += ch->len;
	if (TAILQ_FIRST(&be->wq) == ch)
		be_flush(c);
	else
		mconn_account(c);
}

/*
 * A message to the server, whichever way it travels; id is the request's
 * it is, or NULL.
 */
static void
be_send(struct mconn *c, const char *line, size_t len, json_t *id,
    int initialize)
{
	if (c->session->backend->remote != NULL)
		remote_post(c, line, len, id, initialize);
	else
		be_write(c, line, len);
}

/* The same for msg, written compact. */
static void
be_send_json(struct mconn *c, json_t *msg, json_t *id, int initialize)
{
	char	*s;

	if ((s = json_dumps(msg, JSON_COMPACT)) == NULL) {
		mconn_doom(c);
		return;
	}
	be_send(c, s, strlen(s), id, initialize);
	free(s);
}

/* The gateway's own answer to the server; takes msg. */
static void
be_answer(struct mconn *c, json_t *msg)
{
	if (msg == NULL) {
		mconn_doom(c);
		return;
	}
	be_send_json(c, msg, NULL, 0);
	json_decref(msg);
}

/*
 * A client request for the server: remembered by id, then passed on as
 * the client wrote it.  -1 when refused (answered here).
 */
static int
be_request(struct mconn *c, struct rpc *r, const char *line, size_t len)
{
	struct backend	*be = c->session->backend;
	int		 kind = PEND_OTHER;

	if (strcmp(r->method, "tools/list") == 0)
		kind = PEND_TOOLS_LIST;
	else if (strcmp(r->method, "initialize") == 0)
		kind = PEND_INITIALIZE;
	switch (relay_pending_add(&be->requests, &be->nrequests, r->id, kind)) {
	case -1:
		session_send(c, rpc_error(r->id, RPC_INVALID_REQUEST,
		    "Invalid Request: a request with this id is in flight; "
		    "ids must be unique"));
		return (-1);
	case -2:
		session_send(c, rpc_errorf(r->id, RPC_GATEWAY_ERROR,
		    "mcpgate: too many requests in flight in this session "
		    "(at most %d); wait for answers", RELAY_PENDING_MAX));
		return (-1);
	}
	if (line != NULL)
		be_send(c, line, len, r->id, kind == PEND_INITIALIZE);
	else
		be_send_json(c, r->msg, r->id, kind == PEND_INITIALIZE);
	return (0);
}

/*
 * A message from the client for the server, already checked and
 * recorded by mcp.c: a request, a notification, or the answer to one of
 * the server's requests.
 */
void
relay_client(struct mconn *c, struct rpc *r, const char *line, size_t len)
{
	struct backend	*be = c->session->backend;
	struct pending	*p;
	json_t		*rid;

	switch (r->kind) {
	case RPC_REQUEST:
		be_request(c, r, line, len);
		return;
	case RPC_RESPONSE:
		if ((p = relay_pending_find(&be->server_requests, r->id)) == NULL) {
			log_debug("session %s: the client answered a request "
			    "the server did not make; dropped",
			    c->session->id);
			return;
		}
		relay_pending_del(&be->server_requests, &be->nserver_requests, p);
		break;
	case RPC_NOTIFICATION:
		/* A request the client gave up on: no answer will come. */
		if (strcmp(r->method, "notifications/cancelled") == 0 &&
		    (rid = json_object_get(r->params, "requestId")) != NULL &&
		    (p = relay_pending_find(&be->requests, rid)) != NULL &&
		    p->kind != PEND_INITIALIZE)
			relay_pending_del(&be->requests, &be->nrequests, p);
		break;
	default:
		return;
	}
	be_send(c, line, len, NULL, 0);
}

/* A request held for its audit record (tools/call): on to the server. */
void
relay_forward(struct mconn *c, json_t *msg)
{
	struct rpc	 r;

	memset(&r, 0, sizeof(r));
	r.kind = RPC_REQUEST;
	r.msg = msg;
	r.id = json_object_get(msg, "id");
	r.method = json_string_value(json_object_get(msg, "method"));
	if (r.id == NULL || r.method == NULL)
		fatalx("%s: not a request", __func__);
	be_request(c, &r, NULL, 0);
}

/*
 * The client said all it will: may the session end now?  Not while the
 * server owes it answers, for at most CLOSE_WAIT_MS.
 */
int
relay_client_done(struct mconn *c)
{
	struct backend	*be = c->session->backend;

	if (be == NULL || be->state != BE_RUNNING || be->nrequests == 0 ||
	    be->eof || be->exited)
		return (1);
	if (!be->closing) {
		be->closing = 1;
		ev_timer_del(&be->timer);
		ev_timer_add(&be->timer, CLOSE_WAIT_MS);
	}
	return (0);
}

/* The client reads again: so does the relay from the server. */
void
relay_resume(struct mconn *c)
{
	struct backend	*be;

	if (c->session == NULL || (be = c->session->backend) == NULL ||
	    be->state != BE_RUNNING)
		return;
	if (c->out_queued >= SESSION_OUT_HIGHWATER / 2)
		return;
	if (be->remote != NULL)
		remote_resume(c);
	else
		be_lines(c);
}

/* The names of the server's tools the user may call now. */
void
relay_tools_digest(struct mconn *c, struct buf *b)
{
	const struct user	*u = session_user(c);
	struct backend		*be = c->session->backend;
	struct decision		 d;
	size_t			 i;

	for (i = 0; be != NULL && i < be->tools.n; i++)
		if (policy_tool(u, c->session->app, be->tools.v[i], &d))
			buf_printf(b, "%s\n", be->tools.v[i]);
}

static void
exit_text(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "wait status %d", status);
}

static void
exit_fields(json_t *rec, int32_t pid, int exited, int status)
{
	json_t	*o = json_object();

	if (pid > 0)
		json_object_set_new(o, "pid", json_integer(pid));
	if (!exited)
		json_object_set_new(o, "exit", json_string("unknown"));
	else if (WIFEXITED(status))
		json_object_set_new(o, "exit_status",
		    json_integer(WEXITSTATUS(status)));
	else if (WIFSIGNALED(status))
		json_object_set_new(o, "exit_signal",
		    json_integer(WTERMSIG(status)));
	json_object_set_new(rec, "server", o);
}

/*
 * The server is gone, or stopped talking: every request it owes an
 * answer gets an error, and the session ends.
 */
static void
be_gone(struct mconn *c)
{
	struct backend	*be = c->session->backend;
	struct pending	*p;
	char		 st[64], msg[256];

	if (be->exited) {
		exit_text(be->status, st, sizeof(st));
		snprintf(msg, sizeof(msg), "the MCP server exited (%s)", st);
	} else
		snprintf(msg, sizeof(msg), "the MCP server closed its output");
	while ((p = RB_MIN(pending_tree, &be->requests)) != NULL) {
		session_send(c, rpc_error(p->id, RPC_GATEWAY_ERROR, msg));
		relay_pending_del(&be->requests, &be->nrequests, p);
	}
	log_info("session %s: %s", c->session->id, msg);
	session_end(c, WIRE_END_SERVER_EXITED, msg);
}

/*
 * An HTTP server is lost (its session forgotten, its stream ended, its
 * first answer refused): what it owes is answered with why, and the
 * session ends.
 */
void
relay_lost(struct mconn *c, const char *reason, const char *msg)
{
	struct backend	*be = c->session->backend;
	struct pending	*p;

	while ((p = RB_MIN(pending_tree, &be->requests)) != NULL) {
		session_send(c, rpc_error(p->id, RPC_GATEWAY_ERROR, msg));
		relay_pending_del(&be->requests, &be->nrequests, p);
	}
	log_info("session %s: %s", c->session->id, msg);
	session_end(c, reason, msg);
}

/* A request an HTTP server will not answer now, when it still waits. */
void
relay_answer_pending(struct mconn *c, json_t *id, const char *msg)
{
	struct backend	*be = c->session->backend;
	struct pending	*p;

	if ((p = relay_pending_find(&be->requests, id)) == NULL)
		return;
	relay_pending_del(&be->requests, &be->nrequests, p);
	session_send(c, rpc_error(id, RPC_GATEWAY_ERROR, msg));
	if (be->closing && be->nrequests == 0) {
		ev_timer_del(&be->timer);
		ev_timer_add(&be->timer, 0);
	}
}

/*
 * Initialize not answered in time, or the server's output ended (or it
 * exited) and the other half did not follow.
 */
static void
be_timeout(void *arg)
{
	struct mconn	*c = arg;
	struct session	*s = c->session;
	struct backend	*be = s->backend;
	struct pending	*p;
	char		 d[32], msg[256];

	if (be->eof || be->exited) {
		be_gone(c);
		return;
	}
	if (be->closing) {
		session_end(c, "client_closed", NULL);
		return;
	}
	fmt_duration(be->init_timeout / 1000, d, sizeof(d));
	snprintf(msg, sizeof(msg), "the MCP server %s did not answer "
	    "initialize within %s%s", s->app->name, d, be->remote != NULL ?
	    "" : "; the gateway's log has what it wrote to stderr");
	while ((p = RB_MIN(pending_tree, &be->requests)) != NULL) {
		session_send(c, rpc_error(p->id, RPC_GATEWAY_ERROR, msg));
		relay_pending_del(&be->requests, &be->nrequests, p);
	}
	log_warnx("session %s: %s", s->id, msg);
	session_end(c, "server_init_timeout", msg);
}

static void
be_eof(struct mconn *c)
{
	struct backend	*be = c->session->backend;

	be_read_events(c, 0);
	close(be->out_fd);
	be->out_fd = -1;
	be->eof = 1;
	if (be->exited) {
		be_gone(c);
		return;
	}
	ev_timer_del(&be->timer);
	ev_timer_add(&be->timer, EXIT_GRACE_MS);
}

/* A server-to-client request: passed on if the client can answer it. */
static void
be_server_request(struct mconn *c, struct rpc *r, const char *line,
    size_t len)
{
	struct session	*s = c->session;
	struct backend	*be = s->backend;
	json_t		*rec;
	int		 need = 0, n;

	if (strcmp(r->method, "roots/list") == 0)
		need = CAP_ROOTS;
	else if (strcmp(r->method, "sampling/createMessage") == 0)
		need = CAP_SAMPLING;
	else if (strcmp(r->method, "elicitation/create") == 0)
		need = CAP_ELICITATION;
	n = (int)utf8_cut(r->method, strlen(r->method), 64);
	rec = audit_session_fields(c, "mcp.session.server_request");
	audit_string(rec, "method", r->method);
	if (need != 0 && (s->caps & need) == 0) {
		json_object_set_new(rec, "success", json_false());
		json_object_set_new(rec, "result", json_string("refused"));
		json_object_set_new(rec, "error", json_string("the client "
		    "did not declare the capability"));
		audit_send(rec, NULL);
		be_answer(c, rpc_errorf(r->id, RPC_METHOD_NOT_FOUND,
		    "Method not found: %.*s (the client did not declare the "
		    "capability)", n, r->method));
		return;
	}
	if (relay_pending_add(&be->server_requests, &be->nserver_requests, r->id,
	    PEND_OTHER) != 0) {
		json_object_set_new(rec, "success", json_false());
		json_object_set_new(rec, "result", json_string("refused"));
		json_object_set_new(rec, "error", json_string("id in use, or "
		    "too many in flight"));
		audit_send(rec, NULL);
		be_answer(c, rpc_errorf(r->id, RPC_INVALID_REQUEST,
		    "Invalid Request: the id is in use, or too many requests "
		    "are in flight (at most %d)", RELAY_PENDING_MAX));
		return;
	}
	json_object_set_new(rec, "success", json_true());
	json_object_set_new(rec, "result", json_string("success"));
	audit_send(rec, NULL);
	session_send_raw(c, line, len);
}

/*
 * tools/list's answer: only the tools the user's roles allow, the rest
 * of the answer (nextCursor, _meta, unknown members) as it came.  The
 * names are remembered, to tell the client when a change of roles
 * changes what it may call.  1 when the answer changed.
 */
static int
be_filter_tools(struct mconn *c, json_t *msg)
{
	const struct user	*u = session_user(c);
	struct backend		*be = c->session->backend;
	struct decision		 d;
	json_t			*tools, *t, *kept;
	const char		*name;
	size_t			 i;
	int			 changed = 0;

	tools = json_object_get(json_object_get(msg, "result"), "tools");
	if (!json_is_array(tools))
		return (0);
	kept = json_array();
	json_array_foreach(tools, i, t) {
		name = json_string_value(json_object_get(t, "name"));
		if (name != NULL && !strlist_has(&be->tools, name) &&
		    be->tools.n < RELAY_TOOLS_MAX)
			strlist_add(&be->tools, name);
		if (name != NULL && policy_tool(u, c->session->app, name, &d))
			json_array_append(kept, t);
		else
			changed = 1;
	}
	if (changed)
		json_object_set(json_object_get(msg, "result"), "tools", kept);
	json_decref(kept);
	mcp_tools_digest(c, c->session->tools_seen);
	return (changed);
}

/* initialize's answer: the session is initialized, as the server says. */
static void
be_initialized(struct mconn *c, json_t *msg)
{
	struct session	*s = c->session;
	struct backend	*be = s->backend;
	const char	*v;

	ev_timer_del(&be->timer);
	if ((v = json_string_value(json_object_get(json_object_get(msg,
	    "result"), "protocolVersion"))) != NULL)
		utf8_copy(s->protocol, sizeof(s->protocol), v);
	if (json_object_get(msg, "result") != NULL) {
		s->initialized = 1;
		session_arm_activity(c);
		if (be->remote != NULL)
			remote_initialized(c);
	}
}

/* A response of the server: to a request of the client's, by id. */
static void
be_response(struct mconn *c, struct rpc *r, const char *line, size_t len)
{
	struct backend	*be = c->session->backend;
	struct pending	*p;
	int		 kind;

	if ((p = relay_pending_find(&be->requests, r->id)) == NULL) {
		log_warnx("session %s: the MCP server %s answered a request "
		    "that was not made; dropped", c->session->id,
		    c->session->app->name);
		return;
	}
	kind = p->kind;
	relay_pending_del(&be->requests, &be->nrequests, p);
	/* (initialize's answer stops the timer: the closing one after it) */
	if (kind == PEND_INITIALIZE)
		be_initialized(c, r->msg);
	if (be->closing && be->nrequests == 0) {
		ev_timer_del(&be->timer);
		ev_timer_add(&be->timer, 0);	/* after this answer */
	}
	switch (kind) {
	case PEND_TOOLS_LIST:
		if (be_filter_tools(c, r->msg)) {
			session_send(c, json_incref(r->msg));
			return;
		}
		break;
	}
	session_send_raw(c, line, len);
}

/*
 * One message of the server's: a line of its output without the
 * newline, or a body or an event of an HTTP server's.
 */
void
relay_server_line(struct mconn *c, char *line, size_t len)
{
	struct session	*s = c->session;
	struct backend	*be = s->backend;
	struct rpc	 r;

	if (len == 0)
		return;
	if (!utf8_valid((const unsigned char *)line, len)) {
		log_warnx("session %s: the MCP server %s wrote a line that is "
		    "not UTF-8; dropped", s->id, s->app->name);
		return;
	}
	rpc_parse(line, len, mcpd->conf.max_json_values, &r);
	switch (r.kind) {
	case RPC_EMPTY:
		break;
	case RPC_INVALID:
		log_warnx("session %s: the MCP server %s wrote what is not "
		    "JSON-RPC (%s); dropped", s->id, s->app->name, r.error);
		break;
	case RPC_RESPONSE:
		be_response(c, &r, line, len);
		break;
	case RPC_REQUEST:
		be_server_request(c, &r, line, len);
		break;
	case RPC_NOTIFICATION:
		/* The server gave up on a request of its own. */
		if (strcmp(r.method, "notifications/cancelled") == 0) {
			struct pending	*p;
			json_t		*rid;

			if ((rid = json_object_get(r.params, "requestId")) !=
			    NULL && (p = relay_pending_find(&be->server_requests,
			    rid)) != NULL)
				relay_pending_del(&be->server_requests,
				    &be->nserver_requests, p);
		}
		session_send_raw(c, line, len);
		break;
	}
	rpc_free(&r);
}

/*
 * Take the server's whole lines while the client keeps up; a line longer
 * than max_message_size ends the session.
 */
static void
be_lines(struct mconn *c)
{
	uint32_t	 id = c->id;
	uint64_t	 serial = c->session->serial;
	struct backend	*be = c->session->backend;
	uint64_t	 max = mcpd->conf.max_message_size;
	size_t		 off = 0, len;
	char		*nl;
	int		 too_long = 0;

	while (c->out_queued < SESSION_OUT_HIGHWATER && off < be->rlen) {
		if ((nl = memchr(be->rbuf + be->rscan, '\n',
		    be->rlen - be->rscan)) == NULL) {
			be->rscan = be->rlen;
			too_long = be->rlen - off > max;
			break;
		}
		len = (size_t)(nl - (be->rbuf + off));
		if ((too_long = len > max))
			break;
		*nl = '\0';
		relay_server_line(c, be->rbuf + off, len);
		if (mconn_find(id) != c || c->session == NULL ||
		    c->session->serial != serial)
			return;		/* the session ended */
		off += len + 1;
		be->rscan = off;
	}
	if (too_long) {
		mcpd->stats.too_large++;
		log_warnx("session %s: the MCP server %s wrote a message "
		    "larger than max_message_size", c->session->id,
		    c->session->app->name);
		session_end(c, "server_message_too_large", "the MCP server "
		    "wrote a message larger than the gateway's "
		    "max_message_size");
		return;
	}
	if (off > 0) {
		memmove(be->rbuf, be->rbuf + off, be->rlen - off);
		be->rlen -= off;
		be->rscan -= off;
	}
	if (be->rlen == 0 && be->rbuf != NULL) {
		free(be->rbuf);
		be->rbuf = NULL;
		be->rcap = be->rscan = 0;
		mconn_account(c);
	}
	be_read_events(c, c->out_queued < SESSION_OUT_HIGHWATER);
}

static void
be_readable(int fd, short events, void *arg)
{
	struct mconn	*c = arg;
	struct backend	*be = c->session->backend;
	size_t		 cap, most;
	ssize_t		 n;
	char		*p;

	(void)events;
	most = mcpd->conf.max_message_size + RELAY_READ + 1;
	if (be->rcap - be->rlen < RELAY_READ / 4 && be->rcap < most) {
		cap = be->rcap == 0 ? RELAY_READ : be->rcap * 2;
		if (cap > most)
			cap = most;
		if (mconn_budget_room(c, cap - be->rcap) == -1) {
			mcpd->stats.over_budget++;
			session_end(c, END_OVER_BUDGET, "the gateway holds at "
			    "most limits.max_buffered for all its "
			    "connections, and this session held the most");
			return;
		}
		if ((p = realloc(be->rbuf, cap)) == NULL) {
			mconn_doom(c);
			be_read_events(c, 0);
			return;
		}
		be->rbuf = p;
		be->rcap = cap;
		mconn_account(c);
	}
	if (be->rlen == be->rcap) {
		be_read_events(c, 0);	/* be_lines reads on */
		return;
	}
	if ((n = read(fd, be->rbuf + be->rlen, be->rcap - be->rlen)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("session %s: the server's output", c->session->id);
		n = 0;
	}
	if (n == 0) {
		be_eof(c);
		return;
	}
	be->rlen += (size_t)n;
	be_lines(c);
}

static void
be_writable(int fd, short events, void *arg)
{
	struct mconn	*c = arg;
	struct backend	*be = c->session->backend;

	(void)fd;
	(void)events;
	be_flush(c);
	if (be->wqueued < SESSION_OUT_HIGHWATER / 2 && c->inlen > 0)
		mconn_input(c);
}

static int
set_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return (-1);
	return (0);
}

/* The server runs: initialize goes to it, and the client goes on. */
static void
be_started(struct mconn *c, const struct app_started *st, int fd)
{
	struct session	*s = c->session;
	struct backend	*be = s->backend;
	json_t		*init = be->initialize;
	struct rpc	 r;

	be->out_fd = fd;
	be->pid = st->pid;
	be->init_timeout = st->init_timeout > 0 ? st->init_timeout : 30000;
	be->state = BE_RUNNING;
	if (set_nonblock(be->in_fd) == -1 || set_nonblock(be->out_fd) == -1)
		fatal("%s: fcntl", __func__);
	ev_set(&be->rev, be->out_fd, be_readable, c);
	ev_set(&be->wev, be->in_fd, be_writable, c);
	be_read_events(c, 1);
	log_info("session %s: %s runs as pid %d", s->id, s->app->name,
	    (int)be->pid);

	be->initialize = NULL;
	memset(&r, 0, sizeof(r));
	r.msg = init;
	r.id = json_object_get(init, "id");
	r.method = "initialize";
	be_request(c, &r, NULL, 0);
	json_decref(init);
	ev_timer_add(&be->timer, be->init_timeout);
	s->hold = HOLD_NONE;
	mconn_input(c);
}

/*
 * The parent told netd the session's headers: initialize goes to the
 * HTTP server (the SSE transport's once its endpoint is known).
 */
static void
be_http_started(struct mconn *c, const struct app_http *ah)
{
	struct session	*s = c->session;
	struct backend	*be = s->backend;
	json_t		*init = be->initialize;
	struct rpc	 r;

	if ((be->remote = remote_new(c, ah)) == NULL) {
		mconn_doom(c);
		return;
	}
	be->state = BE_RUNNING;
	be->init_timeout = ah->timeout > 0 ? ah->timeout : 30000;
	log_info("session %s: %s is reached over %s", s->id, s->app->name,
	    ah->transport == HTTP_SSE ? "SSE" : "Streamable HTTP");
	if (remote_start(c) == -1) {
		mconn_doom(c);
		return;
	}
	be->initialize = NULL;
	memset(&r, 0, sizeof(r));
	r.msg = init;
	r.id = json_object_get(init, "id");
	r.method = "initialize";
	be_request(c, &r, NULL, 0);
	json_decref(init);
	ev_timer_add(&be->timer, be->init_timeout);
	s->hold = HOLD_NONE;
	mconn_input(c);
}

/* The parent could not start the server: the client hears why. */
static void
be_failed(struct mconn *c, const char *why)
{
	struct session	*s = c->session;
	struct backend	*be = s->backend;
	json_t		*id = json_object_get(be->initialize, "id");

	log_warnx("session %s: %s did not start: %s", s->id, s->app->name,
	    why);
	be->exited = 1;		/* nothing to stop */
	be->status = -1;
	session_send(c, rpc_error(id, RPC_GATEWAY_ERROR, why));
	session_end(c, "server_failed", why);
}

static struct ending *
ending_find(uint32_t conn, uint64_t serial)
{
	struct ending	*e;

	TAILQ_FOREACH(e, &endings, entry)
		if (e->conn == conn && e->serial == serial)
			return (e);
	return (NULL);
}

static void
ending_done(struct ending *e, int exited, int status)
{
	json_t	*server = json_object_get(e->rec, "server");
	int32_t	 pid = (int32_t)json_integer_value(json_object_get(server,
	    "pid"));

	if (e->reqid != 0)
		send_stop(e->conn, e->serial, e->session);
	else
		exit_fields(e->rec, pid, exited, status);
	audit_send(e->rec, NULL);
	ev_timer_del(&e->timer);
	TAILQ_REMOVE(&endings, e, entry);
	nendings--;
	free(e);
	if (mcpd->draining)
		audit_drained();
}

static void
ending_timeout(void *arg)
{
	struct ending	*e = arg;
	struct http_ref	 r;

	if (e->reqid != 0) {
		log_warnx("session %s: the MCP server did not answer the "
		    "session's DELETE in time", e->session);
		memset(&r, 0, sizeof(r));
		r.key.conn = e->conn;
		r.key.ref.serial = e->serial;
		strlcpy(r.key.ref.session, e->session,
		    sizeof(r.key.ref.session));
		r.reqid = e->reqid;
		child_chan_send(&mcpd->netd, IMSG_HTTP_CANCEL, e->conn, -1,
		    &r, sizeof(r));
	} else
		log_warnx("session %llx: no exit status from the parent in "
		    "time", (unsigned long long)e->serial);
	ending_done(e, 0, 0);
}

/* A request of a session that ended is over: its DELETE, perhaps. */
void
relay_http_done(const struct http_ref *r)
{
	struct ending	*e;

	TAILQ_FOREACH(e, &endings, entry)
		if (e->conn == r->key.conn && e->serial ==
		    r->key.ref.serial && e->reqid == r->reqid) {
			ending_done(e, 0, 0);
			return;
		}
}

size_t
relay_endings(void)
{
	return (nendings);
}

/*
 * The session ends: its server's pipes close and the parent ends it.
 * 1 when rec now waits for the exit status (the caller must not send
 * it), 0 when it may go now.
 */
int
relay_park(struct mconn *c, json_t *rec)
{
	struct session	*s = c->session;
	struct backend	*be = s->backend;
	struct ending	*e = NULL;
	uint64_t	 reqid;
	int		 parked = 0;

	ev_timer_del(&be->timer);
	be_read_events(c, 0);
	be_close_input(be);
	if (be->out_fd != -1)
		close(be->out_fd);
	be->out_fd = -1;
	if (be->remote != NULL) {
		/* The parent forgets the headers once the DELETE is over. */
		if ((reqid = remote_park(c, rec)) == 0 ||
		    (e = calloc(1, sizeof(*e))) == NULL)
			send_stop(c->id, s->serial, s->id);
		else {
			e->conn = c->id;
			e->serial = s->serial;
			e->rec = rec;
			e->reqid = reqid;
			strlcpy(e->session, s->id, sizeof(e->session));
			ev_timer_set(&e->timer, ending_timeout, e);
			ev_timer_add(&e->timer, ENDING_DELETE_MS);
			TAILQ_INSERT_TAIL(&endings, e, entry);
			nendings++;
			parked = 1;
		}
	} else if (s->app->transport != APP_STDIO) {
		/* Ended before the server was reached: no exit to wait for. */
		if (!be->exited)
			send_stop(c->id, s->serial, s->id);
	} else if (be->exited) {
		if (be->status != -1)
			exit_fields(rec, be->pid, 1, be->status);
	} else {
		send_stop(c->id, s->serial, s->id);
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			log_warn("session %s", s->id);
			exit_fields(rec, be->pid, 0, 0);
		} else {
			e->conn = c->id;
			e->serial = s->serial;
			e->rec = rec;
			if (be->pid > 0)
				json_object_set_new(rec, "server",
				    json_pack("{s:i}", "pid", be->pid));
			ev_timer_set(&e->timer, ending_timeout, e);
			ev_timer_add(&e->timer, ENDING_WAIT_MS);
			TAILQ_INSERT_TAIL(&endings, e, entry);
			nendings++;
			parked = 1;
		}
	}
	relay_pending_clear(&be->requests, &be->nrequests);
	relay_pending_clear(&be->server_requests, &be->nserver_requests);
	strlist_free(&be->tools);
	json_decref(be->initialize);
	free(be->rbuf);
	free(be);
	s->backend = NULL;
	return (parked);
}

/* The live session a message of the parent is about, or NULL. */
static struct mconn *
relay_session(uint32_t conn, const struct app_ref *ref)
{
	struct mconn	*c;

	if ((c = mconn_find(conn)) == NULL || c->session == NULL ||
	    c->session->serial != ref->serial || c->session->backend == NULL)
		return (NULL);
	return (c);
}

/* The parent's messages about servers; 1 when handled. */
int
relay_dispatch_parent(struct imsg *imsg)
{
	struct app_ref		 ref;
	struct app_started	 st;
	struct app_failed	 fl;
	struct app_exited	 ex;
	struct app_http		 ah;
	struct mconn		*c;
	struct backend		*be;
	struct ending		*e;
	uint32_t		 conn = imsg_get_id(imsg);
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_APP_STDIN:
		child_imsg_fixed("parent", imsg, &ref, sizeof(ref));
		if ((fd = imsg_get_fd(imsg)) == -1)
			child_bad_imsg("parent", imsg);
		if ((c = relay_session(conn, &ref)) == NULL ||
		    (be = c->session->backend)->state != BE_STARTING ||
		    be->in_fd != -1) {
			close(fd);	/* ended meanwhile; STOP is sent */
			return (1);
		}
		be->in_fd = fd;
		return (1);
	case IMSG_APP_STARTED:
		child_imsg_fixed("parent", imsg, &st, sizeof(st));
		if ((fd = imsg_get_fd(imsg)) == -1)
			child_bad_imsg("parent", imsg);
		if ((c = relay_session(conn, &st.ref)) == NULL ||
		    (be = c->session->backend)->state != BE_STARTING ||
		    be->in_fd == -1) {
			close(fd);
			return (1);
		}
		be_started(c, &st, fd);
		return (1);
	case IMSG_APP_HTTP:
		child_imsg_fixed("parent", imsg, &ah, sizeof(ah));
		ah.path[sizeof(ah.path) - 1] = '\0';
		if (ah.path[0] != '/' || (ah.transport != HTTP_STREAMABLE &&
		    ah.transport != HTTP_SSE))
			child_bad_imsg("parent", imsg);
		if ((c = relay_session(conn, &ah.ref)) == NULL ||
		    (be = c->session->backend)->state != BE_STARTING) {
			/* Ended meanwhile: the parent forgets it at STOP. */
			return (1);
		}
		be_http_started(c, &ah);
		return (1);
	case IMSG_APP_FAILED:
		child_imsg_fixed("parent", imsg, &fl, sizeof(fl));
		fl.message[sizeof(fl.message) - 1] = '\0';
		if ((c = relay_session(conn, &fl.ref)) != NULL &&
		    c->session->backend->state == BE_STARTING) {
			be_failed(c, fl.message);
			return (1);
		}
		if ((e = ending_find(conn, fl.ref.serial)) != NULL)
			ending_done(e, 0, 0);
		return (1);
	case IMSG_APP_EXITED:
		child_imsg_fixed("parent", imsg, &ex, sizeof(ex));
		if ((c = relay_session(conn, &ex.ref)) != NULL) {
			be = c->session->backend;
			be->exited = 1;
			be->status = ex.status;
			if (be->state != BE_RUNNING) {
				be_failed(c, "the MCP server exited before it "
				    "started");
				return (1);
			}
			if (be->eof) {
				be_gone(c);
				return (1);
			}
			/* What it wrote before it went is read first. */
			ev_timer_del(&be->timer);
			ev_timer_add(&be->timer, EXIT_GRACE_MS);
			return (1);
		}
		if ((e = ending_find(conn, ex.ref.serial)) != NULL)
			ending_done(e, 1, ex.status);
		return (1);
	default:
		return (0);
	}
}
