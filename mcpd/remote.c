/*
 * A session's HTTP MCP server, seen from mcpd: Streamable HTTP (protocol
 * 2025-03-26 and later) or the older SSE transport (2024-11-05).  netd
 * alone talks to the server; mcpd says what to send (IMSG_HTTP_REQ: a
 * method, a path of the app's origin, the MCP headers) and reads what
 * comes back (IMSG_HTTP_HEAD, IMSG_HTTP_BODY, IMSG_HTTP_DONE), taking
 * body bytes only as fast as the client reads and acknowledging them.
 * What the messages mean is relay.c's, as for a stdio server: every
 * message the server sends, in a JSON body or as an event of a stream,
 * goes through the same filter and audit as a line of a stdio server's
 * output.
 *
 * Streamable HTTP: each client message is POSTed to the app's path,
 * with Mcp-Session-Id once the server gave one and MCP-Protocol-Version
 * once the session is initialized; the answer is a JSON body or an
 * event stream.  Once initialized, a GET stream carries what the server
 * sends unasked (405: it offers none); it resumes with Last-Event-ID
 * after a drop.  At the end the session is DELETEd.  A 404 for a known
 * session ends it.
 *
 * SSE: a GET stream first, whose `endpoint` event names the path (of
 * the same origin) to POST messages to; answers come on the stream.
 * The stream's end is the session's.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat.h"
#include "log.h"
#include "mcpd.h"
#include "sse.h"

enum rreq_kind {
	RQ_POST,		/* a client message */
	RQ_GET,			/* Streamable HTTP: the server's stream */
	RQ_SSE,			/* SSE: the stream answers come on */
	RQ_DELETE,
};

/* An HTTP request in flight, and what came back of it. */
struct rreq {
	TAILQ_ENTRY(rreq)	 entry;
	uint64_t		 reqid;
	enum rreq_kind		 kind;
	json_t			*id;		/* the client request it
						   carries, or NULL */
	int			 initialize;
	int			 head;		/* its HEAD came */
	int			 status;
	int			 ctype;
	int			 sse_on;
	struct sse		 sse;
	struct buf		 body;		/* a JSON body, whole */
	TAILQ_HEAD(, mout_chunk) in;		/* body bytes not yet read */
	size_t			 inqueued;
	int			 done;		/* its DONE came */
	int			 error;		/* enum http_error */
	char			 message[256];
	int			 failed;	/* given up: what comes is
						   dropped */
	int			 feeding;	/* in sse_feed */
	int			 dead;		/* freed while feeding */
};

/* A client message waiting for the session to be ready for it. */
struct rmsg {
	TAILQ_ENTRY(rmsg)	 entry;
	json_t			*id;
	int			 initialize;
	size_t			 len;
	char			 data[];
};

struct remote {
	int			 transport;	/* enum http_transport */
	uint64_t		 timeout;	/* ms */
	char			 path[1024];	/* the app's */
	char			 post_path[1024]; /* where messages go */
	char			 session_id[HTTP_SESSIONID_MAX];
	uint64_t		 nextreq;
	TAILQ_HEAD(, rreq)	 reqs;
	size_t			 nposts;	/* POSTs in flight */
	size_t			 held;		/* bytes, of the budget */
	int			 ready;		/* initialize answered */
	TAILQ_HEAD(, rmsg)	 waiting;
	size_t			 nwaiting;
	struct rreq		*stream;	/* the GET or SSE stream */
	int			 stream_refused; /* 405: none offered */
	int			 stream_fails;	/* in a row */
	long			 retry_ms;	/* the server's, or ours */
	struct ev_timer		 retry;
	char			 last_event_id[HTTP_EVENTID_MAX + 1];
	struct mconn		*c;
};

/* POSTs of a session in flight before its client is read no more. */
#define REMOTE_POSTS_MAX	32
/* Tries of a GET stream that breaks at once, and the wait between. */
#define REMOTE_STREAM_TRIES	5
#define REMOTE_RETRY_MS		1000
#define REMOTE_RETRY_MAX_MS	30000

static void	 remote_feed(struct mconn *, struct rreq *);
static void	 remote_flush(struct mconn *);
static void	 remote_retry(void *);

