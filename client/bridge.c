/*
 * mcpgate mcp connect NAME: the stdio bridge.  An MCP client runs it and
 * speaks JSON-RPC on its stdin and stdout, one message a line; the bridge
 * carries the lines over mutual TLS to the gateway and back, verbatim.
 *
 * Nothing but JSON-RPC ever goes to stdout: a client breaks on anything
 * else.  When the gateway cannot be used (not logged in, an expired
 * certificate, the gateway down or refusing), the bridge does not just
 * exit, which a client shows as a server that "failed" for no reason: it
 * says why on stderr once and answers every request with a JSON-RPC error
 * that carries the same sentence, until stdin ends.  Requests in flight
 * when the session ends are answered the same way, so that the client
 * never waits for an answer that cannot come.
 *
 * When the connection drops once the session ran (the gateway restarted,
 * the network failed, the certificate expired and the user logged in
 * again), the bridge connects again with backoff, replays the client's
 * initialize and notifications/initialized, takes the answer itself and
 * goes on if the server's name and protocol version are the same.  The
 * requests in flight get -32000 "retry"; so do the requests that come
 * while it waits to try again.  A session that the gateway ended on
 * purpose (its last line gives the reason) is not taken up again, but
 * for one it ended as idle: that one is taken up at the client's next
 * request.
 *
 * One poll(2) loop moves the bytes, all descriptors non-blocking, with
 * bounded queues: when the gateway does not take what the client sends,
 * stdin is not read; when the client does not read stdout, the gateway is
 * not read.  While an attempt to reconnect runs, stdin is not read either.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "client.h"
#include "ev.h"
#include "rpc.h"

#define BR_MAXIN	(10 * 1024 * 1024)	/* a message from the client,
						   as much as the SDK reads */
#define BR_MAXGW	(256 * 1024 * 1024)	/* from the gateway: its
						   largest max_message_size */
#define BR_DRAIN_MS	2000		/* after stdin's end, the longest
					   silence of the gateway */
#define BR_CHUNK	(64 * 1024)
#define BR_HIGH		(1024 * 1024)	/* queued before the feeder waits */
#define BR_READS	16		/* gateway reads a turn */
#define BR_RETRY_FIRST	500		/* ms before the first attempt again */
#define BR_RETRY_MAX	30000		/* the longest wait between two */
#define BR_LOGIN_POLL	2000		/* between two looks at a profile
					   that needs 'mcpgate login' */
#define BR_RETRY_FOR	(10 * 60 * 1000)	/* then give up */
#define BR_REPLAY_MS	45000		/* for the replayed initialize's
					   answer: the server's own start
					   may take limits.init_timeout */

#define BR_LOST_MSG	"mcpgate: the connection to the gateway was lost; " \
			"retry"

/* Bytes coming in, cut into lines. */
struct linebuf {
	char	*buf;
	size_t	 off;		/* the first byte not yet a line */
	size_t	 len;
	size_t	 cap;
	size_t	 scan;		/* no newline between off and scan */
	size_t	 max;		/* the longest line, newline excluded */
	int	 skip;		/* dropping a line too long, up to its end */
};

/* Bytes going out. */
struct outbuf {
	char	*buf;
	size_t	 off;
	size_t	 len;
	size_t	 cap;
};

enum br_state {
	BR_WAIT,		/* the connect line sent, no answer yet */
	BR_REPLAY,		/* connected again, initialize replayed */
	BR_STREAM,		/* lines both ways */
	BR_RETRY,		/* the connection lost: waiting to try again */
	BR_IDLE,		/* ended as idle: waiting for a request */
	BR_ERROR,		/* no gateway: requests get the reason */
	BR_DONE,		/* the session ended as it should */
};

struct bridge {
	const char	*app;
	enum br_state	 state;
	SSL		*ssl;
	int		 fd;
	struct linebuf	 in;		/* from stdin */
	struct linebuf	 gin;		/* from the gateway */
	struct outbuf	 out;		/* to stdout */
	struct outbuf	 gout;		/* to the gateway */
	short		 rwant;		/* what SSL_read waits for */
	short		 wwant;		/* what SSL_write waits for */
	int		 stdin_eof;
	int		 shut;		/* close_notify sent */
	int		 status;
	uint64_t	 deadline;	/* BR_WAIT: when to give up; after
					   stdin's end: when to stop */
	struct pending	*pending;	/* the client's unanswered requests */
	char		 reason[1024];	/* error mode: what to say */
	char		 last[512];	/* the gateway's last line, if an
					   error without an id: why it
					   ends */
	char		 endcode[64];	/* and its reason code, if given */

	/* Reconnection. */
	uint64_t	 retry_for;	/* how long to try, ms; 0: never */
	int		 ran;		/* a session was accepted once */
	uint64_t	 lost_at;	/* when the connection was lost, or 0 */
	uint64_t	 retry_at;	/* BR_RETRY: the next attempt */
	uint64_t	 backoff;	/* the last wait, ms */
	unsigned int	 attempts;	/* since the loss */
	unsigned long	 dropped;	/* client messages meanwhile */
	char		 said[512];	/* the last trouble said on stderr */
	char		 session[64];	/* the gateway's id of the session */
	char		*held;		/* the request that ended BR_IDLE,
					   sent once the session is back */
	size_t		 heldlen;

