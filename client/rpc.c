/*
 * What the bridge needs to know of JSON-RPC: which messages are requests,
 * notifications or responses, the requests of the client still waiting
 * for an answer, and the error answer it gives them when the gateway
 * cannot.  Ids are compared as JSON values: 1 and "1" are two ids.
 */
#include <sys/types.h>
#include <sys/tree.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"
#include "compat.h"
#include "rpc.h"

struct pending_id {
	RB_ENTRY(pending_id)	 entry;
	char			*key;	/* the id in compact JSON */
	json_t			*id;
	unsigned int		 count;	/* a client may reuse an id */
};

RB_HEAD(pending_tree, pending_id);

struct pending {
	struct pending_tree	 tree;
	size_t			 n;
};

static int
pending_cmp(struct pending_id *a, struct pending_id *b)
{
	return (strcmp(a->key, b->key));
}

RB_GENERATE_STATIC(pending_tree, pending_id, entry, pending_cmp)

struct pending *
pending_new(void)
{
	struct pending	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		err(CLIENT_EXIT_FAIL, NULL);
	RB_INIT(&p->tree);
	return (p);
}

static char *
id_key(json_t *id)
{
	char	*k;

	if ((k = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
		err(CLIENT_EXIT_FAIL, "cannot encode an id");
	return (k);
}

void
pending_add(struct pending *p, json_t *id)
{
	struct pending_id	 find, *e;

	find.key = id_key(id);
	if ((e = RB_FIND(pending_tree, &p->tree, &find)) != NULL) {
		free(find.key);
		e->count++;
	} else {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			err(CLIENT_EXIT_FAIL, NULL);
		e->key = find.key;
		e->id = json_incref(id);
		e->count = 1;
		RB_INSERT(pending_tree, &p->tree, e);
	}
	p->n++;
}

static void
pending_free(struct pending *p, struct pending_id *e)
{
	RB_REMOVE(pending_tree, &p->tree, e);
	json_decref(e->id);
	free(e->key);
	free(e);
}

/* One request with this id is answered. */
void
pending_del(struct pending *p, json_t *id)
{
	struct pending_id	 find, *e;

	find.key = id_key(id);
	e = RB_FIND(pending_tree, &p->tree, &find);
	free(find.key);
	if (e == NULL)
		return;
	p->n--;
	if (--e->count == 0)
		pending_free(p, e);
}

size_t
pending_count(struct pending *p)
{
	return (p->n);
}

/*
 * The id of one request still waiting, taken off the set (the caller
 * owns the reference), or NULL when none waits.
 */
json_t *
pending_take(struct pending *p)
{
	struct pending_id	*e;
	json_t			*id;

	if ((e = RB_MIN(pending_tree, &p->tree)) == NULL)
		return (NULL);
	id = json_incref(e->id);
	p->n--;
	if (--e->count == 0)
		pending_free(p, e);
	return (id);
}

void
pending_destroy(struct pending *p)
{
	json_t	*id;

	if (p == NULL)
		return;
	while ((id = pending_take(p)) != NULL)
		json_decref(id);
	free(p);
}

/*
 * What a message is.  A request has a method and an id, a string or an
 * integer; a notification a method and no id; a response an id and a
 * result or an error, and no method.  Anything else (a request with
 * another kind of id, a batch, not JSON) is for the gateway to judge.
 */
enum bridge_rpc_kind
rpc_classify(json_t *msg)
{
	json_t	*id;

	if (!json_is_object(msg))
		return (BRPC_OTHER);
	id = json_object_get(msg, "id");
	if (json_object_get(msg, "method") != NULL) {
		if (id == NULL)
			return (BRPC_NOTIFICATION);
		return (json_is_string(id) || json_is_integer(id) ?
		    BRPC_REQUEST : BRPC_OTHER);
	}
	if ((json_is_string(id) || json_is_integer(id)) &&
	    (json_object_get(msg, "result") != NULL ||
	    json_object_get(msg, "error") != NULL))
		return (BRPC_RESPONSE);
	return (BRPC_OTHER);
}

/*
 * An error that answers no request (its id null or missing): what the
 * gateway says when it ends a session.  Its message, or NULL for any
 * other message.
 */
const char *
rpc_end_reason(json_t *msg)
{
	json_t	*e = json_object_get(msg, "error"), *id;

	id = json_object_get(msg, "id");
	if (!json_is_object(msg) || !json_is_object(e) ||
	    json_object_get(msg, "method") != NULL ||
	    (id != NULL && !json_is_null(id)))
		return (NULL);
	return (json_string_value(json_object_get(e, "message")) != NULL ?
	    json_string_value(json_object_get(e, "message")) :
	    "no reason given");
}

/*
 * The reason code of the gateway's last line (its error's data.reason,
 * as the audit log records the end), or NULL when it gives none.
 */
const char *
rpc_end_code(json_t *msg)
{
	if (rpc_end_reason(msg) == NULL)
		return (NULL);
	return (json_string_value(json_object_get(json_object_get(
	    json_object_get(msg, "error"), "data"), "reason")));
}

/*
 * Whether a session that ended for this reason may be taken up again
 * by connecting anew: the gateway stopped, the server process exited,
 * an HTTP server forgot the session or closed its stream,
 * the certificate expired (a new login gives another) or the audit log
 * could not be written for a while.  Every other end was meant (the user
 * removed, locked or reset, the server or the access to it removed, a
 * message too large or not UTF-8, a timeout, memory spent): connecting
 * again would be refused or end the same way.  (idle_timeout is the
 * bridge's own case: again, but only when the client asks something.)
 */
int
rpc_end_transient(const char *code)
{
	static const char *const	 transient[] = {
		WIRE_END_GATEWAY_STOPPING, WIRE_END_SERVER_EXITED,
		WIRE_END_SERVER_SESSION_ENDED, WIRE_END_SERVER_DISCONNECTED,
		WIRE_ERR_EXPIRED, WIRE_ERR_AUDIT_UNAVAILABLE,
	};
	size_t				 i;

	for (i = 0; code != NULL && i < sizeof(transient) /
	    sizeof(transient[0]); i++)
		if (strcmp(code, transient[i]) == 0)
			return (1);
	return (0);
}

/*
 * Whether a connect the gateway refused with this code may succeed
 * later without anybody's help but time (or a login of the user's).
 */
int
rpc_refusal_transient(const char *code)
{
	static const char *const	 transient[] = {
		WIRE_ERR_TIMEOUT, WIRE_ERR_THROTTLED, WIRE_ERR_BUSY,
		WIRE_ERR_AUDIT_UNAVAILABLE, WIRE_ERR_INTERNAL,
		WIRE_ERR_EXPIRED, WIRE_ERR_TOO_MANY_SESSIONS,
		WIRE_ERR_STOPPING, WIRE_ERR_OVER_BUDGET,
	};
	size_t				 i;

	for (i = 0; code != NULL && i < sizeof(transient) /
	    sizeof(transient[0]); i++)
		if (strcmp(code, transient[i]) == 0)
			return (1);
	return (0);
}

/*
 * An answer to initialize: 1 with a result, and the server's name and
 * protocol version from it ("" for what it does not say), 0 otherwise.
 */
int
rpc_init_result(json_t *msg, const char **name, const char **version)
{
	json_t	*r = json_object_get(msg, "result");

	if (rpc_classify(msg) != BRPC_RESPONSE || !json_is_object(r))
		return (0);
	*name = json_string_value(json_object_get(json_object_get(r,
	    "serverInfo"), "name"));
	*version = json_string_value(json_object_get(r, "protocolVersion"));
	if (*name == NULL)
		*name = "";
	if (*version == NULL)
		*version = "";
	return (1);
}

/* Whether a message is a request or notification of this method. */
int
rpc_is_method(json_t *msg, const char *method)
{
	const char	*m = json_string_value(json_object_get(msg, "method"));

	return (m != NULL && strcmp(m, method) == 0);
}

/* The request a notifications/cancelled gives up, or NULL. */
json_t *
rpc_cancelled(json_t *msg)
{
	const char	*m = json_string_value(json_object_get(msg, "method"));

	if (rpc_classify(msg) != BRPC_NOTIFICATION || m == NULL ||
	    strcmp(m, "notifications/cancelled") != 0)
		return (NULL);
	return (json_object_get(json_object_get(msg, "params"),
	    "requestId"));
}

/* An error answer to a request, as one line with its newline. */
char *
rpc_error_line(json_t *id, int code, const char *message, size_t *lenp)
{
	json_t	*o;
	char	*s, *line;

	o = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id,
	    "error", "code", code, "message", message);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		errx(CLIENT_EXIT_FAIL, "cannot encode an error answer");
	json_decref(o);
	if ((*lenp = (size_t)asprintf(&line, "%s\n", s)) == (size_t)-1)
		err(CLIENT_EXIT_FAIL, NULL);
	free(s);
	return (line);
}