static const char *
http_error_text(int error)
{
	switch (error) {
	case HTTP_ERR_REFUSED:
		return ("the gateway may not reach it");
	case HTTP_ERR_RESOLVE:
		return ("its name could not be resolved");
	case HTTP_ERR_CONNECT:
		return ("the connection was refused or failed");
	case HTTP_ERR_TLS:
		return ("TLS failed");
	case HTTP_ERR_TIMEOUT:
		return ("it did not answer in time");
	case HTTP_ERR_TOO_LARGE:
		return ("its answer was too large");
	case HTTP_ERR_BROKEN:
		return ("the connection broke");
	case HTTP_ERR_CANCELLED:
		return ("the request was cancelled");
	case HTTP_ERR_LIMIT:
		return ("too many requests at once");
	default:
		return ("it failed");
	}
}

/* A header value the server gave that mcpd may send back. */
static int
visible_ascii(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return (0);
	return (1);
}

static void
remote_account(struct mconn *c)
{
	mconn_account(c);
}

static struct rreq *
rreq_find(struct remote *rm, uint64_t reqid)
{
	struct rreq	*rq;

	TAILQ_FOREACH(rq, &rm->reqs, entry)
		if (rq->reqid == reqid)
			return (rq);
	return (NULL);
}

static void
rreq_destroy(struct rreq *rq)
{
	struct mout_chunk	*ch;

	while ((ch = TAILQ_FIRST(&rq->in)) != NULL) {
		TAILQ_REMOVE(&rq->in, ch, entry);
		free(ch);
	}
	if (rq->sse_on)
		sse_free(&rq->sse);
	buf_free(&rq->body);
	json_decref(rq->id);
	free(rq);
}

/*
 * The request is forgotten.  One whose stream is being read (the session
 * ended in the middle of an event's handling) is freed once sse_feed has
 * returned.
 */
static void
rreq_free(struct remote *rm, struct rreq *rq)
{
	TAILQ_REMOVE(&rm->reqs, rq, entry);
	if (rq->kind == RQ_POST)
		rm->nposts--;
	if (rm->stream == rq)
		rm->stream = NULL;
	rm->held -= rq->inqueued + rq->body.cap;
	if (rq->feeding)
		rq->dead = 1;
	else
		rreq_destroy(rq);
}

static void
remote_ref(struct mconn *c, struct http_ref *r, uint64_t reqid)
{
	memset(r, 0, sizeof(*r));
	r->key.conn = c->id;
	r->key.ref.serial = c->session->serial;
	strlcpy(r->key.ref.session, c->session->id,
	    sizeof(r->key.ref.session));
	r->reqid = reqid;
}

static void
remote_cancel(struct mconn *c, struct rreq *rq)
{
	struct http_ref	 r;

	remote_ref(c, &r, rq->reqid);
	child_chan_send(&mcpd->netd, IMSG_HTTP_CANCEL, c->id, -1, &r,
	    sizeof(r));
}

/* A request to netd; body only for a POST. */
static struct rreq *
remote_send(struct mconn *c, enum rreq_kind kind, const char *path,
    const char *body, size_t len)
{
	struct session	*s = c->session;
	struct remote	*rm = s->backend->remote;
	struct http_req	*req;
	struct rreq	*rq;
	unsigned char	*msg;

	if ((rq = calloc(1, sizeof(*rq))) == NULL ||
	    (msg = calloc(1, sizeof(*req) + len)) == NULL) {
		free(rq);
		return (NULL);
	}
	rq->kind = kind;
	rq->reqid = ++rm->nextreq;
	TAILQ_INIT(&rq->in);
	buf_init(&rq->body, (size_t)mcpd->conf.max_message_size);

	req = (struct http_req *)msg;
	req->key.conn = c->id;
	req->key.ref.serial = s->serial;
	strlcpy(req->key.ref.session, s->id, sizeof(req->key.ref.session));
	req->reqid = rq->reqid;
	switch (kind) {
	case RQ_POST:
		req->method = HTTP_POST;
		break;
	case RQ_DELETE:
		req->method = HTTP_DELETE;
		break;
	default:
		req->method = HTTP_GET;
		req->stream = 1;
		break;
	}
	strlcpy(req->path, path, sizeof(req->path));
	if (rm->transport == HTTP_STREAMABLE) {
		strlcpy(req->session_id, rm->session_id,
		    sizeof(req->session_id));
		if (s->initialized)
			strlcpy(req->protocol, s->protocol,
			    sizeof(req->protocol));
		if (kind == RQ_GET)
			strlcpy(req->last_event_id, rm->last_event_id,
			    sizeof(req->last_event_id));
	}
	if (len > 0)
		memcpy(msg + sizeof(*req), body, len);
	child_chan_send(&mcpd->netd, IMSG_HTTP_REQ, c->id, -1, msg,
	    sizeof(*req) + len);
	free(msg);
	TAILQ_INSERT_TAIL(&rm->reqs, rq, entry);
	if (kind == RQ_POST)
		rm->nposts++;
	return (rq);
}

