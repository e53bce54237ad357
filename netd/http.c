/*
 * HTTP to MCP servers, in netd: libcurl's multi interface driven by
 * netd's event loop.  mcpd says what to send (a method, a path of the
 * app's origin, the MCP headers) and reads what comes back; the parent
 * says where each app's server is and what a session's identity headers
 * are.  netd goes nowhere else: a request names a session, the session
 * an app, the app one origin of the parent's table, and the connection
 * is made only to the addresses found for that origin's host; redirects
 * are never followed; no proxy, no compression, HTTP/1.1.  CAs come as
 * PEM from the parent, since netd can open no file.  A body travels to
 * mcpd under flow control: past HTTP_WINDOW bytes that mcpd has not
 * acknowledged, the transfer is paused and the server slowed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "compat.h"
#include "log.h"
#include "netd.h"
#include "util.h"

#define HTTP_BODY_CHUNK		(64 * 1024)
#define HTTP_SESSION_REQS	64	/* in flight per session */
#define HTTP_DNS_QUEUE		256	/* lookups waiting for the resolver */

struct http_origin_ent {
	TAILQ_ENTRY(http_origin_ent) entry;
	struct http_origin	 o;
	char			*ca;		/* PEM; NULL: the system's */
	size_t			 calen;
};
TAILQ_HEAD(http_origins, http_origin_ent);

struct http_sess {
	RB_ENTRY(http_sess)	 entry;
	struct http_key		 key;
	char			 app[64];
	char			*hdrs;		/* "Name: value\r\n"..., zeroed */
	size_t			 hdrlen;
	int			 nreqs;
};
RB_HEAD(http_sess_tree, http_sess);

struct http_xfer {
	RB_ENTRY(http_xfer)	 entry;
	TAILQ_ENTRY(http_xfer)	 rentry;	/* waiting for the resolver */
	uint32_t		 serial;	/* netd's, for the resolver */
	struct http_req		 req;
	struct http_ref		 ref;
	struct http_sess	*sess;
	CURL			*easy;
	struct curl_slist	*hdrs;
	struct curl_slist	*resolve;
	char			*body;
	size_t			 bodylen;
	char			 host[HTTP_HOST_MAX];
	uint16_t		 port;
	int			 tls;
	int			 stream;	/* no idle timeout */
	uint64_t		 timeout;	/* ms */
	struct dns_addr		 addrs[DNS_ADDRS_MAX];
	int			 naddrs;
	int			 resolving;
	int			 added;		/* to the multi handle */
	int			 paused;
	int			 head_sent;
	uint64_t		 unacked;
	struct http_head	 head;
	struct ev_timer		 idle;
	char			 errbuf[CURL_ERROR_SIZE];
	char			 url[HTTP_HOST_MAX + 1100];
};
RB_HEAD(http_xfer_tree, http_xfer);

struct http_sock {
	struct event	 ev;
	int		 fd;
};

static CURLM			*http_multi;
static struct ev_timer		 http_timer;
static struct http_origins	 http_origins =
    TAILQ_HEAD_INITIALIZER(http_origins);
static struct http_origins	 http_origins_new =
    TAILQ_HEAD_INITIALIZER(http_origins_new);
static char			*http_sysca;
static size_t			 http_syscalen;
static struct http_sess_tree	 http_sessions =
    RB_INITIALIZER(&http_sessions);
static struct http_xfer_tree	 http_xfers = RB_INITIALIZER(&http_xfers);
static TAILQ_HEAD(, http_xfer)	 http_resolving =
    TAILQ_HEAD_INITIALIZER(http_resolving);
static uint32_t			 http_serial;
static int			 http_nresolving;
static unsigned char		 http_chunk[sizeof(struct http_ref) +
				    HTTP_BODY_CHUNK];

