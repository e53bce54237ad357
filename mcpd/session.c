/*
 * MCP sessions: the connect request that opens one, the checks that end
 * one when the snapshot or the clock says the user may no longer hold it,
 * and its end, which the audit log records with why.  What a session's
 * messages mean is mcp.c's.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "log.h"
#include "mcpd.h"

static int
user_sessions_cmp(struct user_sessions *a, struct user_sessions *b)
{
	return (strcmp(a->name, b->name));
}

RB_GENERATE_STATIC(user_sessions_tree, user_sessions, entry,
    user_sessions_cmp)

/* The sessions a user holds now. */
uint64_t
session_count(const char *user)
{
	struct user_sessions	 k, *us;

	strlcpy(k.name, user, sizeof(k.name));
	us = RB_FIND(user_sessions_tree, &mcpd->user_sessions, &k);
	return (us != NULL ? us->n : 0);
}

static int
session_count_add(const char *user)
{
	struct user_sessions	 k, *us;

	strlcpy(k.name, user, sizeof(k.name));
	if ((us = RB_FIND(user_sessions_tree, &mcpd->user_sessions,
	    &k)) == NULL) {
		if ((us = calloc(1, sizeof(*us))) == NULL)
			return (-1);
		strlcpy(us->name, user, sizeof(us->name));
		RB_INSERT(user_sessions_tree, &mcpd->user_sessions, us);
	}
	us->n++;
	return (0);
}

static void
session_count_del(const char *user)
{
	struct user_sessions	 k, *us;

	strlcpy(k.name, user, sizeof(k.name));
	if ((us = RB_FIND(user_sessions_tree, &mcpd->user_sessions,
	    &k)) == NULL)
		fatalx("%s: %s holds no session", __func__, user);
	if (--us->n == 0) {
		RB_REMOVE(user_sessions_tree, &mcpd->user_sessions, us);
		free(us);
	}
}

/*
 * A session must complete initialize within init_timeout, and then, when
 * idle_timeout is set, see a message one way or the other that often.
 */
static void
session_activity_timeout(void *arg)
{
	struct mconn	*c = arg;
	struct session	*s = c->session;
	uint64_t	 now = ev_now_ms(), idle = mcpd->conf.idle_timeout;
	char		 d[32], msg[256];

	if (!s->initialized) {
		mcpd->stats.init_timeouts++;
		fmt_duration(mcpd->conf.init_timeout / 1000, d, sizeof(d));
		snprintf(msg, sizeof(msg), "the client did not complete "
		    "initialize within %s (limits.init_timeout)", d);
		session_end(c, END_INIT_TIMEOUT, msg);
		return;
	}
	if (idle == 0)
		return;
	if (now - s->last_active < idle) {
		ev_timer_add(&s->activity, idle - (now - s->last_active));
		return;
	}
	mcpd->stats.idle_timeouts++;
	fmt_duration(idle / 1000, d, sizeof(d));
	snprintf(msg, sizeof(msg), "no message either way for %s "
	    "(limits.idle_timeout)", d);
	session_end(c, END_IDLE_TIMEOUT, msg);
}

/*
 * Arm the timer for where the session stands, under the configuration as
 * it is now: at the start, once initialized, after a reload.
 */
void
session_arm_activity(struct mconn *c)
{
	struct session	*s = c->session;
	uint64_t	 now = ev_now_ms(), since, left;

	ev_timer_del(&s->activity);
	if (!s->initialized) {
		since = (uint64_t)(now_us() - s->started) / 1000;
		left = since < mcpd->conf.init_timeout ?
		    mcpd->conf.init_timeout - since : 0;
		ev_timer_add(&s->activity, left);
	} else if (mcpd->conf.idle_timeout > 0) {
		since = now - s->last_active;
		left = since < mcpd->conf.idle_timeout ?
		    mcpd->conf.idle_timeout - since : 0;
		ev_timer_add(&s->activity, left);
	}
}

/* A message one way or the other: the session is not idle. */
void
session_activity(struct mconn *c)
{
	c->session->last_active = ev_now_ms();
}

/* A connect that was refused, for the audit log, when we know who. */
static void
session_refused(struct mconn *c, const char *app, const char *code,
    const char *why)
{
	const struct user	*u = identity_user(c->peer.cert_cn);
	json_t			*rec, *roles = json_array();
	size_t			 i;

	for (i = 0; u != NULL && i < u->roles.n; i++)
		json_array_append_new(roles, json_string(u->roles.v[i]));
	rec = json_pack("{s:s,s:b,s:s,s:o,s:s,s:s,s:s}", "event",
	    "mcp.session.start", "success", 0, "user", c->peer.cert_cn,
	    "roles", roles, "remote_addr", c->peer.remote, "error", code,
	    "reason", why);
	audit_string(rec, "app", app);
	audit_send(rec, NULL);
}