/* The parent says where the server is: the session's backend runs. */
struct remote *
remote_new(struct mconn *c, const struct app_http *ah)
{
	struct remote	*rm;

	if ((rm = calloc(1, sizeof(*rm))) == NULL)
		return (NULL);
	rm->c = c;
	rm->transport = ah->transport;
	rm->timeout = ah->timeout;
	strlcpy(rm->path, ah->path, sizeof(rm->path));
	TAILQ_INIT(&rm->reqs);
	TAILQ_INIT(&rm->waiting);
	rm->retry_ms = REMOTE_RETRY_MS;
	ev_timer_set(&rm->retry, remote_retry, rm);
	return (rm);
}

/* Start: the SSE transport opens its stream before anything is sent. */
int
remote_start(struct mconn *c)
{
	struct remote	*rm = c->session->backend->remote;

	if (rm->transport == HTTP_STREAMABLE) {
		strlcpy(rm->post_path, rm->path, sizeof(rm->post_path));
		return (0);
	}
	if ((rm->stream = remote_send(c, RQ_SSE, rm->path, NULL, 0)) == NULL)
		return (-1);
	return (0);
}

/* Whether the client's next message may be taken now. */
int
remote_ready(const struct remote *rm)
{
	return (rm->nposts + rm->nwaiting < REMOTE_POSTS_MAX);
}

size_t
remote_held(const struct remote *rm)
{
	return (rm == NULL ? 0 : rm->held);
}

static int
remote_may_post(const struct remote *rm, const struct rmsg *m)
{
	return (rm->post_path[0] != '\0' && (rm->ready || m->initialize));
}

static void
remote_post_now(struct mconn *c, const char *data, size_t len, json_t *id,
    int initialize)
{
	struct remote	*rm = c->session->backend->remote;
	struct rreq	*rq;

	if ((rq = remote_send(c, RQ_POST, rm->post_path, data, len)) == NULL) {
		mconn_doom(c);
		return;
	}
	rq->id = json_incref(id);
	rq->initialize = initialize;
}

/*
 * A client message for the server (a request when id is not NULL):
 * POSTed now, or once the session may take it (the SSE transport's
 * endpoint known, initialize answered).
 */
void
remote_post(struct mconn *c, const char *data, size_t len, json_t *id,
    int initialize)
{
	struct remote	*rm = c->session->backend->remote;
	struct rmsg	*m;

	if (TAILQ_EMPTY(&rm->waiting) && rm->post_path[0] != '\0' &&
	    (rm->ready || initialize)) {
		remote_post_now(c, data, len, id, initialize);
		return;
	}
	if ((m = malloc(sizeof(*m) + len)) == NULL) {
		mconn_doom(c);
		return;
	}
	m->id = json_incref(id);
	m->initialize = initialize;
	m->len = len;
	memcpy(m->data, data, len);
	TAILQ_INSERT_TAIL(&rm->waiting, m, entry);
	rm->nwaiting++;
	rm->held += len;
	remote_account(c);
}

/* Messages that waited, in their order, as far as they may go. */
static void
remote_flush(struct mconn *c)
{
	struct remote	*rm = c->session->backend->remote;
	struct rmsg	*m;

	while ((m = TAILQ_FIRST(&rm->waiting)) != NULL &&
	    remote_may_post(rm, m)) {
		TAILQ_REMOVE(&rm->waiting, m, entry);
		rm->nwaiting--;
		rm->held -= m->len;
		remote_post_now(c, m->data, m->len, m->id, m->initialize);
		json_decref(m->id);
		free(m);
	}
	remote_account(c);
}

/*
 * initialize is answered: the rest may go, and a Streamable HTTP server
 * is asked for its stream.
 */
void
remote_initialized(struct mconn *c)
{
	struct remote	*rm = c->session->backend->remote;

	if (rm->ready)
		return;
	rm->ready = 1;
	remote_flush(c);
	if (rm->transport == HTTP_STREAMABLE && rm->session_id[0] != '\0' &&
	    rm->stream == NULL)
		rm->stream = remote_send(c, RQ_GET, rm->path, NULL, 0);
}