static void	 http_done(struct http_xfer *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 http_check_done(void);

static int
http_key_cmp(const struct http_key *a, const struct http_key *b)
{
	if (a->conn != b->conn)
		return (a->conn < b->conn ? -1 : 1);
	if (a->ref.serial != b->ref.serial)
		return (a->ref.serial < b->ref.serial ? -1 : 1);
	return (0);
}

static int
http_sess_cmp(struct http_sess *a, struct http_sess *b)
{
	return (http_key_cmp(&a->key, &b->key));
}
RB_GENERATE_STATIC(http_sess_tree, http_sess, entry, http_sess_cmp)

static int
http_xfer_cmp(struct http_xfer *a, struct http_xfer *b)
{
	int	 r;

	if ((r = http_key_cmp(&a->ref.key, &b->ref.key)) != 0)
		return (r);
	if (a->ref.reqid != b->ref.reqid)
		return (a->ref.reqid < b->ref.reqid ? -1 : 1);
	return (0);
}
RB_GENERATE_STATIC(http_xfer_tree, http_xfer, entry, http_xfer_cmp)

static struct http_sess *
http_sess_find(const struct http_key *key)
{
	struct http_sess	 s;

	s.key = *key;
	return (RB_FIND(http_sess_tree, &http_sessions, &s));
}

static struct http_xfer *
http_xfer_find(const struct http_ref *ref)
{
	struct http_xfer	 x;

	x.ref = *ref;
	return (RB_FIND(http_xfer_tree, &http_xfers, &x));
}

static struct http_origin_ent *
http_origin_find(const char *app)
{
	struct http_origin_ent	*e;

	TAILQ_FOREACH(e, &http_origins, entry)
		if (strcmp(e->o.app, app) == 0)
			return (e);
	return (NULL);
}

/* --- the event loop and libcurl -------------------------------------- */

static void
http_sock_cb(int fd, short events, void *arg)
{
	int	 running, flags = 0;

	(void)arg;
	if (events & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (events & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(http_multi, fd, flags, &running);
	http_check_done();
}

static int
http_socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
	struct http_sock	*hs = sockp;
	short			 events = 0;

	(void)easy;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			ev_del(&hs->ev);
			free(hs);
			curl_multi_assign(http_multi, fd, NULL);
		}
		return (0);
	}
	if (hs == NULL) {
		if ((hs = calloc(1, sizeof(*hs))) == NULL)
			fatal("%s", __func__);
		hs->fd = fd;
		ev_set(&hs->ev, fd, http_sock_cb, hs);
		curl_multi_assign(http_multi, fd, hs);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EV_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EV_WRITE;
	if (ev_add(&hs->ev, events) == -1)
		fatal("ev_add");
	return (0);
}

static void
http_timer_cb(void *arg)
{
	int	 running;

	(void)arg;
	curl_multi_socket_action(http_multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	http_check_done();
}

static int
http_timer_fn(CURLM *multi, long ms, void *userp)
{
	(void)multi;
	(void)userp;
	ev_timer_del(&http_timer);
	if (ms >= 0)
		ev_timer_add(&http_timer, (uint64_t)ms);
	return (0);
}

/* Before the sandbox: libcurl and its TLS library loaded, nothing open. */
void
http_init(void)
{
	if (curl_global_init(CURL_GLOBAL_SSL) != CURLE_OK)
		fatalx("libcurl initialisation failed");
	if ((http_multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	curl_multi_setopt(http_multi, CURLMOPT_SOCKETFUNCTION,
	    http_socket_fn);
	curl_multi_setopt(http_multi, CURLMOPT_TIMERFUNCTION, http_timer_fn);
	ev_timer_set(&http_timer, http_timer_cb, NULL);
}

/* --- the parent's table of origins and sessions ---------------------- */

/* Before the table: the system's CAs, for origins that name none. */
void
http_origins_begin(const void *ca, size_t len)
{
	struct http_origin_ent	*e;

	while ((e = TAILQ_FIRST(&http_origins_new)) != NULL) {
		TAILQ_REMOVE(&http_origins_new, e, entry);
		free(e->ca);
		free(e);
	}
	free(http_sysca);
	http_sysca = NULL;
	http_syscalen = 0;
	if (len > 0) {
		if ((http_sysca = malloc(len)) == NULL)
			fatal("%s", __func__);
		memcpy(http_sysca, ca, len);
		http_syscalen = len;
	}
}

/* One origin; fatal on what no honest parent sends. */
int
http_origin_add(const struct http_origin *o, const void *ca, size_t len)
{
	struct http_origin_ent	*e;

	if (memchr(o->app, '\0', sizeof(o->app)) == NULL ||
	    memchr(o->host, '\0', sizeof(o->host)) == NULL ||
	    o->host[0] == '\0' || o->port == 0 || o->timeout == 0)
		return (-1);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal("%s", __func__);
	e->o = *o;
	if (len > 0) {
		if ((e->ca = malloc(len)) == NULL)
			fatal("%s", __func__);
		memcpy(e->ca, ca, len);
		e->calen = len;
	}
	TAILQ_INSERT_TAIL(&http_origins_new, e, entry);
	return (0);
}

/*
 * The new table replaces the old; transfers under way keep the origin
 * they were given (they copied what they need).
 */
void
http_origins_end(void)
{
	struct http_origin_ent	*e;

	while ((e = TAILQ_FIRST(&http_origins)) != NULL) {
		TAILQ_REMOVE(&http_origins, e, entry);
		free(e->ca);
		free(e);
	}
	TAILQ_CONCAT(&http_origins, &http_origins_new, entry);
}

int
http_session_add(const struct http_session *s, const char *hdrs, size_t len)
{
	struct http_sess	*hs;
	size_t			 i;

	if (memchr(s->app, '\0', sizeof(s->app)) == NULL ||
	    len > HTTP_HEADERS_MAX || http_sess_find(&s->key) != NULL)
		return (-1);
	/* Lines of visible text ended by CRLF, nothing else. */
	for (i = 0; i < len; i++)
		if ((hdrs[i] == '\r' && (i + 1 == len || hdrs[i + 1] !=
		    '\n')) || (hdrs[i] == '\n' && (i == 0 ||
		    hdrs[i - 1] != '\r')) || hdrs[i] == '\0')
			return (-1);
	if (len > 0 && (len < 2 || hdrs[len - 1] != '\n'))
		return (-1);
	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		fatal("%s", __func__);
	hs->key = s->key;
	strlcpy(hs->app, s->app, sizeof(hs->app));
	if ((hs->hdrs = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(hs->hdrs, hdrs, len);
	hs->hdrs[len] = '\0';
	hs->hdrlen = len;
	RB_INSERT(http_sess_tree, &http_sessions, hs);
	return (0);
}

/* The session is over: its requests end, its headers are zeroed. */
void
http_session_end(const struct http_key *key)
{
	struct http_sess	*hs;
	struct http_xfer	*x, *next;

	if ((hs = http_sess_find(key)) == NULL)
		return;
	RB_FOREACH_SAFE(x, http_xfer_tree, &http_xfers, next)
		if (x->sess == hs)
			http_done(x, HTTP_ERR_CANCELLED, "the session ended");
	RB_REMOVE(http_sess_tree, &http_sessions, hs);
	freezero(hs->hdrs, hs->hdrlen + 1);
	free(hs);
}

/* --- transfers ------------------------------------------------------- */

static void
http_xfer_free(struct http_xfer *x)
{
	curl_off_t	 up;

	/* The body bytes that went out, whatever ended the transfer. */
	if (x->added && curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T,
	    &up) == CURLE_OK && up > 0)
		netd->stats.http_bytes_out += (uint64_t)up;
	if (x->added)
		curl_multi_remove_handle(http_multi, x->easy);
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	curl_slist_free_all(x->resolve);
	free(x->body);
	if (x->resolving) {
		TAILQ_REMOVE(&http_resolving, x, rentry);
		http_nresolving--;
	}
	ev_timer_del(&x->idle);
	if (x->sess != NULL)
		x->sess->nreqs--;
	RB_REMOVE(http_xfer_tree, &http_xfers, x);
	explicit_bzero(x, sizeof(*x));	/* its header list held the JWT */
	free(x);
}

static void
http_done(struct http_xfer *x, int error, const char *fmt, ...)
{
	struct http_done	 d;
	va_list			 ap;

	memset(&d, 0, sizeof(d));
	d.r = x->ref;
	d.error = error;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(d.message, sizeof(d.message), fmt, ap);
		va_end(ap);
	}
	child_chan_send(&netd->mcpd, IMSG_HTTP_DONE, x->ref.key.conn, -1,
	    &d, sizeof(d));
	http_xfer_free(x);
}

static void
http_idle_cb(void *arg)
{
	struct http_xfer	*x = arg;

	http_done(x, HTTP_ERR_TIMEOUT, "the server did not answer within "
	    "%llu ms", (unsigned long long)x->timeout);
}

static void
http_idle_reset(struct http_xfer *x)
{
	ev_timer_del(&x->idle);
	if (!x->stream && !x->paused)
		ev_timer_add(&x->idle, x->timeout);
}

static void
http_send_head(struct http_xfer *x)
{
	long	 code = 0;

	if (x->head_sent)
		return;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	x->head.r = x->ref;
	x->head.status = (int32_t)code;
	child_chan_send(&netd->mcpd, IMSG_HTTP_HEAD, x->ref.key.conn, -1,
	    &x->head, sizeof(x->head));
	x->head_sent = 1;
}

/* A header line of the response: what mcpd needs of it. */
static size_t
http_header_fn(char *p, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 len = size * n, vlen;
	const char		*v;

	http_idle_reset(x);
	/* A new status line (after a 1xx) starts over. */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		memset(&x->head, 0, sizeof(x->head));
		return (len);
	}
	if ((v = memchr(p, ':', len)) == NULL)
		return (len);
	v++;
	while (v < p + len && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(p + len - v);
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (len > 15 && strncasecmp(p, "content-type:", 13) == 0) {
		if (vlen >= 16 && strncasecmp(v, "application/json", 16) == 0)
			x->head.ctype = HTTP_CT_JSON;
		else if (vlen >= 17 && strncasecmp(v, "text/event-stream",
		    17) == 0)
			x->head.ctype = HTTP_CT_SSE;
		else
			x->head.ctype = HTTP_CT_OTHER;
	} else if (strncasecmp(p, "mcp-session-id:", 15) == 0) {
		if (vlen < sizeof(x->head.session_id)) {
			memcpy(x->head.session_id, v, vlen);
			x->head.session_id[vlen] = '\0';
		}
	} else if (strncasecmp(p, "location:", 9) == 0) {
		if (vlen >= sizeof(x->head.location))
			vlen = sizeof(x->head.location) - 1;
		memcpy(x->head.location, v, vlen);
		x->head.location[vlen] = '\0';
	}
	return (len);
}

/* Body bytes: to mcpd, unless it has a window's worth unread. */
static size_t
http_write_fn(char *p, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 len = size * n, off, k;

	http_send_head(x);
	if (x->unacked >= HTTP_WINDOW) {
		x->paused = 1;
		ev_timer_del(&x->idle);
		return (CURL_WRITEFUNC_PAUSE);
	}
	for (off = 0; off < len; off += k) {
		k = len - off;
		if (k > HTTP_BODY_CHUNK)
			k = HTTP_BODY_CHUNK;
		memcpy(http_chunk, &x->ref, sizeof(x->ref));
		memcpy(http_chunk + sizeof(x->ref), p + off, k);
		child_chan_send(&netd->mcpd, IMSG_HTTP_BODY, x->ref.key.conn,
		    -1, http_chunk, sizeof(x->ref) + k);
	}
	x->unacked += len;
	netd->stats.http_bytes_in += len;
	http_idle_reset(x);
	return (len);
}

/* mcpd read some of a body. */
void
http_ack(const struct http_ack *a)
{
	struct http_xfer	*x;

	if ((x = http_xfer_find(&a->r)) == NULL)
		return;		/* ended meanwhile */
	x->unacked = a->bytes > x->unacked ? 0 : x->unacked - a->bytes;
	if (x->paused && x->unacked < HTTP_WINDOW / 2) {
		x->paused = 0;
		http_idle_reset(x);
		curl_easy_pause(x->easy, CURLPAUSE_CONT);
		http_check_done();
	}
}

/*
 * Belt and braces: libcurl connects only to the addresses it was given
 * for the origin (CURLOPT_RESOLVE, or the address the origin is); any
 * other is refused here.
 */
static curl_socket_t
http_opensocket_fn(void *arg, curlsocktype purpose, struct curl_sockaddr *sa)
{
	struct http_xfer	*x = arg;
	const void		*a;
	size_t			 alen;
	int			 i;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return (CURL_SOCKET_BAD);
	if (sa->family == AF_INET) {
		a = &((struct sockaddr_in *)&sa->addr)->sin_addr;
		alen = 4;
	} else if (sa->family == AF_INET6) {
		a = &((struct sockaddr_in6 *)&sa->addr)->sin6_addr;
		alen = 16;
	} else
		return (CURL_SOCKET_BAD);
	for (i = 0; i < x->naddrs; i++)
		if (x->addrs[i].family == sa->family &&
		    memcmp(x->addrs[i].addr, a, alen) == 0)
			return (socket(sa->family, sa->socktype | SOCK_CLOEXEC,
			    sa->protocol));
	log_warnx("HTTP: refused a connection of %s to an address not "
	    "found for it", x->host);
	return (CURL_SOCKET_BAD);
}

static int
http_setopts(struct http_xfer *x, const struct http_origin_ent *oe)
{
	const struct http_req	*r = &x->req;
	struct curl_blob	 blob;
	CURL			*e = x->easy;
	char			 line[HTTP_EVENTID_MAX + 64], *p, *nl;
	int			 ok = 1;

#define SET(opt, val) do {						\
	if (curl_easy_setopt(e, opt, val) != CURLE_OK)			\
		ok = 0;							\
} while (0)
	SET(CURLOPT_URL, x->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)x->timeout);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_HEADERFUNCTION, http_header_fn);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_WRITEFUNCTION, http_write_fn);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_OPENSOCKETFUNCTION, http_opensocket_fn);
	SET(CURLOPT_OPENSOCKETDATA, x);
	SET(CURLOPT_USERAGENT, "mcpgate/" MCPGATE_VERSION);
	if (x->resolve != NULL)
		SET(CURLOPT_RESOLVE, x->resolve);
	if (x->tls) {
		SET(CURLOPT_CAINFO, NULL);
		SET(CURLOPT_CAPATH, NULL);
		blob.data = oe->ca != NULL ? oe->ca : http_sysca;
		blob.len = oe->ca != NULL ? oe->calen : http_syscalen;
		blob.flags = CURL_BLOB_COPY;
		if (blob.data != NULL)
			SET(CURLOPT_CAINFO_BLOB, &blob);
		SET(CURLOPT_SSL_VERIFYPEER, oe->o.insecure ? 0L : 1L);
		SET(CURLOPT_SSL_VERIFYHOST, oe->o.insecure ? 0L : 2L);
	}
	switch (r->method) {
	case HTTP_POST:
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, x->body);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->bodylen);
		x->hdrs = curl_slist_append(x->hdrs,
		    "Content-Type: application/json");
		x->hdrs = curl_slist_append(x->hdrs,
		    "Accept: application/json, text/event-stream");
		break;
	case HTTP_GET:
		SET(CURLOPT_HTTPGET, 1L);
		x->hdrs = curl_slist_append(x->hdrs,
		    "Accept: text/event-stream");
		break;
	case HTTP_DELETE:
		SET(CURLOPT_CUSTOMREQUEST, "DELETE");
		break;
	}
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	if (r->session_id[0] != '\0') {
		snprintf(line, sizeof(line), "Mcp-Session-Id: %s",
		    r->session_id);
		x->hdrs = curl_slist_append(x->hdrs, line);
	}
	if (r->protocol[0] != '\0') {
		snprintf(line, sizeof(line), "MCP-Protocol-Version: %s",
		    r->protocol);
		x->hdrs = curl_slist_append(x->hdrs, line);
	}
	if (r->last_event_id[0] != '\0') {
		snprintf(line, sizeof(line), "Last-Event-ID: %s",
		    r->last_event_id);
		x->hdrs = curl_slist_append(x->hdrs, line);
	}
	/* The parent's identity headers, line by line. */
	for (p = x->sess->hdrs; *p != '\0'; p = nl + 2) {
		if ((nl = strstr(p, "\r\n")) == NULL)
			break;
		*nl = '\0';
		x->hdrs = curl_slist_append(x->hdrs, p);
		*nl = '\r';
	}
	if (x->hdrs == NULL)
		ok = 0;
	SET(CURLOPT_HTTPHEADER, x->hdrs);
