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

#include "compat.h"
#include "log.h"
#include "mcpd.h"
#include "util.h"

static int
mconn_cmp(struct mconn *a, struct mconn *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

RB_GENERATE_STATIC(mconn_tree, mconn, entry, mconn_cmp)

/* The connection that holds the most comes first. */
static int
mconn_budget_cmp(struct mconn *a, struct mconn *b)
{
	if (a->held != b->held)
		return (a->held > b->held ? -1 : 1);
	return (a->id < b->id ? -1 : a->id > b->id);
}

RB_GENERATE_STATIC(mconn_budget, mconn, budget_entry, mconn_budget_cmp)

static void	 mconn_budget_timeout(void *);

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
	if (c->session != NULL)
		session_free(c, "connection_closed", NULL);
	if (c->doomed)
		mcpd->doomed--;
	if (c->blocked)
		TAILQ_REMOVE(&mcpd->blocked, c, blocked_entry);
	while ((ch = TAILQ_FIRST(&c->out)) != NULL) {
		TAILQ_REMOVE(&c->out, ch, entry);
		free(ch);
	}
	RB_REMOVE(mconn_tree, &mcpd->conns, c);
	RB_REMOVE(mconn_budget, &mcpd->budget, c);
	mcpd->buffered -= c->held;
	mcpd->stats.conns--;
	freezero(c->in, c->incap);
	free(c);
}

/*
 * The budget (limits.max_buffered) covers what mcpd holds for a
 * connection, input not yet taken and output not yet handed to netd, and
 * what netd holds for it, output not yet written to the client.  Input
 * is bounded by the window and the message size, output by the window
 * and by sessions reading no more while it waits; the budget bounds the
 * sum over every connection, so that many of them together cannot take
 * the process's memory.
 */
void
mconn_budget_init(void)
{
	RB_INIT(&mcpd->budget);
	ev_timer_set(&mcpd->budget_timer, mconn_budget_timeout, NULL);
}

/* What c holds now, here and at netd. */
void
mconn_account(struct mconn *c)
{
	uint64_t	 now = c->incap + c->out_queued + c->out_unacked +
	    relay_held(c->session);

	if (now == c->held)
		return;
	RB_REMOVE(mconn_budget, &mcpd->budget, c);
	mcpd->buffered = mcpd->buffered - c->held + now;
	c->held = now;
	RB_INSERT(mconn_budget, &mcpd->budget, c);
	if (mcpd->buffered > mcpd->stats.buffered_peak)
		mcpd->stats.buffered_peak = mcpd->buffered;
	/* Output went over: settled on the next turn of the loop. */
	if (mcpd->buffered > mcpd->conf.max_buffered &&
	    !ev_timer_pending(&mcpd->budget_timer))
		ev_timer_add(&mcpd->budget_timer, 0);
}

/*
 * The connection that holds the most ends.  When the budget is spent it
 * holds more than its fair share (max_buffered over the connections
 * open), so a connection within its share is never the one to go while
 * another is over it.
 */
static void
mconn_evict(struct mconn *c)
{
	char	 why[256], held[32], max[32];

	mcpd->stats.over_budget++;
	fmt_bytes(c->held, held, sizeof(held));
	fmt_size(mcpd->conf.max_buffered, max, sizeof(max));
	snprintf(why, sizeof(why), "the gateway holds at most %s for all "
	    "its connections (limits.max_buffered), and this one held the "
	    "most, %s of unfinished or unread messages", max, held);
	log_warnx("%s: connection %u%s%s ends: %s", c->peer.remote, c->id,
	    c->peer.has_cert ? " of " : "", c->peer.cert_cn, why);
	mconn_abort(c, END_OVER_BUDGET, why);
}

/* Output, or a failed allocation, left mcpd over its budget. */
static void
mconn_budget_timeout(void *arg)
{
	struct mconn	*c, *next;

	(void)arg;
	if (mcpd->doomed > 0) {
		for (c = RB_MIN(mconn_tree, &mcpd->conns); c != NULL;
		    c = next) {
			next = RB_NEXT(mconn_tree, &mcpd->conns, c);
			if (c->doomed) {
				mcpd->stats.over_budget++;
				mconn_abort(c, END_OVER_BUDGET, "the gateway "
				    "is short of memory");
			}
		}
	}
	while (mcpd->buffered > mcpd->conf.max_buffered &&
	    (c = RB_MIN(mconn_budget, &mcpd->budget)) != NULL && c->held > 0)
		mconn_evict(c);
}