	/* What is replayed, and what its answer must say again. */
	char		*init_line;	/* the client's initialize */
	size_t		 init_len;
	json_t		*init_id;
	char		*inited_line;	/* notifications/initialized */
	size_t		 inited_len;
	int		 init_ok;	/* the first initialize succeeded */
	char		*srv_name;	/* serverInfo.name */
	char		*srv_proto;	/* protocolVersion */
};

static volatile sig_atomic_t	 quit;

static void
on_signal(int sig)
{
	quit = sig;
}

/* A message for one line of stderr and of JSON: no control characters. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void
oom(void)
{
	fprintf(stderr, "mcpgate: out of memory\n");
	exit(CLIENT_EXIT_FAIL);
}

/* Room for one more read at the end. */
static void
linebuf_room(struct linebuf *lb)
{
	size_t	 cap;
	char	*p;

	if (lb->off == lb->len)
		lb->off = lb->len = lb->scan = 0;
	if (lb->off > 0 && lb->cap - lb->len < BR_CHUNK) {
		memmove(lb->buf, lb->buf + lb->off, lb->len - lb->off);
		lb->len -= lb->off;
		lb->scan -= lb->off;
		lb->off = 0;
	}
	if (lb->cap - lb->len >= BR_CHUNK)
		return;
	cap = lb->cap == 0 ? 2 * BR_CHUNK : lb->cap * 2;
	if (cap < lb->len + BR_CHUNK + 1)
		cap = lb->len + BR_CHUNK + 1;
	if ((p = realloc(lb->buf, cap)) == NULL)
		oom();
	lb->buf = p;
	lb->cap = cap;
}

/*
 * The next whole line, NUL-terminated in place: 1, or 0 when there is
 * none yet, or -1 when a line is longer than allowed (the rest of it is
 * then dropped as it comes).  At eof, what is left is the last line.
 */
static int
linebuf_next(struct linebuf *lb, int eof, char **line, size_t *n)
{
	char	*nl;
	size_t	 start;

	for (;;) {
		if (lb->off == lb->len) {
			lb->off = lb->len = lb->scan = 0;
			return (0);
		}
		if (lb->scan < lb->off)
			lb->scan = lb->off;
		nl = memchr(lb->buf + lb->scan, '\n', lb->len - lb->scan);
		if (nl == NULL && eof && !lb->skip) {
			linebuf_room(lb);		/* room for the NUL */
			nl = lb->buf + lb->len;
			lb->len++;
		}
		if (nl == NULL) {
			lb->scan = lb->len;
			if (lb->skip)
				lb->off = lb->len = lb->scan = 0;
			else if (lb->len - lb->off > lb->max) {
				lb->skip = 1;
				lb->off = lb->len = lb->scan = 0;
				return (-1);
			}
			return (0);
		}
		start = lb->off;
		lb->off = lb->scan = (size_t)(nl - lb->buf) + 1;
		if (lb->skip) {
			lb->skip = 0;
			continue;
		}
		if ((size_t)(nl - lb->buf) - start > lb->max)
			return (-1);
		*nl = '\0';
		*line = lb->buf + start;
		*n = (size_t)(nl - lb->buf) - start;
		return (1);
	}
}

static size_t
outbuf_used(const struct outbuf *ob)
{
	return (ob->len - ob->off);
}

static void
outbuf_add(struct outbuf *ob, const char *data, size_t n)
{
	size_t	 cap;
	char	*p;

	if (ob->off == ob->len)
		ob->off = ob->len = 0;
	if (ob->off > 0 && ob->cap - ob->len < n) {
		memmove(ob->buf, ob->buf + ob->off, ob->len - ob->off);
		ob->len -= ob->off;
		ob->off = 0;
	}
	if (ob->cap - ob->len < n) {
		cap = ob->cap == 0 ? BR_CHUNK : ob->cap;
		while (cap - ob->len < n)
			cap *= 2;
		if ((p = realloc(ob->buf, cap)) == NULL)
			oom();
		ob->buf = p;
		ob->cap = cap;
	}
	memcpy(ob->buf + ob->len, data, n);
	ob->len += n;
}

static void
outbuf_clear(struct outbuf *ob)
{
	free(ob->buf);
	memset(ob, 0, sizeof(*ob));
}

/* An error answer for the client; id NULL for a null id. */
static void
bridge_answer(struct bridge *b, json_t *id, int code, const char *msg)
{
	char	*line;
	size_t	 len;

	line = rpc_error_line(id != NULL ? id : json_null(), code, msg, &len);
	outbuf_add(&b->out, line, len);
	free(line);
}

/* The request with this id gets the error mode's reason. */
static void
bridge_answer_error(struct bridge *b, json_t *id)
{
	bridge_answer(b, id, RPC_GATEWAY_ERROR, b->reason);
}

static void
gw_drop(struct bridge *b)
{
	if (b->ssl == NULL)
		return;
	SSL_free(b->ssl);
	close(b->fd);
	b->ssl = NULL;
	b->fd = -1;
	b->shut = 0;
	outbuf_clear(&b->gout);
	free(b->gin.buf);
	b->gin.buf = NULL;
	b->gin.off = b->gin.len = b->gin.cap = b->gin.scan = 0;
	b->gin.skip = 0;
}

/*
 * Error mode from now on: say why once, answer what waits, and every
 * request to come.
 */