#undef SET
	return (ok ? 0 : -1);
}

static void
http_start(struct http_xfer *x)
{
	struct http_origin_ent	*oe;

	if ((oe = http_origin_find(x->sess->app)) == NULL) {
		http_done(x, HTTP_ERR_REFUSED, "the app is no longer "
		    "configured");
		return;
	}
	if ((x->easy = curl_easy_init()) == NULL ||
	    http_setopts(x, oe) == -1) {
		http_done(x, HTTP_ERR_BROKEN, "cannot set the request up");
		return;
	}
	if (curl_multi_add_handle(http_multi, x->easy) != CURLM_OK) {
		http_done(x, HTTP_ERR_BROKEN, "cannot start the request");
		return;
	}
	x->added = 1;
	netd->stats.http_requests++;
	http_idle_reset(x);
	http_check_done();
}

/* A string field of mcpd's: ended, and of characters in [lo, hi]. */
static int
http_field_ok(const char *s, size_t size, int lo, int hi)
{
	const char	*end;

	if ((end = memchr(s, '\0', size)) == NULL)
		return (0);
	for (; s < end; s++)
		if ((unsigned char)*s < lo || (unsigned char)*s > hi)
			return (0);
	return (1);
}

/*
 * A request from mcpd.  What no honest mcpd sends (a field not ended or
 * with control characters, a path not from '/', a body that is not a
 * POST's, a request number in use) is fatal; a request for a session
 * that has just ended, or past a bound, is answered with its DONE.
 */