/*
 * Room for more bytes for c: while they would not fit the budget, the
 * connection that holds the most ends.  -1 when that is c itself.
 */
int
mconn_budget_room(struct mconn *c, uint64_t more)
{
	struct mconn	*big;

	while (mcpd->buffered + more > mcpd->conf.max_buffered) {
		if ((big = RB_MIN(mconn_budget, &mcpd->budget)) == NULL ||
		    big == c || big->held <= c->held + more)
			return (-1);
		mconn_evict(big);
	}
	return (0);
}

/*
 * An allocation for c failed: it ends on the next turn of the loop,
 * outside whatever was using it.
 */
void
mconn_doom(struct mconn *c)
{
	log_warn("%s: connection %u", c->peer.remote, c->id);
	if (!c->doomed) {
		c->doomed = 1;
		mcpd->doomed++;
	}
	if (!ev_timer_pending(&mcpd->budget_timer))
		ev_timer_add(&mcpd->budget_timer, 0);
}

/*
 * End the connection now and keep nothing of it: what waits to go out is
 * dropped, the reason goes out if the window has room for it, and netd
 * closes once that is written, or gives up after handshake_timeout.
 */
void
mconn_abort(struct mconn *c, const char *code, const char *why)
{
	struct mout_chunk	*ch;
	json_t			*msg = NULL;
	char			*s, text[640];
	size_t			 len;

	if (c->doomed) {
		c->doomed = 0;
		mcpd->doomed--;
	}
	while ((ch = TAILQ_FIRST(&c->out)) != NULL) {
		TAILQ_REMOVE(&c->out, ch, entry);
		free(ch);
	}
	c->out_queued = 0;
	if (c->state == MCONN_SESSION) {
		snprintf(text, sizeof(text), "the session ended: %s", why);
		msg = rpc_error(NULL, RPC_GATEWAY_ERROR, text);
		session_free(c, code, why);
	} else if (c->state != MCONN_DONE)
		msg = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", code,
		    "message", why);
	if (msg != NULL && (s = json_dumps(msg, JSON_COMPACT)) != NULL) {
		len = strlen(s);
		s[len++] = '\n';	/* in place of the NUL */
		if (c->out_unacked + len <= CONN_WINDOW &&
		    len <= IMSG_MAXDATA)
			child_chan_send(&mcpd->netd, IMSG_CONN_DATA, c->id,
			    -1, s, len);
		freezero(s, len);
	}
	json_decref(msg);
	child_chan_send(&mcpd->netd, IMSG_CONN_CLOSE, c->id, -1, NULL, 0);
	mconn_free(c);
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
		c->out_queued -= n;
		ch->off += n;	/* what c holds stays the same */
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

/*
 * After output went out: a session that stopped reading for its output
 * reads again.  Only from the dispatch of a channel, never from inside
 * a session's own processing.
 */
static void
mconn_drained(uint32_t id)
{
	struct mconn	*c;

	if ((c = mconn_find(id)) == NULL || c->state != MCONN_SESSION)
		return;
	relay_resume(c);
	if ((c = mconn_find(id)) != NULL && c->state == MCONN_SESSION &&
	    c->inlen > 0 && c->out_queued < SESSION_OUT_HIGHWATER / 2)
		mconn_input(c);
}

static void
mconn_write(struct mconn *c, const void *data, size_t len)
{
	struct mout_chunk	*ch;

	if ((ch = malloc(sizeof(*ch) + len)) == NULL) {
		mconn_doom(c);
		return;
	}
	ch->len = len;
	ch->off = 0;
	memcpy(ch->data, data, len);
	TAILQ_INSERT_TAIL(&c->out, ch, entry);
	c->out_queued += len;
	mconn_account(c);
}

/* A line to the client as it is; the newline is added. */
void
mconn_send_raw(struct mconn *c, const char *line, size_t len)
{
	struct mout_chunk	*ch;

	if ((ch = malloc(sizeof(*ch) + len + 1)) == NULL) {
		mconn_doom(c);
		return;
	}
	ch->len = len + 1;
	ch->off = 0;
	memcpy(ch->data, line, len);
	ch->data[len] = '\n';
	TAILQ_INSERT_TAIL(&c->out, ch, entry);
	c->out_queued += ch->len;
	mconn_account(c);
	mconn_flush(c);
}