static void
br_fail(struct bridge *b, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*id;
	char	 why[sizeof(b->reason) - 10];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	one_line(why);
	snprintf(b->reason, sizeof(b->reason), "mcpgate: %s", why);
	fprintf(stderr, "%s\n", b->reason);
	gw_drop(b);
	free(b->held);		/* pending: answered below */
	b->held = NULL;
	b->state = BR_ERROR;
	b->status = CLIENT_EXIT_FAIL;
	while ((id = pending_take(b->pending)) != NULL) {
		bridge_answer_error(b, id);
		json_decref(id);
	}
}

/* A trouble for stderr, unless it is the one said last. */
static void
br_say(struct bridge *b, const char *what)
{
	if (strcmp(b->said, what) == 0)
		return;
	strlcpy(b->said, what, sizeof(b->said));
	fprintf(stderr, "mcpgate: %s\n", what);
}

/*
 * The next attempt, after a wait that doubles from BR_RETRY_FIRST up to
 * BR_RETRY_MAX, each a random share between half and all of it, so that
 * the bridges one restart cut off do not all come back at once, and
 * the last at the end of retry_for; after that, error mode.
 */
static void
br_schedule(struct bridge *b, const char *why, int login)
{
	uint64_t	 now = ev_now_ms(), wait;
	char		 d[32];

	if (now - b->lost_at >= b->retry_for) {
		fmt_duration(b->retry_for / 1000, d, sizeof(d));
		br_fail(b, "could not connect to the gateway again within %s "
		    "(%s); restart this MCP server in your client to connect "
		    "again", d, why);
		return;
	}
	b->backoff = b->backoff == 0 ? BR_RETRY_FIRST : b->backoff * 2;
	if (b->backoff > BR_RETRY_MAX)
		b->backoff = BR_RETRY_MAX;
	wait = b->backoff / 2 + arc4random_uniform(b->backoff / 2 + 1);
	if (login && wait > BR_LOGIN_POLL)
		wait = BR_LOGIN_POLL;
	if (!login && wait > b->lost_at + b->retry_for - now)
		wait = b->lost_at + b->retry_for - now;	/* a last one */
	b->state = BR_RETRY;
	b->retry_at = now + wait;
}

/*
 * The gateway cannot be used now.  Before any session ran, or when time
 * will not mend it, or when reconnecting is off: error mode.  Otherwise
 * the requests in flight get -32000 "retry", and an attempt to connect
 * again is scheduled.  A profile that waits for 'mcpgate login' (the
 * certificate expired) is looked at again and again, with no end: the
 * user's next login is enough.
 */
static void
br_trouble(struct bridge *b, int transient, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*id;
	char	 why[512];
	int	 login;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	one_line(why);
	if (!transient || !b->ran || b->retry_for == 0 || b->stdin_eof) {
		br_fail(b, "%s", why);
		return;
	}
	while ((id = pending_take(b->pending)) != NULL) {
		bridge_answer(b, id, RPC_GATEWAY_ERROR, BR_LOST_MSG);
		json_decref(id);
	}
	free(b->held);		/* answered with the others */
	b->held = NULL;
	gw_drop(b);
	if (b->lost_at == 0) {
		b->lost_at = ev_now_ms();
		b->attempts = 0;
		b->backoff = 0;
		b->dropped = 0;
		strlcpy(b->said, why, sizeof(b->said));
		fprintf(stderr, "mcpgate: the connection to the gateway was "
		    "lost (%s); connecting again\n", why);
	} else
		br_say(b, why);
	if ((login = strstr(why, "mcpgate login") != NULL))
		b->lost_at = ev_now_ms();	/* waiting for the user */
	br_schedule(b, why, login);
}

static void	client_lines(struct bridge *);
static void	bridge_dial(struct bridge *);

/*
 * Whether an attempt to connect again runs: the replay goes first, and
 * what the client says waits until the session is back.
 */
static int
br_attempting(struct bridge *b)
{
	return (b->lost_at != 0 && (b->state == BR_WAIT ||
	    b->state == BR_REPLAY));
}

/*
 * The gateway ended the session because nothing happened in it for
 * limits.idle_timeout: no use keeping one open for nothing, so the
 * bridge connects again only when the client asks for something.
 */
static void
br_idle(struct bridge *b, const char *why)
{
	json_t	*id;

	while ((id = pending_take(b->pending)) != NULL) {
		bridge_answer(b, id, RPC_GATEWAY_ERROR, BR_LOST_MSG);
		json_decref(id);
	}
	gw_drop(b);
	b->state = BR_IDLE;
	b->lost_at = 0;
	b->dropped = 0;
	fprintf(stderr, "mcpgate: the gateway ended the session: %s; "
	    "connecting again at the client's next request\n", why);
}

/* A request after an idle end: kept, and an attempt starts now. */
static void
br_wake(struct bridge *b, const char *line, size_t n, json_t *id)
{
	if ((b->held = malloc(n)) == NULL)
		oom();
	memcpy(b->held, line, n);
	b->heldlen = n;
	pending_add(b->pending, id);
	b->lost_at = ev_now_ms();
	b->attempts = 1;
	b->backoff = 0;
	b->said[0] = '\0';
	bridge_dial(b);
}