void
http_request(const struct http_req *r, const void *body, size_t len)
{
	struct http_sess	*hs;
	struct http_origin_ent	*oe;
	struct http_xfer	*x;
	struct http_ref		 ref;
	struct dns_query	 q;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	int			 v6;

	if (!http_field_ok(r->path, sizeof(r->path), 0x21, 0x7e) ||
	    r->path[0] != '/' || r->path[1] == '/' ||
	    !http_field_ok(r->session_id, sizeof(r->session_id), 0x21,
	    0x7e) || !http_field_ok(r->protocol, sizeof(r->protocol), 0x21,
	    0x7e) || !http_field_ok(r->last_event_id,
	    sizeof(r->last_event_id), 0x20, 0x7e) ||
	    r->method < HTTP_POST || r->method > HTTP_DELETE ||
	    (r->method != HTTP_POST && len != 0) ||
	    len > netd->conf.max_message_size)
		fatalx("%s: a request no honest mcpd sends", __func__);
	ref.key = r->key;
	ref.reqid = r->reqid;
	if (http_xfer_find(&ref) != NULL)
		fatalx("%s: request %llu is in use", __func__,
		    (unsigned long long)r->reqid);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		fatal("%s", __func__);
	x->req = *r;
	x->ref.key = r->key;
	x->ref.reqid = r->reqid;
	ev_timer_set(&x->idle, http_idle_cb, x);
	RB_INSERT(http_xfer_tree, &http_xfers, x);
	if ((hs = http_sess_find(&r->key)) == NULL) {
		http_done(x, HTTP_ERR_CANCELLED, "the session has ended");
		return;
	}
	if (hs->nreqs >= HTTP_SESSION_REQS) {
		http_done(x, HTTP_ERR_LIMIT, "more than %d requests of one "
		    "session at once", HTTP_SESSION_REQS);
		return;
	}
	hs->nreqs++;
	x->sess = hs;
	if ((oe = http_origin_find(hs->app)) == NULL) {
		http_done(x, HTTP_ERR_REFUSED, "the app is no longer "
		    "configured");
		return;
	}
	strlcpy(x->host, oe->o.host, sizeof(x->host));
	x->port = oe->o.port;
	x->tls = oe->o.tls;
	x->timeout = oe->o.timeout;
	x->stream = r->stream;
	if (len > 0) {
		if ((x->body = malloc(len)) == NULL)
			fatal("%s", __func__);
		memcpy(x->body, body, len);
		x->bodylen = len;
	}
	v6 = inet_pton(AF_INET6, x->host, &a6) == 1;
	snprintf(x->url, sizeof(x->url), "%s://%s%s%s:%u%s",
	    x->tls ? "https" : "http", v6 ? "[" : "", x->host, v6 ? "]" : "",
	    (unsigned)x->port, r->path);
	if (v6 || inet_pton(AF_INET, x->host, &a4) == 1) {
		/* An address: nothing to look up. */
		x->addrs[0].family = v6 ? AF_INET6 : AF_INET;
		memcpy(x->addrs[0].addr, v6 ? (void *)&a6 : (void *)&a4,
		    v6 ? 16 : 4);
		x->naddrs = 1;
		http_start(x);
		return;
	}
	if (http_nresolving >= HTTP_DNS_QUEUE) {
		http_done(x, HTTP_ERR_LIMIT, "more than %d name lookups at "
		    "once", HTTP_DNS_QUEUE);
		return;
	}
	x->serial = ++http_serial;
	x->resolving = 1;
	TAILQ_INSERT_TAIL(&http_resolving, x, rentry);
	http_nresolving++;
	memset(&q, 0, sizeof(q));
	strlcpy(q.host, x->host, sizeof(q.host));
	child_chan_send(&netd->resolver, IMSG_DNS_QUERY, x->serial, -1, &q,
	    sizeof(q));
}