static void
remote_retry(void *arg)
{
	struct remote	*rm = arg;
	struct mconn	*c = rm->c;

	if (rm->stream == NULL && !rm->stream_refused)
		rm->stream = remote_send(c, RQ_GET, rm->path, NULL, 0);
}

/*
 * The SSE transport's endpoint, as the server names it in its `endpoint`
 * event, resolved against base (the stream's path): a path of the same
 * origin, absolute ("/msg?s=1") or relative ("msg?s=1", "?s=1"), with
 * its query.  Anything with a scheme or an authority is refused (netd
 * would not go there anyway), as are dot segments, a fragment, and bytes
 * other than visible ASCII.  0 with the path in out, or -1.
 */
int
remote_endpoint_path(const char *base, const char *uri, size_t len,
    char *out, size_t outlen)
{
	char	 path[1024];
	char	*cut;
	size_t	 i, n;

	if (len == 0 || len >= sizeof(path) || base[0] != '/')
		return (-1);
	for (i = 0; i < len; i++)
		if ((unsigned char)uri[i] < 0x21 ||
		    (unsigned char)uri[i] > 0x7e || uri[i] == '#')
			return (-1);
	if (uri[0] == '/') {
		if (len > 1 && uri[1] == '/')
			return (-1);	/* //host/...: another origin */
		memcpy(path, uri, len);
		path[len] = '\0';
	} else {
		/* A scheme ("http:", ...) before any '/' or '?': refused. */
		for (i = 0; i < len && uri[i] != '/' && uri[i] != '?'; i++)
			if (uri[i] == ':')
				return (-1);
		if (strlcpy(path, base, sizeof(path)) >= sizeof(path))
			return (-1);
		if ((cut = strchr(path, '?')) != NULL)
			*cut = '\0';
		/* "?q" keeps the base's path; "p" replaces its last segment. */
		if (uri[0] != '?')
			strrchr(path, '/')[1] = '\0';
		n = strlen(path);
		if (n + len >= sizeof(path))
			return (-1);
		memcpy(path + n, uri, len);
		path[n + len] = '\0';
	}
	/* The base's bytes too: the whole must be visible ASCII. */
	if (path[1] == '/')
		return (-1);
	for (i = 0; path[i] != '\0'; i++)
		if ((unsigned char)path[i] < 0x21 ||
		    (unsigned char)path[i] > 0x7e || path[i] == '#')
			return (-1);
	if ((cut = strchr(path, '?')) != NULL)
		*cut = '\0';
	n = strlen(path);
	if (strstr(path, "/../") != NULL || strstr(path, "/./") != NULL ||
	    (n >= 3 && strcmp(path + n - 3, "/..") == 0) ||
	    (n >= 2 && strcmp(path + n - 2, "/.") == 0))
		return (-1);
	if (cut != NULL)
		*cut = '?';
	if (strlcpy(out, path, outlen) >= outlen)
		return (-1);
	return (0);
}

/*
 * A message of the server's, from a body or an event.  It may hold
 * line breaks, where JSON allows them (between tokens): they become
 * spaces, since the client reads one message a line.  Anything else
 * with a line break is not JSON, and relay.c drops it.
 */
static void
remote_message(struct mconn *c, char *data, size_t len)
{
	json_t		*v;
	json_error_t	 err;
	size_t		 i;

	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
	    data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (memchr(data, '\n', len) != NULL || memchr(data, '\r', len) !=
	    NULL) {
		if ((v = json_loadb(data, len, JSON_DECODE_ANY, &err)) ==
		    NULL) {
			log_warnx("session %s: the MCP server %s sent what is "
			    "not JSON (%s); dropped", c->session->id,
			    c->session->app->name, err.text);
			return;
		}
		json_decref(v);
		for (i = 0; i < len; i++)
			if (data[i] == '\n' || data[i] == '\r')
				data[i] = ' ';
	}
	relay_server_line(c, data, len);
}

/* Whether the session that c held when serial was current still lives. */
static int
remote_alive(uint32_t id, uint64_t serial, struct mconn *c)
{
	return (mconn_find(id) == c && c->session != NULL &&
	    c->session->serial == serial && c->session->backend != NULL &&
	    c->session->backend->remote != NULL);
}