/* The session goes on after the replay: say so, and send what waited. */
static void
br_resumed(struct bridge *b)
{
	if (b->inited_line != NULL) {
		outbuf_add(&b->gout, b->inited_line, b->inited_len);
		outbuf_add(&b->gout, "\n", 1);
	}
	if (b->held != NULL) {
		outbuf_add(&b->gout, b->held, b->heldlen);
		outbuf_add(&b->gout, "\n", 1);
		free(b->held);
		b->held = NULL;
	}
	b->state = BR_STREAM;
	fprintf(stderr, "mcpgate: connected to the gateway again (session "
	    "%s, attempt %u)", b->session, b->attempts);
	if (b->dropped > 0)
		fprintf(stderr, "; %lu notifications and responses of the MCP "
		    "client were dropped meanwhile", b->dropped);
	fputc('\n', stderr);
	b->lost_at = 0;
	b->backoff = 0;
	b->said[0] = '\0';
	client_lines(b);	/* what came with the request that woke it */
}

/*
 * The session's connection ended: with a TLS close (why NULL) or not.
 * After stdin's end that is the end, whatever the way; before, it is
 * error mode, with the gateway's reason if its last line gave one.
 */
static void
gw_ended(struct bridge *b, const char *why)
{
	static const char	 again[] = "restart this MCP server in your "
	    "client to connect again";
	json_t			*id;
	int			 advised, transient = 1;

	if (b->last[0] != '\0') {
		why = b->last;
		if (strncmp(why, "the session ended: ", 19) == 0)
			why += 19;
		/* Without a reason code, it was meant. */
		transient = b->endcode[0] != '\0' &&
		    rpc_end_transient(b->endcode);
	}
	if (!b->stdin_eof && b->ran && b->retry_for > 0 &&
	    strcmp(b->endcode, WIRE_END_IDLE_TIMEOUT) == 0 && why != NULL) {
		br_idle(b, why);
		return;
	}
	if (!b->stdin_eof && transient && b->ran && b->retry_for > 0) {
		br_trouble(b, 1, "%s", why != NULL ? why : "the gateway closed "
		    "the connection");
		return;
	}
	if (!b->stdin_eof) {
		/* The gateway's reason may say what to do already. */
		advised = why != NULL && (strstr(why, "administrator") !=
		    NULL || strstr(why, "mcpgate ") != NULL);
		br_fail(b, "the gateway ended the session%s%s%s%s", why !=
		    NULL ? ": " : "", why != NULL ? why : "", advised ? "" :
		    "; ", advised ? "" : again);
		return;
	}
	if (pending_count(b->pending) > 0) {
		snprintf(b->reason, sizeof(b->reason), "mcpgate: the gateway "
		    "ended the session%s%s", why != NULL ? ": " : "",
		    why != NULL ? why : "");
		one_line(b->reason);
		while ((id = pending_take(b->pending)) != NULL) {
			bridge_answer_error(b, id);
			json_decref(id);
		}
	}
	gw_drop(b);
	b->state = BR_DONE;
}

/* The client's initialize, kept for a replay until one succeeds. */
static void
init_keep(struct bridge *b, const char *line, size_t n, json_t *id)
{
	free(b->init_line);
	json_decref(b->init_id);
	if ((b->init_line = malloc(n)) == NULL)
		oom();
	memcpy(b->init_line, line, n);
	b->init_len = n;
	b->init_id = json_incref(id);
}

/* notifications/initialized, replayed after initialize. */
static void
inited_keep(struct bridge *b, const char *line, size_t n)
{
	if ((b->inited_line = malloc(n)) == NULL)
		oom();
	memcpy(b->inited_line, line, n);
	b->inited_len = n;
}

/* The gateway's first answer to initialize: what a replay must match. */
static void
init_answered(struct bridge *b, json_t *msg)
{
	const char	*name, *proto;

	if (!rpc_init_result(msg, &name, &proto)) {
		free(b->init_line);	/* an error: nothing to replay */
		b->init_line = NULL;
		json_decref(b->init_id);
		b->init_id = NULL;
		return;
	}
	if ((b->srv_name = strdup(name)) == NULL ||
	    (b->srv_proto = strdup(proto)) == NULL)
		oom();
	b->init_ok = 1;
}

/* A line from the client: to the gateway, or answered in error mode. */
static void
client_line(struct bridge *b, char *line, size_t n)
{
	json_error_t		 jerr;
	json_t			*msg, *id;
	enum bridge_rpc_kind	 kind;

	if (strspn(line, " \t\r") == n)
		return;
	msg = json_loadb(line, n, 0, &jerr);
	kind = rpc_classify(msg);
	id = json_object_get(msg, "id");
	if (b->state == BR_ERROR) {
		if (kind == BRPC_REQUEST)
			bridge_answer_error(b, id);
		json_decref(msg);
		return;
	}
	if (b->state == BR_IDLE) {
		if (kind == BRPC_REQUEST && !b->stdin_eof)
			br_wake(b, line, n, id);
		else if (kind == BRPC_REQUEST)
			bridge_answer(b, id, RPC_GATEWAY_ERROR, BR_LOST_MSG);
		else
			b->dropped++;
		json_decref(msg);
		return;
	}
	if (b->state == BR_RETRY) {
		if (kind == BRPC_REQUEST)
			bridge_answer(b, id, RPC_GATEWAY_ERROR, BR_LOST_MSG);
		else if (kind == BRPC_NOTIFICATION && b->init_ok &&
		    b->inited_line == NULL &&
		    rpc_is_method(msg, "notifications/initialized"))
			inited_keep(b, line, n);	/* for the replay */
		else
			b->dropped++;
		json_decref(msg);
		return;
	}
	if (kind == BRPC_REQUEST && !b->init_ok &&
	    rpc_is_method(msg, "initialize"))
		init_keep(b, line, n, id);
	else if (kind == BRPC_NOTIFICATION && b->inited_line == NULL &&
	    rpc_is_method(msg, "notifications/initialized"))
		inited_keep(b, line, n);
	if (kind == BRPC_REQUEST)
		pending_add(b->pending, id);
	else if ((id = rpc_cancelled(msg)) != NULL)
		pending_del(b->pending, id);	/* no answer will come */
	json_decref(msg);
	outbuf_add(&b->gout, line, n);
	outbuf_add(&b->gout, "\n", 1);
}