/* One JSON line to the client; takes the reference. */
void
mconn_send_line(struct mconn *c, json_t *msg)
{
	char	*s;
	size_t	 len;

	if (msg == NULL || (s = json_dumps(msg, JSON_COMPACT)) == NULL) {
		json_decref(msg);
		mconn_doom(c);
		return;
	}
	json_decref(msg);
	len = strlen(s);
	s[len] = '\n';		/* in place of the NUL */
	mconn_write(c, s, len + 1);
	freezero(s, len + 1);
	mconn_flush(c);
}

/*
 * Close once everything queued is written, within handshake_timeout;
 * take no more input.
 */
void
mconn_close(struct mconn *c)
{
	if (c->session != NULL)
		session_free(c, "gateway_closed", NULL);
	c->state = MCONN_DONE;
	c->close_when_sent = 1;
	ev_timer_del(&c->timer);
	ev_timer_add(&c->timer, mcpd->conf.handshake_timeout);
	mconn_flush(c);
}

/* One JSON line to the client, and then the connection ends. */
void
mconn_answer(struct mconn *c, json_t *ans)
{
	struct mconn	*same;
	uint32_t	 id = c->id;

	mconn_send_line(c, ans);
	if ((same = mconn_find(id)) == c)
		mconn_close(c);
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
	mcpd->stats.refusals[status_refusal(code)]++;
	mconn_answer(c, json_pack("{s:b,s:s,s:s}", "ok", 0, "error", code,
	    "message", msg));
}

/*
 * No request line in time, a session's certificate expired, or a closing
 * connection's client does not read what is left.
 */
static void
mconn_timeout(void *arg)
{
	struct mconn	*c = arg;

	switch (c->state) {
	case MCONN_REQUEST:
		mcpd->stats.request_timeouts++;
		mconn_error(c, WIRE_ERR_TIMEOUT,
		    "no request line within %llu ms",
		    (unsigned long long)mcpd->conf.handshake_timeout);
		break;
	case MCONN_SESSION:
		session_recheck(c);
		break;
	case MCONN_DONE:
		log_debug("%s: connection %u: the client does not read; "
		    "closing", c->peer.remote, c->id);
		mconn_abort(c, "timeout", NULL);
		break;
	case MCONN_LOGIN:
		break;
	}
}

void
mconn_open(uint32_t id, const struct conn_open *co)
{
	struct mconn	*c;

	if (mconn_find(id) != NULL)
		fatalx("netd opened connection %u twice", id);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: connection %u", co->remote, id);
		child_chan_send(&mcpd->netd, IMSG_CONN_CLOSE, id, -1, NULL, 0);
		return;
	}
	c->id = id;
	c->state = MCONN_REQUEST;
	c->peer = *co;
	c->peer.remote[sizeof(c->peer.remote) - 1] = '\0';
	c->peer.local[sizeof(c->peer.local) - 1] = '\0';
	c->peer.cert_cn[sizeof(c->peer.cert_cn) - 1] = '\0';
	c->peer.cert_serial[sizeof(c->peer.cert_serial) - 1] = '\0';
	TAILQ_INIT(&c->out);
	RB_INSERT(mconn_tree, &mcpd->conns, c);
	RB_INSERT(mconn_budget, &mcpd->budget, c);
	mcpd->stats.conns++;
	ev_timer_set(&c->timer, mconn_timeout, c);
	ev_timer_add(&c->timer, mcpd->conf.handshake_timeout);
}

/*
 * Room for len more bytes of input, the taken ones moved out first.  -1
 * when the budget has no room for them and c holds the most, -2 when
 * memory runs out.
 */
static int
mconn_in_reserve(struct mconn *c, size_t len)
{
	size_t	 cap, most;
	char	*p;

	if (c->inoff > 0 && (c->inoff >= c->inlen / 2 ||
	    c->inoff + c->inlen + len > c->incap)) {
		memmove(c->in, c->in + c->inoff, c->inlen);
		c->inscan -= c->inoff;
		c->inoff = 0;
	}
	if (c->inlen + len <= c->incap)
		return (0);
	cap = c->incap == 0 ? 4096 : c->incap;
	while (cap < c->inlen + len)
		cap *= 2;
	/* Input waits within a message and a window: no more room than that. */
	most = mcpd->conf.max_message_size + CONN_WINDOW + 2;
	if (cap > most && c->inlen + len <= most)
		cap = most;
	if (mconn_budget_room(c, cap - c->incap) == -1)
		return (-1);
	if ((p = recallocarray(c->in, c->incap, cap, 1)) == NULL) {
		log_warn("%s: connection %u", c->peer.remote, c->id);
		return (-2);
	}
	c->in = p;
	c->incap = cap;
	mconn_account(c);
	return (0);
}