/* A JSON body: one message, or (2025-03-26) a batch of them. */
static void
remote_json_body(struct mconn *c, struct rreq *rq)
{
	uint32_t	 id = c->id;
	uint64_t	 serial = c->session->serial;
	json_t		*v, *m;
	json_error_t	 err;
	size_t		 i;
	char		*s;

	if (rq->body.len == 0)
		return;
	if (rq->body.data[0] != '[') {
		remote_message(c, rq->body.data, rq->body.len);
		return;
	}
	if ((v = json_loadb(rq->body.data, rq->body.len, 0, &err)) == NULL ||
	    !json_is_array(v)) {
		log_warnx("session %s: the MCP server %s sent what is not "
		    "JSON; dropped", c->session->id, c->session->app->name);
		json_decref(v);
		return;
	}
	json_array_foreach(v, i, m) {
		if ((s = json_dumps(m, JSON_COMPACT)) == NULL) {
			mconn_doom(c);
			break;
		}
		relay_server_line(c, s, strlen(s));
		free(s);
		if (!remote_alive(id, serial, c))
			break;
	}
	json_decref(v);
}

struct sse_ctx {
	struct mconn	*c;
	struct rreq	*rq;
	uint32_t	 id;
	uint64_t	 serial;
};

static int
remote_event(const struct sse_event *ev, void *arg)
{
	struct sse_ctx	*x = arg;
	struct mconn	*c = x->c;
	struct remote	*rm = c->session->backend->remote;
	char		*data = (char *)ev->data;

	if (x->rq->kind == RQ_GET && ev->id[0] != '\0')
		strlcpy(rm->last_event_id, ev->id, sizeof(rm->last_event_id));
	if (x->rq->kind == RQ_SSE && strcmp(ev->type, "endpoint") == 0) {
		if (rm->post_path[0] != '\0')
			return (0);	/* one is enough */
		if (remote_endpoint_path(rm->path, ev->data, ev->len,
		    rm->post_path, sizeof(rm->post_path)) == -1) {
			log_warnx("session %s: the MCP server %s named an "
			    "endpoint that is not a path of its own origin; "
			    "the session ends", c->session->id,
			    c->session->app->name);
			relay_lost(c, "server_failed", "the MCP server named "
			    "an endpoint of another origin, which the gateway "
			    "does not reach");
			return (-1);
		}
		log_debug("session %s: the SSE endpoint is %s",
		    c->session->id, rm->post_path);
		remote_flush(c);
		return (remote_alive(x->id, x->serial, c) ? 0 : -1);
	}
	if (strcmp(ev->type, "message") != 0)
		return (0);
	if (memchr(ev->data, '\0', ev->len) != NULL) {
		log_warnx("session %s: the MCP server %s sent an event with "
		    "a NUL; dropped", c->session->id, c->session->app->name);
		return (0);
	}
	remote_message(c, data, ev->len);
	return (remote_alive(x->id, x->serial, c) ? 0 : -1);
}