static void
client_lines(struct bridge *b)
{
	char	*line;
	size_t	 n;
	int	 r;

	while (b->state != BR_DONE && !br_attempting(b) &&
	    (r = linebuf_next(&b->in, b->stdin_eof, &line, &n)) != 0) {
		if (r == 1) {
			client_line(b, line, n);
			continue;
		}
		/* Its id is somewhere in 10 MiB: refuse with a null one. */
		fprintf(stderr, "mcpgate: a message from the MCP client is "
		    "longer than %d MiB: dropped\n", BR_MAXIN >> 20);
		bridge_answer(b, NULL, RPC_INVALID_REQUEST, "mcpgate: the "
		    "message is longer than 10 MiB: dropped");
	}
}

static void
stdin_read(struct bridge *b)
{
	ssize_t	 n;

	linebuf_room(&b->in);
	n = read(STDIN_FILENO, b->in.buf + b->in.len, b->in.cap - b->in.len -
	    1);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == -1 && errno != EBADF)
		fprintf(stderr, "mcpgate: standard input: %s\n",
		    strerror(errno));
	if (n <= 0) {
		b->stdin_eof = 1;
		if (b->state == BR_STREAM)
			b->deadline = ev_now_ms() + BR_DRAIN_MS;
	} else
		b->in.len += (size_t)n;
	client_lines(b);
}

/* What fits into stdout now; -1 when the client is gone. */
static int
stdout_write(struct bridge *b)
{
	ssize_t	 n;

	while (outbuf_used(&b->out) > 0) {
		n = write(STDOUT_FILENO, b->out.buf + b->out.off,
		    outbuf_used(&b->out));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n <= 0) {
			fprintf(stderr, "mcpgate: standard output: %s\n",
			    n == 0 ? "closed" : strerror(errno));
			return (-1);
		}
		b->out.off += (size_t)n;
	}
	return (0);
}

/* The gateway's answer to connect: the session, or why not. */
static void
connect_answer(struct bridge *b, const char *line, size_t n)
{
	json_error_t	 jerr;
	json_t		*ans;
	const char	*code, *msg, *adv;

	/* Not in json_is_object(): a macro, it would parse twice. */
	ans = json_loadb(line, n, 0, &jerr);
	if (!json_is_object(ans)) {
		json_decref(ans);
		br_trouble(b, 1, "the gateway's answer to connect is not JSON");
		return;
	}
	if (json_is_true(json_object_get(ans, "ok"))) {
		b->ran = 1;
		strlcpy(b->session, json_string_value(json_object_get(ans,
		    "session")) != NULL ? json_string_value(json_object_get(ans,
		    "session")) : "", sizeof(b->session));
		one_line(b->session);
		json_decref(ans);
		if (b->lost_at == 0) {
			b->state = BR_STREAM;	/* and silent: all is well */
			if (b->stdin_eof)	/* ended while we waited */
				b->deadline = ev_now_ms() + BR_DRAIN_MS;
		} else if (b->init_ok) {
			/* The replay, answered to the bridge alone. */
			outbuf_add(&b->gout, b->init_line, b->init_len);
			outbuf_add(&b->gout, "\n", 1);
			b->state = BR_REPLAY;
			b->deadline = ev_now_ms() + BR_REPLAY_MS;
		} else
			br_resumed(b);
		return;
	}
	code = json_string_value(json_object_get(ans, "error"));
	msg = json_string_value(json_object_get(ans, "message"));
	code = code != NULL ? code : "";
	msg = msg != NULL ? msg : code[0] != '\0' ? code : "no reason given";
	adv = gw_advice(code, msg);
	br_trouble(b, rpc_refusal_transient(code), "the gateway refused MCP "
	    "server %s: %s%s%s", b->app, msg, adv != NULL ? "; " : "",
	    adv != NULL ? adv : "");
	json_decref(ans);
}

/*
 * A line from the gateway in the session: to the client, verbatim, if it
 * is JSON.  A response settles its request.  An error without an id is
 * kept: if the gateway closes next, it says why.  With code -32000 it is
 * the gateway's word on ending the session, for the bridge only: clients
 * take a response without an id for a protocol error.
 */