/*
 * The resolver's answer for a request.  One no request waits for is a
 * compromised resolver, as is one out of bounds.
 */
void
http_dns_answer(uint32_t serial, struct dns_answer *ans)
{
	struct http_xfer	*x;
	char			 line[HTTP_HOST_MAX + 8 + DNS_ADDRS_MAX * 48];
	char			 addr[INET6_ADDRSTRLEN];
	size_t			 n;
	int			 i;

	TAILQ_FOREACH(x, &http_resolving, rentry)
		if (x->serial == serial)
			break;
	if (x == NULL || ans->naddrs < 0 || ans->naddrs > DNS_ADDRS_MAX)
		fatalx("%s: an answer no query asked for", __func__);
	TAILQ_REMOVE(&http_resolving, x, rentry);
	http_nresolving--;
	x->resolving = 0;
	if (ans->error != 0) {
		ans->message[sizeof(ans->message) - 1] = '\0';
		http_done(x, HTTP_ERR_RESOLVE, "%s: %s", x->host,
		    ans->message);
		return;
	}
	n = (size_t)snprintf(line, sizeof(line), "%s:%u:", x->host,
	    (unsigned)x->port);
	for (i = 0; i < ans->naddrs; i++) {
		if ((ans->addrs[i].family != AF_INET &&
		    ans->addrs[i].family != AF_INET6) ||
		    inet_ntop(ans->addrs[i].family, ans->addrs[i].addr, addr,
		    sizeof(addr)) == NULL)
			fatalx("%s: a bad address", __func__);
		x->addrs[x->naddrs++] = ans->addrs[i];
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s%s%s",
		    i > 0 ? "," : "", ans->addrs[i].family == AF_INET6 ?
		    "[" : "", addr, ans->addrs[i].family == AF_INET6 ? "]" :
		    "");
	}
	if ((x->resolve = curl_slist_append(NULL, line)) == NULL)
		fatal("%s", __func__);
	http_start(x);
}