/* A request is over: what it owes the client, and what follows. */
static void
remote_finish(struct mconn *c, struct rreq *rq)
{
	struct remote	*rm = c->session->backend->remote;
	uint32_t	 id = c->id;
	uint64_t	 serial = c->session->serial;
	char		 msg[512];
	int		 ok;

	ok = rq->error == HTTP_OK && rq->status >= 200 && rq->status < 300;
	if (rq->head && rq->ctype == HTTP_CT_JSON && !rq->failed)
		remote_json_body(c, rq);
	if (!remote_alive(id, serial, c))
		return;
	if (rq->error != HTTP_OK)
		snprintf(msg, sizeof(msg), "the MCP server %s: %s (%s)",
		    c->session->app->name, http_error_text(rq->error),
		    rq->message);
	else if (rq->status >= 300 && rq->status < 400)
		snprintf(msg, sizeof(msg), "the MCP server %s answered HTTP "
		    "%d, a redirect%s%.200s, which the gateway does not "
		    "follow", c->session->app->name, rq->status,
		    rq->message[0] != '\0' ? " to " : "", rq->message);
	else if (!ok)
		snprintf(msg, sizeof(msg), "the MCP server %s answered HTTP "
		    "%d", c->session->app->name, rq->status);
	else
		snprintf(msg, sizeof(msg), "the MCP server %s gave no answer "
		    "to the request", c->session->app->name);

	switch (rq->kind) {
	case RQ_POST:
		if (rq->initialize && !ok) {
			log_warnx("session %s: %s", c->session->id, msg);
			rreq_free(rm, rq);
			relay_lost(c, "server_failed", msg);
			return;
		}
		/* SSE: answers come on the stream. */
		if (rq->id != NULL && (rm->transport == HTTP_STREAMABLE ||
		    !ok))
			relay_answer_pending(c, rq->id, msg);
		else if (!ok)
			log_warnx("session %s: %s", c->session->id, msg);
		rreq_free(rm, rq);
		break;
	case RQ_SSE:
		if (ok)
			snprintf(msg, sizeof(msg), "the MCP server %s closed "
			    "its event stream", c->session->app->name);
		rreq_free(rm, rq);
		relay_lost(c, "server_disconnected", msg);
		return;
	case RQ_GET:
		if (rq->status == 405 || (rq->head && rq->status >= 400 &&
		    rq->status < 500 && rq->status != 404 &&
		    rq->status != 408 && rq->status != 429)) {
			rm->stream_refused = 1;
			log_debug("session %s: no stream from the server "
			    "(HTTP %d)", c->session->id, rq->status);
		} else if (ok && rq->ctype == HTTP_CT_SSE)
			rm->stream_fails = 0;
		else
			rm->stream_fails++;
		if (rq->sse_on && rq->sse.retry > 0)
			rm->retry_ms = rq->sse.retry;
		rreq_free(rm, rq);
		if (rm->stream_refused)
			break;
		if (rm->stream_fails >= REMOTE_STREAM_TRIES) {
			log_warnx("session %s: the MCP server %s's stream "
			    "failed %d times in a row; not tried again",
			    c->session->id, c->session->app->name,
			    rm->stream_fails);
			break;
		}
		ev_timer_add(&rm->retry, (uint64_t)(rm->retry_ms > 0 &&
		    rm->retry_ms < REMOTE_RETRY_MAX_MS ? rm->retry_ms :
		    REMOTE_RETRY_MS));
		break;
	case RQ_DELETE:
		rreq_free(rm, rq);
		break;
	}
	remote_account(c);
	if (c->inlen > 0 && remote_ready(rm))
		mconn_input(c);
}

/* A request whose answer is refused: its client request hears why. */
static void
remote_fail(struct mconn *c, struct rreq *rq, const char *why)
{
	struct mout_chunk	*ch;
	char			 msg[512];

	snprintf(msg, sizeof(msg), "the MCP server %s: %s",
	    c->session->app->name, why);
	log_warnx("session %s: %s", c->session->id, msg);
	rq->failed = 1;
	remote_cancel(c, rq);
	while ((ch = TAILQ_FIRST(&rq->in)) != NULL) {
		TAILQ_REMOVE(&rq->in, ch, entry);
		c->session->backend->remote->held -= ch->len;
		rq->inqueued -= ch->len;
		free(ch);
	}
	if (rq->id != NULL)
		relay_answer_pending(c, rq->id, msg);
	if (rq->kind == RQ_SSE)
		relay_lost(c, "server_disconnected", msg);
}

static void
remote_ack(struct mconn *c, struct rreq *rq, size_t n)
{
	struct http_ack	 a;

	if (n == 0 || rq->done)
		return;
	remote_ref(c, &a.r, rq->reqid);
	a.bytes = n;
	child_chan_send(&mcpd->netd, IMSG_HTTP_ACK, c->id, -1, &a, sizeof(a));
}

/*
 * Read what came of a body while the client keeps up; acknowledged as
 * read.  The request is finished when its DONE came and all is read.
 */
