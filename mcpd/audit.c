/*
 * mcpd's side of the audit log: the records of MCP sessions, sent to
 * auditd, and its acknowledgements.  A session that must not go on before
 * its record is written (initialize, tools/call) holds until the
 * acknowledgement comes; every other record is sent and not waited for.
 * Records are bounded: what a client chose (method, tool, names, params)
 * is cut to a size that keeps every record far below AUDIT_LINE_MAX.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "mcpd.h"

struct audit_wait {
	TAILQ_ENTRY(audit_wait)	 entry;
	uint32_t		 id;
	uint32_t		 conn;		/* 0: nobody waits */
	uint64_t		 serial;	/* of that session */
	size_t			 bytes;
};

static TAILQ_HEAD(, audit_wait) audit_waits =
    TAILQ_HEAD_INITIALIZER(audit_waits);
static uint32_t		 audit_nextid = 1;
static uint64_t		 audit_serial;

/* Set key to a client's string, cut to AUDIT_STRING_MAX bytes. */
void
audit_string(json_t *rec, const char *key, const char *s)
{
	size_t	 len = strlen(s);
	char	 flag[64];

	json_object_set_new(rec, key, json_stringn(s, utf8_cut(s, len,
	    AUDIT_STRING_MAX)));
	if (len > AUDIT_STRING_MAX) {
		snprintf(flag, sizeof(flag), "%s_truncated", key);
		json_object_set_new(rec, flag, json_true());
	}
}

/*
 * A request's params as the audit log keeps them: the object itself up
 * to AUDIT_PARAMS_MAX bytes of JSON, beyond that the first bytes of its
 * text.  Returns an object to merge into the record.
 */
json_t *
audit_params(json_t *params)
{
	json_t	*o = json_object();
	char	*s;
	size_t	 len;

	if (params == NULL)
		return (o);
	if ((s = json_dumps(params, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		fatalx("%s: json_dumps", __func__);
	len = strlen(s);
	if (len <= AUDIT_PARAMS_MAX)
		json_object_set(o, "params", params);
	else {
		json_object_set_new(o, "params", json_stringn(s,
		    utf8_cut(s, len, AUDIT_PARAMS_MAX)));
		json_object_set_new(o, "params_truncated", json_true());
		json_object_set_new(o, "params_bytes", json_integer(
		    (json_int_t)len));
	}
	freezero(s, len);
	return (o);
}

/* The fields every record of a session carries. */
json_t *
audit_session_fields(struct mconn *c, const char *event)
{
	struct session		*s = c->session;
	const struct user	*u = identity_user(c->peer.cert_cn);
	json_t			*roles;

	roles = u != NULL ? strlist_json(&u->roles) : json_array();
	return (json_pack("{s:s,s:s,s:o,s:s,s:s,s:s}", "event", event,
	    "user", c->peer.cert_cn, "roles", roles, "app", s->app->name,
	    "session_id", s->id, "remote_addr", c->peer.remote));
}

/*
 * Send a record; when c is given its session holds until auditd says
 * whether the record was written (session_audited).  Takes the fields.
 */
void
audit_send(json_t *fields, struct mconn *c)
{
	struct audit_wait	*w;
	char			*s;
	size_t			 len;

	if ((s = json_dumps(fields, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(fields);
	len = strlen(s);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	w->id = audit_nextid++;
	if (audit_nextid == 0)
		audit_nextid = 1;
	w->bytes = len;
	if (c != NULL) {
		w->conn = c->id;
		w->serial = c->session->serial;
	}
	child_chan_send(&mcpd->auditd, c != NULL ? IMSG_AUDIT_RECORD :
	    IMSG_AUDIT_RECORD_NOWAIT, w->id, -1, s, len);
	freezero(s, len);
	TAILQ_INSERT_TAIL(&audit_waits, w, entry);
}

/* A new session's serial, to tell an old acknowledgement from a new one. */
uint64_t
audit_next_serial(void)
{
	return (++audit_serial);
}

/* Whether sessions must stop for the channel to auditd to drain. */
int
audit_congested(void)
{
	if (imsgbuf_queuebytes(&mcpd->auditd.ibuf) <= MCPD_AUDIT_HIGHWATER)
		return (0);
	mcpd->audit_paused = 1;
	return (1);
}

/* auditd wrote record id, or could not. */
void
audit_acked(uint32_t id, const struct audit_ack *ack)
{
	struct audit_wait	*w;
	struct mconn		*c;
	int			 ok = ack->status == AUDIT_ACK_OK;

	TAILQ_FOREACH(w, &audit_waits, entry)
		if (w->id == id)
			break;
	if (w == NULL)
		fatalx("auditd acknowledged record %u that was never sent", id);
	TAILQ_REMOVE(&audit_waits, w, entry);
	if (!ok && !mcpd->audit_failing)
		log_warnx("audit records cannot be written: %s; %s",
		    strerror(ack->error),
		    mcpd->conf.audit_on_failure == AUDIT_FAIL_DENY ?
		    "new sessions and tool calls are refused until they can" :
		    "on_failure is allow: sessions go on");
	else if (ok && mcpd->audit_failing)
		log_info("audit records are written again");
	mcpd->audit_failing = !ok;
	if (w->conn != 0 && (c = mconn_find(w->conn)) != NULL &&
	    c->state == MCONN_SESSION && c->session->serial == w->serial)
		session_audited(c, ok);
	free(w);
	if (mcpd->draining)
		audit_drained();
	if (mcpd->audit_paused &&
	    imsgbuf_queuebytes(&mcpd->auditd.ibuf) < MCPD_AUDIT_LOWWATER) {
		mcpd->audit_paused = 0;
		mconn_resume_sessions();
	}
}

/* Stopping: once every record sent is answered, tell the parent. */
void
audit_drained(void)
{
	static int	 told;

	if (told || !TAILQ_EMPTY(&audit_waits) || relay_endings() > 0)
		return;
	told = 1;
	child_chan_send(&child_parent, IMSG_DRAINED, 0, -1, NULL, 0);
}