void
http_cancel(const struct http_ref *ref)
{
	struct http_xfer	*x;

	if ((x = http_xfer_find(ref)) != NULL)
		http_done(x, HTTP_ERR_CANCELLED, "cancelled");
}

static int
http_error_of(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return (HTTP_OK);
	case CURLE_COULDNT_RESOLVE_HOST:
		return (HTTP_ERR_RESOLVE);
	case CURLE_COULDNT_CONNECT:
		return (HTTP_ERR_CONNECT);
	case CURLE_OPERATION_TIMEDOUT:
		return (HTTP_ERR_TIMEOUT);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return (HTTP_ERR_TLS);
	default:
		return (HTTP_ERR_BROKEN);
	}
}

/* Transfers libcurl has finished. */
static void
http_check_done(void)
{
	struct http_xfer	*x;
	CURLMsg			*m;
	char			*priv;
	int			 left, err;

	while ((m = curl_multi_info_read(http_multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    &priv) != CURLE_OK || priv == NULL)
			continue;
		x = (struct http_xfer *)priv;
		if ((err = http_error_of(m->data.result)) == HTTP_OK) {
			http_send_head(x);
			http_done(x, HTTP_OK, NULL);
		} else {
			netd->stats.http_failed++;
			http_done(x, err, "%s", x->errbuf[0] != '\0' ?
			    x->errbuf : curl_easy_strerror(m->data.result));
		}
	}
}