static void
remote_feed(struct mconn *c, struct rreq *rq)
{
	struct remote		*rm = c->session->backend->remote;
	struct mout_chunk	*ch;
	struct sse_ctx		 x;
	uint32_t		 id = c->id;
	uint64_t		 serial = c->session->serial;
	size_t			 n;
	int			 r;

	while (!rq->failed && (ch = TAILQ_FIRST(&rq->in)) != NULL &&
	    c->out_queued < SESSION_OUT_HIGHWATER) {
		TAILQ_REMOVE(&rq->in, ch, entry);
		n = ch->len;
		rq->inqueued -= n;
		rm->held -= n;
		if (rq->ctype == HTTP_CT_SSE && rq->status >= 200 &&
		    rq->status < 300) {
			x.c = c;
			x.rq = rq;
			x.id = id;
			x.serial = serial;
			rq->feeding = 1;
			r = sse_feed(&rq->sse, ch->data, ch->len,
			    remote_event, &x);
			rq->feeding = 0;
			if (rq->dead) {
				free(ch);
				rreq_destroy(rq);
				return;
			}
			if (r == -1) {
				free(ch);
				if (!remote_alive(id, serial, c))
					return;
				remote_fail(c, rq, rq->sse.error[0] != '\0' ?
				    rq->sse.error : "its event stream broke");
				if (!remote_alive(id, serial, c))
					return;
				break;
			}
		} else if (rq->ctype == HTTP_CT_JSON) {
			rm->held -= rq->body.cap;
			if (buf_add(&rq->body, ch->data, ch->len) == -1) {
				rm->held += rq->body.cap;
				free(ch);
				mcpd->stats.too_large++;
				remote_fail(c, rq, "its answer is larger than "
				    "the gateway's max_message_size");
				break;
			}
			rm->held += rq->body.cap;
		}
		free(ch);
		if (!remote_alive(id, serial, c))
			return;
		remote_ack(c, rq, n);
	}
	remote_account(c);
	if (!rq->done || !TAILQ_EMPTY(&rq->in))
		return;
	if (rq->failed) {
		rreq_free(rm, rq);
		remote_account(c);
	} else
		remote_finish(c, rq);
}

void
remote_resume(struct mconn *c)
{
	struct remote	*rm = c->session->backend->remote;
	struct rreq	*rq, *next;
	uint32_t	 id = c->id;
	uint64_t	 serial = c->session->serial;

	TAILQ_FOREACH_SAFE(rq, &rm->reqs, entry, next) {
		if (TAILQ_EMPTY(&rq->in))
			continue;
		remote_feed(c, rq);
		if (!remote_alive(id, serial, c))
			return;
	}
}

/* The HEAD of an answer. */
static void
remote_head(struct mconn *c, struct rreq *rq, struct http_head *h)
{
	struct remote	*rm = c->session->backend->remote;

	rq->head = 1;
	rq->status = h->status;
	rq->ctype = h->ctype;
	if (h->status >= 300 && h->status < 400)
		strlcpy(rq->message, h->location, sizeof(rq->message));
	if (rq->ctype == HTTP_CT_SSE) {
		sse_init(&rq->sse, (size_t)mcpd->conf.max_message_size);
		rq->sse_on = 1;
	}
	if (rm->transport != HTTP_STREAMABLE || rq->kind != RQ_POST)
		return;
	if (h->status == 404 && rm->session_id[0] != '\0') {
		log_info("session %s: the MCP server %s no longer knows the "
		    "session (HTTP 404)", c->session->id,
		    c->session->app->name);
		rm->session_id[0] = '\0';	/* nothing to DELETE */
		relay_lost(c, WIRE_END_SERVER_SESSION_ENDED, "the MCP server "
		    "ended the session (HTTP 404); connect again for a new "
		    "one");
		return;
	}
	if (rq->initialize && h->session_id[0] != '\0' &&
	    rm->session_id[0] == '\0') {
		if (!visible_ascii(h->session_id)) {
			relay_lost(c, "server_failed", "the MCP server gave "
			    "an Mcp-Session-Id that is not visible ASCII");
			return;
		}
		strlcpy(rm->session_id, h->session_id,
		    sizeof(rm->session_id));
	}
}

/* The live session a message of netd's names, or NULL. */
static struct mconn *
remote_session(const struct http_ref *r)
{
	struct mconn	*c;

	if ((c = mconn_find(r->key.conn)) == NULL || c->session == NULL ||
	    c->session->serial != r->key.ref.serial ||
	    c->session->backend == NULL ||
	    c->session->backend->remote == NULL)
		return (NULL);
	return (c);
}

/*
 * netd's messages about HTTP requests; 1 when handled.  One about a
 * session that has ended, or a request given up, is dropped.
 */