/* The session ends when the certificate does (and is checked then). */
static void
session_arm_expiry(struct mconn *c)
{
	int64_t	 left = c->peer.cert_not_after - time(NULL);

	ev_timer_del(&c->timer);
	ev_timer_add(&c->timer, left > 0 ? (uint64_t)left * 1000 + 100 : 0);
}

/*
 * The status slot of an app's sessions: its own while there are slots,
 * else the last, which counts the rest.  An app keeps its slot when it
 * leaves the configuration, as counters do not go back.
 */
static struct status_app *
session_app_stats(const char *name)
{
	struct mcpd_status	*st = &mcpd->stats;
	uint32_t		 i;

	for (i = 0; i < st->napps; i++)
		if (strcmp(st->apps[i].name, name) == 0)
			return (&st->apps[i]);
	if (st->napps == STATUS_APPS_MAX - 1 ||
	    strlcpy(st->apps[i].name, name, sizeof(st->apps[i].name)) >=
	    sizeof(st->apps[i].name)) {
		st->apps[i].name[0] = '\0';
		return (&st->apps[STATUS_APPS_MAX - 1]);
	}
	st->napps++;
	return (&st->apps[i]);
}

/* {"op":"connect","app":NAME}: a session with that server. */
void
session_connect(struct mconn *c, struct request *req)
{
	const struct user	*u;
	const struct app	*app;
	struct session		*s;
	struct status_app	*as;
	struct decision		 d;
	const char		*code, *key, *name;
	json_t			*v;
	unsigned char		 rnd[16];
	char			 msg[256];

	json_object_foreach(req->obj, key, v) {
		if (strcmp(key, "op") != 0 && strcmp(key, "app") != 0) {
			mconn_error(c, WIRE_ERR_BAD_REQUEST, "connect does not "
			    "take \"%.32s\"", key);
			return;
		}
	}
	v = json_object_get(req->obj, "app");
	if (!json_is_string(v) || !resource_name_ok(json_string_value(v))) {
		mconn_error(c, WIRE_ERR_BAD_REQUEST, "connect needs \"app\": "
		    "the name of an MCP server (see 'mcpgate mcp ls')");
		return;
	}
	name = json_string_value(v);
	if (mcpd->draining) {
		mconn_error(c, WIRE_ERR_STOPPING, "the gateway is stopping; "
		    "try again in a moment");
		return;
	}
	if ((u = identity_check(&c->peer, &code, msg, sizeof(msg))) == NULL) {
		if (c->peer.has_cert)
			session_refused(c, name, code, msg);
		mconn_error(c, code, "%s", msg);
		return;
	}
	/* A server the user may not see is answered as one that is not. */
	if ((app = apps_find(name)) == NULL || !policy_app(u, app, &d)) {
		if (app != NULL)
			mcpd->stats.app_denials++;
		session_refused(c, name, WIRE_ERR_UNKNOWN_APP, app == NULL ?
		    "no such server" : d.rule);
		mconn_error(c, WIRE_ERR_UNKNOWN_APP, "no MCP server named '%s' "
		    "is available to you: see 'mcpgate mcp ls', or ask an "
		    "administrator for a role that gives it", name);
		return;
	}
	/* One user cannot take the sessions everyone else needs. */
	if (session_count(u->name) >= mcpd->conf.max_sessions_per_user) {
		mcpd->stats.refused_sessions++;
		snprintf(msg, sizeof(msg), "%s already holds %llu MCP "
		    "sessions on this gateway, the most it allows one user "
		    "(limits.max_sessions_per_user); close one and try again",
		    u->name, (unsigned long long)session_count(u->name));
		session_refused(c, name, WIRE_ERR_TOO_MANY_SESSIONS, msg);
		mconn_error(c, WIRE_ERR_TOO_MANY_SESSIONS, "%s", msg);
		return;
	}

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    session_count_add(c->peer.cert_cn) == -1) {
		free(s);
		log_warn("%s: session", c->peer.remote);
		mconn_error(c, WIRE_ERR_INTERNAL, "the gateway is short of "
		    "memory; try again in a moment");
		return;
	}
	arc4random_buf(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), s->id, sizeof(s->id));
	s->serial = audit_next_serial();
	s->app = app;
	s->started = now_us();
	s->last_active = ev_now_ms();
	c->session = s;
	c->state = MCONN_SESSION;
	mcpd->stats.sessions++;
	as = session_app_stats(app->name);
	as->open++;
	as->started++;
	log_info("%s: %s opened session %s with %s", c->peer.remote, u->name,
	    s->id, app->name);
	session_arm_expiry(c);
	ev_timer_set(&s->activity, session_activity_timeout, c);
	session_arm_activity(c);
	session_send(c, json_pack("{s:b,s:s,s:s}", "ok", 1, "session", s->id,
	    "app", app->name));
}