/* The next whole line of input, without its newline; NULL if none. */
static char *
mconn_in_line(struct mconn *c, size_t *lenp)
{
	char	*start, *nl;
	size_t	 from = c->inscan - c->inoff;

	if (c->innl == 0) {
		c->inscan = c->inoff + c->inlen;
		return (NULL);
	}
	start = c->in + c->inoff;
	if ((nl = memchr(start + from, '\n', c->inlen - from)) == NULL)
		fatalx("%s: %zu newlines counted, none found", __func__,
		    c->innl);
	*lenp = (size_t)(nl - start);
	return (start);
}

/*
 * Drop n bytes of input from the front, holding nl newlines, and free an
 * empty buffer.
 */
static void
mconn_in_take(struct mconn *c, size_t n, size_t nl)
{
	c->innl -= nl;
	c->inoff += n;
	c->inlen -= n;
	if (c->inscan < c->inoff)
		c->inscan = c->inoff;
	if (c->inlen == 0) {
		freezero(c->in, c->incap);
		c->in = NULL;
		c->incap = c->inoff = c->inscan = c->innl = 0;
		mconn_account(c);
	}
}

/*
 * Tell netd what was consumed, so that it reads on.  Input that waits
 * unprocessed behind a whole line stays unacknowledged: that bounds it
 * by the window.  A partial line is acknowledged as it grows, for the
 * line to become whole; its own cap bounds it.
 */
static void
mconn_in_ack(struct mconn *c)
{
	struct conn_ack	 ack;
	uint64_t	 held = 0;

	/*
	 * Whole lines wait unacknowledged, and so does a partial line
	 * already over the cap: the session ends when it reads on.
	 */
	if (c->innl > 0 || (c->state == MCONN_SESSION &&
	    c->inlen > mcpd->conf.max_message_size))
		held = c->inlen;
	/*
	 * In quarters of the window: netd reads on until the whole window is
	 * unacknowledged, and a message answered at once needs no ack.
	 */
	if (held >= c->in_unacked || c->in_unacked - held < CONN_WINDOW / 4)
		return;
	ack.bytes = c->in_unacked - held;
	c->in_unacked = held;
	child_chan_send(&mcpd->netd, IMSG_CONN_ACK, c->id, -1, &ack,
	    sizeof(ack));
}

/* Whether a session takes its next message now. */
static int
mconn_session_ready(struct mconn *c)
{
	return (c->session->hold == HOLD_NONE &&
	    c->out_queued < SESSION_OUT_HIGHWATER && relay_ready(c) &&
	    !audit_congested());
}

/*
 * Take what input can be taken now: the request line, then, in a
 * session, message after message until the session waits for auditd,
 * for its output to drain, or for more input.
 */
void
mconn_input(struct mconn *c)
{
	uint32_t	 id = c->id;
	uint64_t	 max = mcpd->conf.max_message_size;
	size_t		 len;
	char		*line;

	if (c->busy)
		return;
	c->busy = 1;
	while (c->state == MCONN_REQUEST ||
	    (c->state == MCONN_SESSION && mconn_session_ready(c))) {
		if ((line = mconn_in_line(c, &len)) == NULL) {
			/* The last message may lack its newline. */
			if (c->state != MCONN_SESSION || !c->eof ||
			    c->inlen == 0)
				break;
			len = c->inlen;
			line = c->in + c->inoff;
		}
		if (c->state == MCONN_SESSION && len > max)
			break;
		line[len] = '\0';	/* the newline, or room reserved */
		if (c->state == MCONN_REQUEST) {
			ev_timer_del(&c->timer);
			mconn_request(c, line, len);
		} else
			session_line(c, line, len);
		if (mconn_find(id) != c)
			return;		/* the connection is gone */
		if (len < c->inlen)
			mconn_in_take(c, len + 1, 1);
		else
			mconn_in_take(c, len, 0);	/* the last, at EOF */
	}
	c->busy = 0;

	switch (c->state) {
	case MCONN_REQUEST:
		if (c->inlen > WIRE_REQUEST_LINE_MAX) {
			mconn_error(c, WIRE_ERR_BAD_REQUEST, "request line "
			    "longer than %d bytes", WIRE_REQUEST_LINE_MAX);
			return;
		}
		break;
	case MCONN_SESSION:
		/* Bytes with no newline yet, or a line over the cap. */
		if (c->inscan - c->inoff > max || (c->inlen > 0 &&
		    mconn_session_ready(c) && mconn_in_line(c, &len) != NULL &&
		    len > max)) {
			mcpd->stats.too_large++;
			session_end(c, "message_too_large", "a message was "
			    "larger than the gateway's max_message_size");
			return;
		}
		if (c->eof && c->inlen == 0 && c->session->hold == HOLD_NONE &&
		    relay_client_done(c)) {
			session_end(c, "client_closed", NULL);
			return;
		}
		break;
	default:
		/* Answered, or waiting for the parent: the rest is dropped. */
		if (c->inlen > 0)
			mconn_in_take(c, c->inlen, c->innl);
		break;
	}
	mconn_in_ack(c);
}