static void
bridge_gateway_line(struct bridge *b, const char *line, size_t n)
{
	json_error_t	 jerr;
	json_t		*msg;
	const char	*end;

	if (strspn(line, " \t\r") == n)
		return;
	if ((msg = json_loadb(line, n, 0, &jerr)) == NULL) {
		fprintf(stderr, "mcpgate: the gateway sent a line that is not "
		    "JSON (%s): dropped\n", jerr.text);
		return;
	}
	if (!json_is_object(msg) && !json_is_array(msg)) {
		json_decref(msg);
		fprintf(stderr, "mcpgate: the gateway sent a line that is not "
		    "a JSON-RPC message: dropped\n");
		return;
	}
	b->last[0] = b->endcode[0] = '\0';
	if ((end = rpc_end_reason(msg)) != NULL) {
		strlcpy(b->last, end, sizeof(b->last));
		one_line(b->last);
		if ((end = rpc_end_code(msg)) != NULL)
			strlcpy(b->endcode, end, sizeof(b->endcode));
		if (json_integer_value(json_object_get(json_object_get(msg,
		    "error"), "code")) == RPC_GATEWAY_ERROR) {
			json_decref(msg);
			return;
		}
	}
	if (rpc_classify(msg) == BRPC_RESPONSE) {
		if (b->init_id != NULL && !b->init_ok &&
		    json_equal(json_object_get(msg, "id"), b->init_id))
			init_answered(b, msg);
		pending_del(b->pending, json_object_get(msg, "id"));
	}
	json_decref(msg);
	outbuf_add(&b->out, line, n);
	outbuf_add(&b->out, "\n", 1);
}

/*
 * A line while the replayed initialize waits for its answer: that answer
 * is the bridge's, and must name the same server and protocol version
 * as the first; everything else goes on to the client.
 */
static void
replay_line(struct bridge *b, const char *line, size_t n)
{
	json_error_t	 jerr;
	json_t		*msg;
	const char	*name, *proto, *why;

	msg = json_loadb(line, n, 0, &jerr);
	if (rpc_classify(msg) != BRPC_RESPONSE ||
	    !json_equal(json_object_get(msg, "id"), b->init_id)) {
		json_decref(msg);
		bridge_gateway_line(b, line, n);
		return;
	}
	if (!rpc_init_result(msg, &name, &proto)) {
		why = json_string_value(json_object_get(json_object_get(msg,
		    "error"), "message"));
		br_trouble(b, 1, "the gateway did not initialize the session "
		    "again: %s", why != NULL ? why : "no reason given");
	} else if (strcmp(name, b->srv_name) != 0 ||
	    strcmp(proto, b->srv_proto) != 0)
		br_fail(b, "the session cannot go on: the MCP server is now "
		    "\"%.100s\" with protocol \"%.40s\", it was \"%.100s\" "
		    "with \"%.40s\"; restart this MCP server in your client",
		    name, proto, b->srv_name, b->srv_proto);
	else
		br_resumed(b);
	json_decref(msg);
}

static void
gateway_lines(struct bridge *b)
{
	char	*line;
	size_t	 n;
	int	 r;

	while (b->ssl != NULL &&
	    (r = linebuf_next(&b->gin, 0, &line, &n)) != 0) {
		if (r == -1)
			br_fail(b, "the gateway sent a message longer than %d "
			    "MiB", BR_MAXGW >> 20);
		else if (b->state == BR_WAIT)
			connect_answer(b, line, n);
		else if (b->state == BR_REPLAY)
			replay_line(b, line, n);
		else
			bridge_gateway_line(b, line, n);
	}
}

/* Whether the gateway may be read: the client must keep up. */
static int
gw_want_read(struct bridge *b)
{
	return (b->ssl != NULL && outbuf_used(&b->out) < BR_HIGH);
}

static int
gw_want_write(struct bridge *b)
{
	return (b->ssl != NULL && (b->state == BR_STREAM ||
	    b->state == BR_REPLAY) &&
	    (outbuf_used(&b->gout) > 0 || (b->stdin_eof && !b->shut)));
}

/*
 * Whether a failed read is the end of the connection without a TLS
 * close_notify: the gateway stopped rather than ended the session.
 */
static int
ssl_eof(SSL *ssl, int n)
{
	unsigned long	 e;
	int		 saved = errno;

	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_SYSCALL:
		return (ERR_peek_error() == 0 && (n == 0 || saved == 0));
	case SSL_ERROR_SSL:
		e = ERR_peek_error();
		errno = saved;
		return (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
	default:
		return (0);
	}
}