/* One message of the session, without its newline. */
void
session_line(struct mconn *c, char *line, size_t len)
{
	if (!utf8_valid((const unsigned char *)line, len)) {
		session_end(c, "invalid_utf8", "the client sent a message "
		    "that is not valid UTF-8");
		return;
	}
	mcp_message(c, line, len);
}

/* The user of a session: present, or the session would have ended. */
const struct user *
session_user(struct mconn *c)
{
	const struct user	*u;

	if ((u = identity_user(c->peer.cert_cn)) == NULL)
		fatalx("session %s outlived its user", c->session->id);
	return (u);
}

/* auditd answered for the record the session held on; go on. */
void
session_audited(struct mconn *c, int ok)
{
	uint32_t	 id = c->id;

	mcp_release(c, ok);
	if (mconn_find(id) == c && c->state == MCONN_SESSION)
		mconn_input(c);
}

/*
 * After a new snapshot, a reload or the certificate's expiry: may the
 * user still hold this session?  If so, tell the client when the tools
 * it may use changed.
 */
void
session_recheck(struct mconn *c)
{
	struct session		*s = c->session;
	const struct user	*u;
	struct decision		 d;
	const char		*code, *gone;
	char			 msg[512], digest[SHA256_HEX_LEN + 1];

	if ((u = identity_check(&c->peer, &code, msg, sizeof(msg))) == NULL) {
		session_end(c, code, msg);
		return;
	}
	/* Gone, it ends the session; changed, the session keeps its own. */
	if ((gone = apps_gone(s->app, msg, sizeof(msg))) != NULL) {
		session_end(c, gone, msg);
		return;
	}
	if (!policy_app(u, s->app, &d)) {
		snprintf(msg, sizeof(msg), "your roles no longer give you the "
		    "MCP server %s (%s)", s->app->name, d.rule);
		session_end(c, "access_removed", msg);
		return;
	}
	if (s->initialized) {
		mcp_tools_digest(c, digest);
		if (strcmp(digest, s->tools_seen) != 0) {
			strlcpy(s->tools_seen, digest, sizeof(s->tools_seen));
			session_send(c, rpc_notification(
			    "notifications/tools/list_changed"));
		}
	}
	session_arm_expiry(c);
	session_arm_activity(c);
}

void
session_send(struct mconn *c, json_t *msg)
{
	session_activity(c);
	mconn_send_line(c, msg);
}

/* A line of the session's server, passed on as it came. */
void
session_send_raw(struct mconn *c, const char *line, size_t len)
{
	session_activity(c);
	mconn_send_raw(c, line, len);
}

/*
 * End the session: tell the client why when the gateway ends it (the
 * last line is an error with a null id and the audit reason as its
 * data.reason), record it, and close.
 */
void
session_end(struct mconn *c, const char *code, const char *why)
{
	char	 text[640];

	if (why != NULL) {
		snprintf(text, sizeof(text), "the session ended: %s", why);
		session_send(c, json_pack("{s:s,s:n,s:{s:i,s:s,s:{s:s}}}",
		    "jsonrpc", "2.0", "id", "error", "code", RPC_GATEWAY_ERROR,
		    "message", text, "data", "reason", code));
	}
	session_free(c, code, why);
	mconn_close(c);
}

/* Record the end of the session and free it. */
void
session_free(struct mconn *c, const char *code, const char *why)
{
	struct session	*s = c->session;
	json_t		*rec;
	int64_t		 ms = (now_us() - s->started) / 1000;

	rec = audit_session_fields(c, "mcp.session.end");
	json_object_set_new(rec, "reason", json_string(code));
	if (why != NULL)
		json_object_set_new(rec, "message", json_string(why));
	json_object_set_new(rec, "initialized", json_boolean(s->initialized));
	json_object_set_new(rec, "duration_ms", json_integer(ms));
	json_object_set_new(rec, "requests", json_integer(
	    (json_int_t)s->requests));
	json_object_set_new(rec, "denied", json_integer(
	    (json_int_t)s->denied));
	json_object_set_new(rec, "errors", json_integer(
	    (json_int_t)s->errors));
	json_object_set_new(rec, "notifications", json_integer(
	    (json_int_t)s->notifications));
	/* With a server, the record waits for its exit status. */
	if (s->backend == NULL || !relay_park(c, rec))
		audit_send(rec, NULL);
	log_info("%s: session %s of %s with %s ended: %s", c->peer.remote,
	    s->id, c->peer.cert_cn, s->app->name, code);
	ev_timer_del(&c->timer);
	ev_timer_del(&s->activity);
	session_count_del(c->peer.cert_cn);
	session_app_stats(s->app->name)->open--;
	json_decref(s->held);
	free(s);
	c->session = NULL;
	mcpd->stats.sessions--;
}