/* Bytes from the client. */
void
mconn_data(uint32_t id, const unsigned char *data, size_t len)
{
	struct conn_ack		 ack;
	struct mconn		*c;
	const unsigned char	*p;

	if ((c = mconn_find(id)) == NULL)
		return;
	if (c->state != MCONN_REQUEST && c->state != MCONN_SESSION) {
		/* Answered already: what follows is discarded. */
		ack.bytes = len;
		child_chan_send(&mcpd->netd, IMSG_CONN_ACK, id, -1, &ack,
		    sizeof(ack));
		return;
	}
	/* One byte more, for the NUL that ends a line without newline. */
	switch (mconn_in_reserve(c, len + 1)) {
	case -1:
		mconn_evict(c);
		return;
	case -2:
		mcpd->stats.over_budget++;
		mconn_abort(c, END_OVER_BUDGET, "the gateway is short of "
		    "memory");
		return;
	}
	memcpy(c->in + c->inoff + c->inlen, data, len);
	c->inlen += len;
	for (p = data; (p = memchr(p, '\n', len - (size_t)(p - data))) !=
	    NULL; p++)
		c->innl++;
	c->in_unacked += len;
	mconn_input(c);
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
		if (c->state == MCONN_SESSION) {
			session_recheck(c);
			continue;
		}
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
	uint32_t	 id;

	while (imsgbuf_queuebytes(&mcpd->netd.ibuf) < MCPD_NETD_LOWWATER &&
	    (c = TAILQ_FIRST(&mcpd->blocked)) != NULL) {
		TAILQ_REMOVE(&mcpd->blocked, c, blocked_entry);
		c->blocked = 0;
		id = c->id;
		mconn_flush(c);
		mconn_drained(id);
	}
}

/* The daemon is stopping: every session ends, saying so. */
void
mconn_drain(void)
{
	struct mconn	*c, *next;

	for (c = RB_MIN(mconn_tree, &mcpd->conns); c != NULL; c = next) {
		next = RB_NEXT(mconn_tree, &mcpd->conns, c);
		if (c->state == MCONN_SESSION)
			session_end(c, WIRE_END_GATEWAY_STOPPING, "the "
			    "gateway is stopping; start the session again in "
			    "a moment");
	}
}

/* The channel to auditd drained: sessions waiting on it go on. */
void
mconn_resume_sessions(void)
{
	struct mconn	*c, *next;

	for (c = RB_MIN(mconn_tree, &mcpd->conns); c != NULL; c = next) {
		next = RB_NEXT(mconn_tree, &mcpd->conns, c);
		if (c->state == MCONN_SESSION && c->inlen > 0)
			mconn_input(c);
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
	mconn_account(c);
	mconn_flush(c);
	mconn_drained(id);
}

/*
 * The client said all it will.  A request line must be whole by now; a
 * session ends once what it sent is answered.
 */
void
mconn_eof(uint32_t id)
{
	struct mconn	*c;

	if ((c = mconn_find(id)) == NULL)
		return;
	c->eof = 1;
	if (c->state == MCONN_SESSION) {
		mconn_input(c);
		return;
	}
	if (c->state != MCONN_REQUEST)
		return;
	ev_timer_del(&c->timer);
	mconn_error(c, WIRE_ERR_BAD_REQUEST, "the connection ended before the "
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
		    "version", MCPGATE_VERSION, "protocol", WIRE_ALPN,
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
	case OP_APPS:
		apps_answer(c);
		break;
	case OP_CONNECT:
		session_connect(c, &req);
		break;
	}
	request_free(&req);
}

/* Whether a session holds app: apps.c frees the retired apps none holds. */
int
mconn_app_held(const struct app *app)
{
	struct mconn	*c;

	RB_FOREACH(c, mconn_tree, &mcpd->conns)
		if (c->session != NULL && c->session->app == app)
			return (1);
	return (0);
}