/* What the gateway sent, a few records a turn. */
static void
gw_read(struct bridge *b)
{
	char	 why[512];
	int	 n, i;

	for (i = 0; i < BR_READS && gw_want_read(b); i++) {
		linebuf_room(&b->gin);
		n = SSL_read(b->ssl, b->gin.buf + b->gin.len,
		    (int)(b->gin.cap - b->gin.len - 1 > INT_MAX ? INT_MAX :
		    b->gin.cap - b->gin.len - 1));
		if (n > 0) {
			b->rwant = POLLIN;
			b->gin.len += (size_t)n;
			if (b->stdin_eof)	/* still talking: wait on */
				b->deadline = ev_now_ms() + BR_DRAIN_MS;
			gateway_lines(b);
			continue;
		}
		switch (SSL_get_error(b->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			b->rwant = POLLIN;
			return;
		case SSL_ERROR_WANT_WRITE:
			b->rwant = POLLOUT;
			return;
		case SSL_ERROR_ZERO_RETURN:
			ERR_clear_error();
			if (b->state == BR_WAIT)
				br_trouble(b, 1, "the gateway closed the "
				    "connection without answering");
			else
				gw_ended(b, NULL);
			return;
		default:
			if (b->state != BR_WAIT && ssl_eof(b->ssl, n)) {
				ERR_clear_error();
				gw_ended(b, "the connection closed without a "
				    "TLS close (did the gateway stop?)");
				return;
			}
			gw_ssl_error(b->ssl, n, b->state == BR_WAIT ?
			    "no answer from the gateway" : "the connection "
			    "broke", why, sizeof(why));
			if (b->state == BR_WAIT)
				br_trouble(b, 1, "%s", why);
			else
				gw_ended(b, why);
			return;
		}
	}
}

/* Send what the client said, then, after stdin's end, close_notify. */
static void
gw_write(struct bridge *b)
{
	char	 why[512];
	size_t	 n;
	int	 r;

	while (outbuf_used(&b->gout) > 0) {
		/*
		 * A write that must be repeated is repeated with at least
		 * the bytes it had: the queue only grows at its end.
		 */
		n = outbuf_used(&b->gout) > BR_CHUNK ? BR_CHUNK :
		    outbuf_used(&b->gout);
		if ((r = SSL_write(b->ssl, b->gout.buf + b->gout.off,
		    (int)n)) > 0) {
			b->wwant = POLLOUT;
			b->gout.off += (size_t)r;
			continue;
		}
		switch (SSL_get_error(b->ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
			b->wwant = POLLOUT;
			return;
		case SSL_ERROR_WANT_READ:
			b->wwant = POLLIN;
			return;
		default:
			gw_ssl_error(b->ssl, r, "the connection broke", why,
			    sizeof(why));
			/* Its reason for the end may still be readable. */
			gw_read(b);
			if (b->ssl != NULL)
				gw_ended(b, why);
			return;
		}
	}
	if (!b->stdin_eof || b->shut)
		return;
	if ((r = SSL_shutdown(b->ssl)) >= 0) {
		b->shut = 1;
		return;
	}
	switch (SSL_get_error(b->ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
		b->wwant = POLLOUT;
		break;
	case SSL_ERROR_WANT_READ:
		b->wwant = POLLIN;
		break;
	default:
		b->shut = 1;		/* reading will tell how it ended */
		ERR_clear_error();
		break;
	}
}

/*
 * Dial the gateway and ask for the server.  Dialing blocks, each step
 * with its deadline; the answer is read in the loop, with the client's
 * first lines queued meanwhile.
 */
static void
bridge_dial(struct bridge *b)
{
	json_t	*req;
	char	 err[1024], alert[64];
	char	*line;
	int	 len, r;

	b->last[0] = b->endcode[0] = '\0';
	if ((b->ssl = gw_profile_connect(err, sizeof(err))) == NULL) {
		if (strstr(err, "mcpgate login") != NULL)
			br_trouble(b, 1, "%s", err);
		else
			br_trouble(b, 1, "%s; check that the gateway is "
			    "running and reachable ('mcpgate status' tells "
			    "more)", err);
		return;
	}
	b->fd = SSL_get_fd(b->ssl);
	req = json_pack("{s:s,s:s}", "op", WIRE_OP_CONNECT, "app", b->app);
	if (req == NULL || (line = json_dumps(req, JSON_COMPACT)) == NULL)
		oom();
	json_decref(req);
	len = (int)strlen(line);
	line[len] = '\n';	/* over the NUL: the length says where */
	r = SSL_write(b->ssl, line, len + 1);
	free(line);
	if (r != len + 1) {
		gw_ssl_error(b->ssl, r, "cannot send the request to the "
		    "gateway", err, sizeof(err));
		/*
		 * In TLS 1.3 the gateway judges the certificate after the
		 * handshake: its alert may wait unread behind the reset.
		 */
		ERR_clear_error();
		if ((r = SSL_read(b->ssl, alert, sizeof(alert))) <= 0 &&
		    SSL_get_error(b->ssl, r) == SSL_ERROR_SSL)
			gw_ssl_error(b->ssl, r, "no answer from the gateway",
			    err, sizeof(err));
		ERR_clear_error();
		br_trouble(b, 1, "%s", err);
		return;
	}
	if (fd_nonblock(b->fd) == -1) {
		br_fail(b, "fcntl: %s", strerror(errno));
		return;
	}
	SSL_set_mode(b->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	b->state = BR_WAIT;
	b->rwant = POLLIN;
	b->wwant = POLLOUT;
	b->deadline = ev_now_ms() + GW_TIMEOUT_MS;
}

static int
stdin_wanted(struct bridge *b)
{
	if (b->stdin_eof || b->state == BR_DONE)
		return (0);
	if (b->state == BR_ERROR || b->state == BR_RETRY ||
	    b->state == BR_IDLE)
		return (outbuf_used(&b->out) < BR_HIGH);
	if (b->lost_at != 0)	/* an attempt runs: the replay goes first */
		return (0);
	return (outbuf_used(&b->gout) < BR_HIGH);
}

/* How long poll may wait: not at all when TLS holds bytes to read. */
static int
poll_timeout(struct bridge *b)
{
	uint64_t	 now, when;

	if (gw_want_read(b) && SSL_pending(b->ssl) > 0)
		return (0);
	if (b->state == BR_RETRY)
		when = b->retry_at;
	else if (b->state == BR_WAIT || b->state == BR_REPLAY ||
	    (b->state == BR_STREAM && b->stdin_eof))
		when = b->deadline;
	else
		return (-1);
	now = ev_now_ms();
	return (now >= when ? 0 : (int)(when - now));
}

static int
bridge_run(struct bridge *b, const sigset_t *waitmask)
{
	struct pollfd	 pfd[3];
	struct timespec	 ts;
	int		 t;

	for (;;) {
		if (stdout_write(b) == -1)
			return (CLIENT_EXIT_FAIL);
		if (quit)
			return (b->status);
		if ((b->state == BR_ERROR && b->stdin_eof) ||
		    b->state == BR_DONE) {
			if (outbuf_used(&b->out) == 0)
				return (b->status);
		}
		/* The client is gone before the session came back. */
		if (b->state == BR_RETRY && b->stdin_eof &&
		    outbuf_used(&b->out) == 0)
			return (CLIENT_EXIT_FAIL);
		if (b->state == BR_IDLE && b->stdin_eof &&
		    outbuf_used(&b->out) == 0)
			return (b->status);
		pfd[0].fd = stdin_wanted(b) ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = outbuf_used(&b->out) > 0 ? STDOUT_FILENO : -1;
		pfd[1].events = POLLOUT;
		pfd[2].fd = b->ssl != NULL ? b->fd : -1;
		pfd[2].events = (gw_want_read(b) ? b->rwant : 0) |
		    (gw_want_write(b) ? b->wwant : 0);
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		t = poll_timeout(b);
		ts.tv_sec = t / 1000;
		ts.tv_nsec = (long)(t % 1000) * 1000000;
		if (ppoll(pfd, 3, t == -1 ? NULL : &ts, waitmask) == -1 &&
		    errno != EINTR) {
			fprintf(stderr, "mcpgate: poll: %s\n", strerror(errno));
			return (CLIENT_EXIT_FAIL);
		}
		if (pfd[0].revents != 0)
			stdin_read(b);
		if (gw_want_write(b))
			gw_write(b);
		if (gw_want_read(b) && (pfd[2].revents != 0 ||
		    SSL_pending(b->ssl) > 0))
			gw_read(b);
		if (b->state == BR_WAIT && ev_now_ms() >= b->deadline)
			br_trouble(b, 1, "the gateway did not answer within %d "
			    "seconds; try again later", GW_TIMEOUT_MS / 1000);
		else if (b->state == BR_REPLAY && ev_now_ms() >= b->deadline)
			br_trouble(b, 1, "the gateway did not answer the "
			    "replayed initialize within %d seconds",
			    BR_REPLAY_MS / 1000);
		else if (b->state == BR_RETRY && !b->stdin_eof &&
		    ev_now_ms() >= b->retry_at) {
			b->attempts++;
			bridge_dial(b);
		} else if (b->state == BR_STREAM && b->stdin_eof &&
		    outbuf_used(&b->out) > 0)
			/* The client reads slowly: that is not the gateway. */
			b->deadline = ev_now_ms() + BR_DRAIN_MS;
		else if (b->state == BR_STREAM && b->stdin_eof &&
		    ev_now_ms() >= b->deadline) {
			gw_drop(b);	/* it had its time to close */
			b->state = BR_DONE;
		}
	}
}

/*
 * The signals that end the bridge are taken only while it waits in
 * ppoll, so none is lost between a check and the wait.
 */
static void
bridge_signals(sigset_t *waitmask)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction	 sa;
	sigset_t		 block;
	size_t			 i;

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, waitmask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(waitmask, sigs[i]);
}

int
cmd_mcp_connect(int argc, char **argv)
{
	struct bridge	 b;
	sigset_t	 waitmask;
	int		 fl0, fl1, ret;

	uint64_t	 retry_for = BR_RETRY_FOR;
	int		 ch;

	static const struct option	 longopts[] = {
		{ "reconnect-for", required_argument, NULL, CLIENT_OPT_FIRST },
		CLIENT_LONGOPTS,
		{ NULL,	0,	NULL,	0 }
	};

	while ((ch = client_getopt(argc, argv, "h", longopts)) != -1) {
		if (ch != CLIENT_OPT_FIRST)
			client_usage(CLIENT_EXIT_USAGE);
		if (strcmp(optarg, "0") == 0)
			retry_for = 0;
		else if (parse_duration(optarg, &retry_for) == -1 ||
		    retry_for > UINT32_MAX)
			errx(CLIENT_EXIT_USAGE, "--reconnect-for: '%s' is not "
			    "a duration such as 10m, 90s or 0", optarg);
	}
	if (optind + 1 != argc || argv[optind][0] == '\0')
		client_usage(CLIENT_EXIT_USAGE);
	bridge_signals(&waitmask);
	memset(&b, 0, sizeof(b));
	b.app = argv[optind];
	b.retry_for = retry_for;
	b.fd = -1;
	b.in.max = BR_MAXIN;
	b.gin.max = BR_MAXGW;
	b.pending = pending_new();
	/* Restored at the end: the descriptions may be shared. */
	fl0 = fcntl(STDIN_FILENO, F_GETFL);
	fl1 = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl0 != -1)
		fcntl(STDIN_FILENO, F_SETFL, fl0 | O_NONBLOCK);
	if (fl1 != -1)
		fcntl(STDOUT_FILENO, F_SETFL, fl1 | O_NONBLOCK);

	bridge_dial(&b);
	ret = bridge_run(&b, &waitmask);
	if (b.ssl != NULL && quit)
		SSL_shutdown(b.ssl);	/* a polite end, if it goes now */
	gw_drop(&b);
	pending_destroy(b.pending);
	free(b.init_line);
	json_decref(b.init_id);
	free(b.inited_line);
	free(b.held);
	free(b.srv_name);
	free(b.srv_proto);
	outbuf_clear(&b.out);
	free(b.in.buf);
	if (fl0 != -1)
		fcntl(STDIN_FILENO, F_SETFL, fl0);
	if (fl1 != -1)
		fcntl(STDOUT_FILENO, F_SETFL, fl1);
	return (ret);
}
