/*
 * mcpd's side of a client connection: framing the request line out of the
 * bytes netd relays, answering it, and writing to netd within the window.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "mcpd.h"
#include "util.h"

/* libbsd's tree.h expects it; its cdefs.h leaves it out on Linux. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

static int
mconn_cmp(struct mconn *a, struct mconn *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

RB_GENERATE_STATIC(mconn_tree, mconn, entry, mconn_cmp)

struct mconn *
mconn_find(uint32_t id)
{
	struct mconn	 key;

	key.id = id;
	return (RB_FIND(mconn_tree, &mcpd->conns, &key));
}

static void
mconn_free(struct mconn *c)
{
	struct mout_chunk	*ch;

	ev_timer_del(&c->timer);
	if (c->blocked)
		TAILQ_REMOVE(&mcpd->blocked, c, blocked_entry);
	while ((ch = TAILQ_FIRST(&c->out)) != NULL) {
		TAILQ_REMOVE(&c->out, ch, entry);
		free(ch);
	}
	RB_REMOVE(mconn_tree, &mcpd->conns, c);
	explicit_bzero(c->line, sizeof(c->line));
	free(c);
}

/*
 * Hand netd what the connection's window allows, unless too much already
 * waits in the channel to netd; close once everything is out.
 */
static void
mconn_flush(struct mconn *c)
{
	struct mout_chunk	*ch;
	size_t			 n;

	while ((ch = TAILQ_FIRST(&c->out)) != NULL &&
	    c->out_unacked < CONN_WINDOW) {
		if (imsgbuf_queuebytes(&mcpd->netd.ibuf) >
		    MCPD_NETD_HIGHWATER) {
			if (!c->blocked) {
				c->blocked = 1;
				TAILQ_INSERT_TAIL(&mcpd->blocked, c,
				    blocked_entry);
			}
			return;
		}
		n = ch->len - ch->off;
		if (n > CONN_WINDOW - c->out_unacked)
			n = CONN_WINDOW - c->out_unacked;
		if (n > IMSG_MAXDATA)
			n = IMSG_MAXDATA;
		child_chan_send(&mcpd->netd, IMSG_CONN_DATA, c->id, -1,
		    ch->data + ch->off, n);
		c->out_unacked += n;
		ch->off += n;
		if (ch->off == ch->len) {
			TAILQ_REMOVE(&c->out, ch, entry);
			free(ch);
		}
	}
	if (TAILQ_EMPTY(&c->out) && c->close_when_sent) {
		child_chan_send(&mcpd->netd, IMSG_CONN_CLOSE, c->id, -1,
		    NULL, 0);
		mconn_free(c);
	}
}

static void
mconn_write(struct mconn *c, const void *data, size_t len)
{
	struct mout_chunk	*ch;

	if ((ch = malloc(sizeof(*ch) + len)) == NULL)
		fatal("%s", __func__);
	ch->len = len;
	ch->off = 0;
	memcpy(ch->data, data, len);
	TAILQ_INSERT_TAIL(&c->out, ch, entry);
}

/* One JSON line to the client, and then the connection ends. */
void
mconn_answer(struct mconn *c, json_t *ans)
{
	char	*s;
	size_t	 len;

	if (ans == NULL || (s = json_dumps(ans, JSON_COMPACT)) == NULL)
		fatalx("%s: cannot encode the answer", __func__);
	json_decref(ans);
	len = strlen(s);
	mconn_write(c, s, len);
	mconn_write(c, "\n", 1);
	free(s);
	c->state = MCONN_DONE;
	c->close_when_sent = 1;
	mconn_flush(c);
}

void
mconn_error(struct mconn *c, const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug("%s: connection %u: %s: %s", c->peer.remote, c->id, code,
	    msg);
	mconn_answer(c, json_pack("{s:b,s:s,s:s}", "ok", 0, "error", code,
	    "message", msg));
}

static void
mconn_timeout(void *arg)
{
	struct mconn	*c = arg;

	if (c->state == MCONN_REQUEST)
		mconn_error(c, "timeout", "no request line within %llu ms",
		    (unsigned long long)mcpd->conf.handshake_timeout);
}

void
mconn_open(uint32_t id, const struct conn_open *co)
{
	struct mconn	*c;

	if (mconn_find(id) != NULL)
		fatalx("netd opened connection %u twice", id);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	c->id = id;
	c->state = MCONN_REQUEST;
	c->peer = *co;
	c->peer.remote[sizeof(c->peer.remote) - 1] = '\0';
	c->peer.local[sizeof(c->peer.local) - 1] = '\0';
	c->peer.cert_cn[sizeof(c->peer.cert_cn) - 1] = '\0';
	c->peer.cert_serial[sizeof(c->peer.cert_serial) - 1] = '\0';
	TAILQ_INIT(&c->out);
	RB_INSERT(mconn_tree, &mcpd->conns, c);
	ev_timer_set(&c->timer, mconn_timeout, c);
	ev_timer_add(&c->timer, mcpd->conf.handshake_timeout);
}