int
remote_dispatch_netd(struct imsg *imsg)
{
	struct http_head	 h;
	struct http_done	 d;
	struct http_ref		 r;
	struct mout_chunk	*ch;
	struct mconn		*c;
	struct rreq		*rq;
	const void		*data;
	size_t			 len;

	switch (imsg_get_type(imsg)) {
	case IMSG_HTTP_HEAD:
		child_imsg_fixed("netd", imsg, &h, sizeof(h));
		h.session_id[sizeof(h.session_id) - 1] = '\0';
		h.location[sizeof(h.location) - 1] = '\0';
		if (h.r.key.conn != imsg_get_id(imsg))
			child_bad_imsg("netd", imsg);
		if ((c = remote_session(&h.r)) == NULL ||
		    (rq = rreq_find(c->session->backend->remote,
		    h.r.reqid)) == NULL || rq->failed)
			return (1);
		if (rq->head)
			child_bad_imsg("netd", imsg);
		remote_head(c, rq, &h);
		return (1);
	case IMSG_HTTP_BODY:
		imsg_get_buf(imsg, &data, &len);
		if (len < sizeof(r))
			child_bad_imsg("netd", imsg);
		memcpy(&r, data, sizeof(r));
		if (r.key.conn != imsg_get_id(imsg))
			child_bad_imsg("netd", imsg);
		if ((c = remote_session(&r)) == NULL ||
		    (rq = rreq_find(c->session->backend->remote,
		    r.reqid)) == NULL || rq->failed)
			return (1);
		if (!rq->head || rq->done)
			child_bad_imsg("netd", imsg);
		len -= sizeof(r);
		if (len == 0)
			return (1);
		if ((ch = malloc(sizeof(*ch) + len)) == NULL) {
			mconn_doom(c);
			return (1);
		}
		ch->len = len;
		ch->off = 0;
		memcpy(ch->data, (const char *)data + sizeof(r), len);
		TAILQ_INSERT_TAIL(&rq->in, ch, entry);
		rq->inqueued += len;
		c->session->backend->remote->held += len;
		if (TAILQ_FIRST(&rq->in) == ch)
			remote_feed(c, rq);
		else
			remote_account(c);
		return (1);
	case IMSG_HTTP_DONE:
		child_imsg_fixed("netd", imsg, &d, sizeof(d));
		d.message[sizeof(d.message) - 1] = '\0';
		if (d.r.key.conn != imsg_get_id(imsg))
			child_bad_imsg("netd", imsg);
		if ((c = remote_session(&d.r)) == NULL ||
		    (rq = rreq_find(c->session->backend->remote,
		    d.r.reqid)) == NULL) {
			relay_http_done(&d.r);
			return (1);
		}
		if (rq->done)
			child_bad_imsg("netd", imsg);
		rq->done = 1;
		rq->error = d.error;
		if (d.error != HTTP_OK || rq->message[0] == '\0')
			strlcpy(rq->message, d.message, sizeof(rq->message));
		if (rq->failed) {
			rreq_free(c->session->backend->remote, rq);
			remote_account(c);
			return (1);
		}
		if (TAILQ_EMPTY(&rq->in))
			remote_finish(c, rq);
		return (1);
	default:
		return (0);
	}
}

/*
 * The session ends: what is in flight is cancelled, and a Streamable
 * HTTP session the server gave an id is DELETEd.  Returns the DELETE's
 * request number, whose DONE the caller waits for before the parent
 * forgets the session's headers, or 0.
 */
uint64_t
remote_park(struct mconn *c, json_t *rec)
{
	struct remote	*rm = c->session->backend->remote;
	struct rreq	*rq, *del = NULL;
	struct rmsg	*m;
	uint64_t	 reqid = 0;

	ev_timer_del(&rm->retry);
	json_object_set_new(rec, "server", json_pack("{s:s}", "transport",
	    rm->transport == HTTP_SSE ? "sse" : "streamable_http"));
	while ((rq = TAILQ_FIRST(&rm->reqs)) != NULL) {
		if (!rq->done)
			remote_cancel(c, rq);
		rreq_free(rm, rq);
	}
	while ((m = TAILQ_FIRST(&rm->waiting)) != NULL) {
		TAILQ_REMOVE(&rm->waiting, m, entry);
		json_decref(m->id);
		free(m);
	}
	if (rm->transport == HTTP_STREAMABLE && rm->session_id[0] != '\0' &&
	    (del = remote_send(c, RQ_DELETE, rm->path, NULL, 0)) != NULL)
		reqid = del->reqid;
	while ((rq = TAILQ_FIRST(&rm->reqs)) != NULL)
		rreq_free(rm, rq);
	free(rm);
	c->session->backend->remote = NULL;
	return (reqid);
}