/*
 * Bytes from the client.  Everything is consumed at once (buffered in the
 * bounded line, answered, or discarded after the answer), so it is all
 * acknowledged to netd at once too.
 */
void
mconn_data(uint32_t id, const unsigned char *data, size_t len)
{
	struct conn_ack	 ack;
	struct mconn	*c;
	const unsigned char *nl;
	size_t		 take;

	if ((c = mconn_find(id)) == NULL)
		return;
	ack.bytes = len;
	child_chan_send(&mcpd->netd, IMSG_CONN_ACK, id, -1, &ack,
	    sizeof(ack));
	if (c->state != MCONN_REQUEST)
		return;
	nl = memchr(data, '\n', len);
	take = nl != NULL ? (size_t)(nl - data) : len;
	if (take > sizeof(c->line) - c->linelen) {
		mconn_error(c, "bad_request", "request line longer than %d "
		    "bytes", REQUEST_LINE_MAX);
		return;
	}
	memcpy(c->line + c->linelen, data, take);
	c->linelen += take;
	if (nl == NULL)
		return;
	ev_timer_del(&c->timer);
	mconn_request(c, c->line, c->linelen);
}

/*
 * A new snapshot: a connection whose certificate it refuses ends, with
 * the reason, even in the middle of what it was doing.
 */
void
mconn_recheck(void)
{
	struct mconn	*c, *next;
	const char	*code;
	char		 msg[256];

	for (c = RB_MIN(mconn_tree, &mcpd->conns); c != NULL; c = next) {
		next = RB_NEXT(mconn_tree, &mcpd->conns, c);
		if (!c->peer.has_cert || c->state == MCONN_DONE)
			continue;
		if (identity_check(&c->peer, &code, msg, sizeof(msg)) != NULL)
			continue;
		log_info("%s: connection %u of %s ends: %s", c->peer.remote,
		    c->id, c->peer.cert_cn, msg);
		mconn_error(c, code, "%s", msg);
	}
}

/* The channel to netd drained: connections waiting on it go on. */
void
mconn_resume_blocked(void)
{
	struct mconn	*c;

	while (imsgbuf_queuebytes(&mcpd->netd.ibuf) < MCPD_NETD_LOWWATER &&
	    (c = TAILQ_FIRST(&mcpd->blocked)) != NULL) {
		TAILQ_REMOVE(&mcpd->blocked, c, blocked_entry);
		c->blocked = 0;
		mconn_flush(c);
	}
}

/* netd wrote some of our output to the client. */
void
mconn_ack(uint32_t id, uint64_t bytes)
{
	struct mconn	*c;

	if ((c = mconn_find(id)) == NULL)
		return;
	if (bytes > c->out_unacked)
		fatalx("netd acknowledged more than it was sent");
	c->out_unacked -= bytes;
	mconn_flush(c);
}

/* The client said all it will; a request line must be whole by now. */
void
mconn_eof(uint32_t id)
{
	struct mconn	*c;

	if ((c = mconn_find(id)) == NULL || c->state != MCONN_REQUEST)
		return;
	ev_timer_del(&c->timer);
	mconn_error(c, "bad_request", "the connection ended before the "
	    "request line did (a line ends with a newline)");
}

void
mconn_closed(uint32_t id)
{
	struct mconn	*c;

	if ((c = mconn_find(id)) != NULL)
		mconn_free(c);
}

/* The request line, parsed and answered. */
void
mconn_request(struct mconn *c, const char *line, size_t len)
{
	struct request	 req;
	const char	*code;
	char		 err[256];

	if (request_parse(line, len, &req, &code, err, sizeof(err)) == -1) {
		mconn_error(c, code, "%s", err);
		return;
	}
	switch (req.op) {
	case OP_HELLO:
		mconn_answer(c, json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:I}",
		    "ok", 1, "name", mcpd->conf.name,
		    "version", MCPGATE_VERSION, "protocol", "mcpgate/1",
		    "ca", mcpd->ca_pem, "ca_fingerprint", mcpd->ca_fpr,
		    "password_min_length",
		    (json_int_t)mcpd->conf.password_min_length));
		break;
	case OP_LOGIN:
		login_start(c, &req);
		break;
	case OP_WHOAMI:
		whoami(c);
		break;
	default:
		mconn_error(c, "unsupported_op", "op '%s' is not available "
		    "on this gateway",
		    json_string_value(json_object_get(req.obj, "op")));
		break;
	}
	request_free(&req);
}
