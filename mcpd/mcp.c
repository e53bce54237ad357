/*
 * The messages of an MCP session with a built-in server: parsed once,
 * checked, audited, and answered here.  Unknown methods are answered
 * -32601 at once, before initialize too; tools/list shows only what the
 * caller's roles allow; a tools/call the roles refuse is answered -32602
 * naming the tool and the rule, and never runs.  A tools/call runs, and
 * initialize is answered, only once auditd has its record.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "mcpd.h"

/* Newest first; a client asking for another gets the newest. */
static const char *const versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
};

#define AUDIT_DOWN_SESSION	"the gateway cannot write its audit log, " \
				"so it refuses new sessions until it can; " \
				"try again later or tell an administrator"
#define AUDIT_DOWN_CALL		"the gateway cannot write its audit log, " \
				"so it refuses tool calls until it can; " \
				"try again later or tell an administrator"

/* Protocol features by version (dates compare as strings). */
int
mcp_has_structured(const struct session *s)
{
	return (strcmp(s->protocol, "2025-06-18") >= 0);
}

static int
has_annotations(const struct session *s)
{
	return (strcmp(s->protocol, "2025-03-26") >= 0);
}

/* The mcp.session.request record of r, without its outcome. */
static json_t *
request_record(struct mconn *c, struct rpc *r)
{
	json_t		*rec, *params;
	const char	*method;

	rec = audit_session_fields(c, "mcp.session.request");
	method = json_string_value(json_object_get(r->msg, "method"));
	if (method != NULL)
		audit_string(rec, "method", method);
	if (json_is_string(r->id))
		audit_string(rec, "rpc_id", json_string_value(r->id));
	else if (r->id != NULL)
		json_object_set(rec, "rpc_id", r->id);
	params = audit_params(json_is_object(r->msg) ?
	    json_object_get(r->msg, "params") : NULL);
	json_object_update(rec, params);
	json_decref(params);
	return (rec);
}

/* result: success (passed on to the server), denied, or error. */
static void
record_outcome(json_t *rec, const char *result, const char *key,
    const char *detail)
{
	int	 res;

	if (strcmp(result, "success") == 0)
		res = STATUS_RES_SUCCESS;
	else if (strcmp(result, "denied") == 0)
		res = STATUS_RES_DENIED;
	else
		res = STATUS_RES_ERROR;
	mcpd->stats.requests[status_method(json_string_value(
	    json_object_get(rec, "method")))][res]++;
	json_object_set_new(rec, "success", json_boolean(strcmp(result,
	    "success") == 0));
	json_object_set_new(rec, "result", json_string(result));
	if (detail != NULL)
		json_object_set_new(rec, key, json_string(detail));
}

/* Answer r with an error, and record it. */
static void
mcp_answer_error(struct mconn *c, struct rpc *r, int code, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*rec;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->session->errors++;
	rec = request_record(c, r);
	record_outcome(rec, "error", "error", msg);
	audit_send(rec, NULL);
	session_send(c, rpc_error(r->id, code, msg));
}

/* Answer r with a result, and record it as passed; takes result. */
static void
mcp_answer(struct mconn *c, struct rpc *r, json_t *result)
{
	json_t	*rec;

	rec = request_record(c, r);
	record_outcome(rec, "success", NULL, NULL);
	audit_send(rec, NULL);
	session_send(c, rpc_result(r->id, result));
}

/* Hold r until auditd has its record. */
static void
hold(struct mconn *c, struct rpc *r, enum session_hold what, json_t *rec)
{
	struct session	*s = c->session;

	s->hold = what;
	s->held = json_incref(r->msg);
	audit_send(rec, c);
}

static const struct tool *
tool_find(const struct app *app, const char *name)
{
	size_t	 i;

	for (i = 0; i < app->ntools; i++)
		if (strcmp(app->tools[i].name, name) == 0)
			return (&app->tools[i]);
	return (NULL);
}

/* A digest of the tools the caller may use now, to notice a change. */
void
mcp_tools_digest(struct mconn *c, char digest[SHA256_HEX_LEN + 1])
{
	const struct user	*u = session_user(c);
	const struct app	*app = c->session->app;
	struct decision		 d;
	struct buf		 b;
	size_t			 i;

	buf_init(&b, 0);
	if (relay_is_stdio(app))
		relay_tools_digest(c, &b);
	for (i = 0; i < app->ntools; i++)
		if (policy_tool(u, app, app->tools[i].name, &d))
			buf_printf(&b, "%s\n", app->tools[i].name);
	sha256_hex(b.data != NULL ? b.data : "", b.len, digest);
	buf_free(&b);
}

static json_t *
initialize_result(struct session *s)
{
	json_t	*res, *info;

	info = json_pack("{s:s,s:s}", "name", s->app->name, "version",
	    MCPGATE_VERSION);
	if (mcp_has_structured(s))
		json_object_set_new(info, "title", json_string("mcpgate demo"));
	res = json_pack("{s:s,s:{s:{s:b}},s:o}", "protocolVersion",
	    s->protocol, "capabilities", "tools", "listChanged", 1,
	    "serverInfo", info);
	if (has_annotations(s))
		json_object_set_new(res, "instructions", json_string(
		    "This server runs inside the mcpgate gateway. Its tools "
		    "tell you who you are, what this session is, and which "
		    "MCP servers and tools your roles allow."));
	return (res);
}

static void
mcp_initialize(struct mconn *c, struct rpc *r)
{
	struct session	*s = c->session;
	json_t		*info, *caps, *rec;
	const char	*want, *name, *version;
	size_t		 i;

	if (s->initialized || s->backend != NULL) {
		mcp_answer_error(c, r, RPC_INVALID_REQUEST, "Invalid Request: "
		    "the session is already initialized");
		return;
	}
	want = json_string_value(json_object_get(r->params, "protocolVersion"));
	info = json_object_get(r->params, "clientInfo");
	name = json_string_value(json_object_get(info, "name"));
	version = json_string_value(json_object_get(info, "version"));
	caps = json_object_get(r->params, "capabilities");
	if (want == NULL || name == NULL || (caps != NULL &&
	    !json_is_object(caps))) {
		mcp_answer_error(c, r, RPC_INVALID_PARAMS, "Invalid params: "
		    "initialize needs protocolVersion, capabilities and "
		    "clientInfo with a name");
		return;
	}
	strlcpy(s->protocol, versions[0], sizeof(s->protocol));
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(want, versions[i]) == 0)
			strlcpy(s->protocol, versions[i], sizeof(s->protocol));
	if (json_object_get(caps, "roots") != NULL)
		s->caps |= CAP_ROOTS;
	if (json_object_get(caps, "sampling") != NULL)
		s->caps |= CAP_SAMPLING;
	if (json_object_get(caps, "elicitation") != NULL)
		s->caps |= CAP_ELICITATION;
	utf8_copy(s->client_name, sizeof(s->client_name), name);
	utf8_copy(s->client_version, sizeof(s->client_version),
	    version != NULL ? version : "");

	rec = audit_session_fields(c, "mcp.session.start");
	json_object_set_new(rec, "success", json_true());
	json_object_set_new(rec, "client", json_pack("{s:s,s:s}", "name",
	    s->client_name, "version", s->client_version));
	json_object_set_new(rec, "protocol_version", json_string(s->protocol));
	audit_string(rec, "requested_version", want);
	/* Recorded as the session's start, not as a request. */
	mcpd->stats.requests[STATUS_M_INITIALIZE][STATUS_RES_SUCCESS]++;
	hold(c, r, HOLD_INITIALIZE, rec);
}

static void
mcp_ping(struct mconn *c, struct rpc *r)
{
	mcp_answer(c, r, json_object());
}

static json_t *
tool_json(const struct session *s, const struct tool *t)
{
	json_error_t	 jerr;
	json_t		*o, *schema;

	o = json_pack("{s:s,s:s,s:{s:s,s:{},s:b}}", "name", t->name,
	    "description", t->description, "inputSchema", "type", "object",
	    "properties", "additionalProperties", 0);
	if (has_annotations(s))
		json_object_set_new(o, "annotations", json_pack("{s:s,s:b,"
		    "s:b,s:b}", "title", t->title, "readOnlyHint", 1,
		    "destructiveHint", 0, "openWorldHint", 0));
	if (mcp_has_structured(s)) {
		if ((schema = json_loads(t->output_schema, 0, &jerr)) == NULL)
			fatalx("%s: output schema of %s: %s", __func__,
			    t->name, jerr.text);
		json_object_set_new(o, "title", json_string(t->title));
		json_object_set_new(o, "outputSchema", schema);
	}
	return (o);
}

static void
mcp_tools_list(struct mconn *c, struct rpc *r)
{
	struct session		*s = c->session;
	const struct user	*u = session_user(c);
	struct decision		 d;
	json_t			*tools;
	size_t			 i;

	if (json_object_get(r->params, "cursor") != NULL) {
		mcp_answer_error(c, r, RPC_INVALID_PARAMS, "Invalid params: "
		    "unknown cursor");
		return;
	}
	tools = json_array();
	for (i = 0; i < s->app->ntools; i++)
		if (policy_tool(u, s->app, s->app->tools[i].name, &d))
			json_array_append_new(tools, tool_json(s,
			    &s->app->tools[i]));
	mcp_tools_digest(c, s->tools_seen);
	mcp_answer(c, r, json_pack("{s:o}", "tools", tools));
}

static void
mcp_tools_call(struct mconn *c, struct rpc *r)
{
	struct session		*s = c->session;
	const struct user	*u = session_user(c);
	const struct tool	*tool;
	struct decision		 d;
	json_t			*name, *args, *rec;
	const char		*tname;
	int			 n;

	name = json_object_get(r->params, "name");
	args = json_object_get(r->params, "arguments");
	if (!json_is_string(name) || (args != NULL && !json_is_object(args))) {
		mcp_answer_error(c, r, RPC_INVALID_PARAMS, "Invalid params: "
		    "tools/call needs \"name\" as a string, and "
		    "\"arguments\", when given, as an object");
		return;
	}
	tname = json_string_value(name);
	n = (int)utf8_cut(tname, strlen(tname), 128);
	rec = request_record(c, r);
	audit_string(rec, "tool", tname);
	if (!policy_tool(u, s->app, tname, &d)) {
		s->denied++;
		mcpd->stats.tool_denials++;
		record_outcome(rec, "denied", "rule", d.rule);
		snprintf(s->held_reason, sizeof(s->held_reason), "mcpgate: "
		    "the roles of %s do not allow the tool '%.*s' on %s: %s",
		    u->name, n, tname, s->app->name, d.rule);
		hold(c, r, HOLD_DENIED, rec);
		return;
	}
	if (relay_is_stdio(s->app)) {
		/* The server knows its tools and their arguments. */
		record_outcome(rec, "success", "rule", d.rule);
		s->held_tool = NULL;
		hold(c, r, HOLD_CALL, rec);
		return;
	}
	if ((tool = tool_find(s->app, tname)) == NULL ||
	    (args != NULL && json_object_size(args) > 0)) {
		json_decref(rec);
		if (tool == NULL)
			mcp_answer_error(c, r, RPC_INVALID_PARAMS,
			    "Unknown tool: '%.*s' (tools/list shows the tools "
			    "there are)", n, tname);
		else
			mcp_answer_error(c, r, RPC_INVALID_PARAMS,
			    "Invalid params: the tool '%s' takes no arguments",
			    tool->name);
		return;
	}
	record_outcome(rec, "success", "rule", d.rule);
	s->held_tool = tool;
	hold(c, r, HOLD_CALL, rec);
}

/* What a tool returns: its text, its JSON, and its structured result. */
static json_t *
tool_result(struct mconn *c, const struct tool *tool)
{
	struct buf	 text;
	json_t		*sc, *res;
	char		*js;

	buf_init(&text, 0);
	sc = tool->run(c, &text);
	if (sc == NULL || text.failed || (js = json_dumps(sc,
	    JSON_COMPACT)) == NULL)
		fatalx("%s: the tool %s failed", __func__, tool->name);
	res = json_pack("{s:[{s:s,s:s},{s:s,s:s}],s:b}", "content", "type",
	    "text", "text", text.data, "type", "text", "text", js,
	    "isError", 0);
	free(js);
	buf_free(&text);
	if (mcp_has_structured(c->session))
		json_object_set_new(res, "structuredContent", sc);
	else
		json_decref(sc);
	return (res);
}

static void
mcp_empty_list(struct mconn *c, struct rpc *r)
{
	const char	*key;

	if (strcmp(r->method, "resources/list") == 0)
		key = "resources";
	else if (strcmp(r->method, "resources/templates/list") == 0)
		key = "resourceTemplates";
	else
		key = "prompts";
	mcp_answer(c, r, json_pack("{s:[]}", key));
}

static const struct {
	const char	*name;
	int		 before_init;
	void		(*fn)(struct mconn *, struct rpc *);
} methods[] = {
	{ "initialize",			1, mcp_initialize },
	{ "ping",			1, mcp_ping },
	{ "tools/list",			0, mcp_tools_list },
	{ "tools/call",			0, mcp_tools_call },
	/* Clients ask for these unannounced; nothing to offer. */
	{ "resources/list",		0, mcp_empty_list },
	{ "resources/templates/list",	0, mcp_empty_list },
	{ "prompts/list",		0, mcp_empty_list },
};

static void
mcp_request(struct mconn *c, struct rpc *r)
{
	size_t	 i;
	int	 n = (int)utf8_cut(r->method, strlen(r->method), 64);

	c->session->requests++;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, r->method) == 0)
			break;
	if (i == sizeof(methods) / sizeof(methods[0])) {
		mcp_answer_error(c, r, RPC_METHOD_NOT_FOUND,
		    "Method not found: %.*s", n, r->method);
		return;
	}
	if (!methods[i].before_init && !c->session->initialized) {
		mcp_answer_error(c, r, RPC_INVALID_REQUEST,
		    "Invalid Request: %s before initialize; a session starts "
		    "with initialize", methods[i].name);
		return;
	}
	methods[i].fn(c, r);
}

/* The client requests a stdio server may answer; others get -32601. */
static const char *const relayed[] = {
	"ping", "tools/list", "resources/list", "resources/templates/list",
	"resources/read", "resources/subscribe", "resources/unsubscribe",
	"prompts/list", "prompts/get", "completion/complete",
	"logging/setLevel", "tasks/get", "tasks/result", "tasks/cancel",
	"tasks/list",
};

static int
server_running(const struct session *s)
{
	return (s->backend != NULL && s->backend->state == BE_RUNNING);
}

/* A request in a session with a stdio server. */
static void
mcp_relay_request(struct mconn *c, struct rpc *r, const char *line,
    size_t len)
{
	struct session	*s = c->session;
	json_t		*rec;
	size_t		 i;
	int		 n = (int)utf8_cut(r->method, strlen(r->method), 64);

	s->requests++;
	if (strcmp(r->method, "initialize") == 0) {
		mcp_initialize(c, r);
		return;
	}
	for (i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++)
		if (strcmp(relayed[i], r->method) == 0)
			break;
	if (i == sizeof(relayed) / sizeof(relayed[0]) &&
	    strcmp(r->method, "tools/call") != 0) {
		mcp_answer_error(c, r, RPC_METHOD_NOT_FOUND,
		    "Method not found: %.*s", n, r->method);
		return;
	}
	if (!server_running(s)) {
		if (strcmp(r->method, "ping") == 0)
			mcp_ping(c, r);
		else
			mcp_answer_error(c, r, RPC_INVALID_REQUEST,
			    "Invalid Request: %.*s before initialize; a "
			    "session starts with initialize", n, r->method);
		return;
	}
	if (strcmp(r->method, "tools/call") == 0) {
		mcp_tools_call(c, r);
		return;
	}
	rec = request_record(c, r);
	record_outcome(rec, "success", NULL, NULL);
	audit_send(rec, NULL);
	relay_client(c, r, line, len);
}

/* Notifications are recorded; the demo server needs none of them. */
static void
mcp_notification(struct mconn *c, struct rpc *r)
{
	json_t	*rec, *params;

	c->session->notifications++;
	rec = audit_session_fields(c, "mcp.session.notification");
	audit_string(rec, "method", r->method);
	params = audit_params(r->params);
	json_object_update(rec, params);
	json_decref(params);
	audit_send(rec, NULL);
}

/* One message from the client, UTF-8 already checked. */
void
mcp_message(struct mconn *c, char *line, size_t len)
{
	struct rpc	 r;

	session_activity(c);
	rpc_parse(line, len, mcpd->conf.max_json_values, &r);
	if (r.too_many_values)
		mcpd->stats.too_many_values++;
	switch (r.kind) {
	case RPC_EMPTY:
		break;
	case RPC_INVALID:
		c->session->requests++;
		mcp_answer_error(c, &r, r.error_code, "%s", r.error);
		break;
	case RPC_RESPONSE:
		/* To a request of the server's, when there is one. */
		if (server_running(c->session))
			relay_client(c, &r, line, len);
		else
			log_debug("session %s: a response to no request",
			    c->session->id);
		break;
	case RPC_NOTIFICATION:
		mcp_notification(c, &r);
		if (server_running(c->session))
			relay_client(c, &r, line, len);
		break;
	case RPC_REQUEST:
		if (relay_is_stdio(c->session->app))
			mcp_relay_request(c, &r, line, len);
		else
			mcp_request(c, &r);
		break;
	}
	rpc_free(&r);
}

/* auditd answered for the held request: answer it, or refuse it. */
void
mcp_release(struct mconn *c, int ok)
{
	struct session	*s = c->session;
	enum session_hold what = s->hold;
	json_t		*held = s->held, *id;
	int		 refuse;

	refuse = !ok && mcpd->conf.audit_on_failure == AUDIT_FAIL_DENY;
	s->hold = HOLD_NONE;
	s->held = NULL;
	id = json_object_get(held, "id");
	switch (what) {
	case HOLD_INITIALIZE:
		if (refuse) {
			session_send(c, rpc_error(id, RPC_GATEWAY_ERROR,
			    "mcpgate: " AUDIT_DOWN_SESSION));
			session_end(c, "audit_unavailable", AUDIT_DOWN_SESSION);
			break;
		}
		if (relay_is_stdio(s->app)) {
			relay_start(c, held);
			break;
		}
		s->initialized = 1;
		session_arm_activity(c);
		mcp_tools_digest(c, s->tools_seen);
		session_send(c, rpc_result(id, initialize_result(s)));
		break;
	case HOLD_CALL:
		if (refuse) {
			s->errors++;
			session_send(c, rpc_error(id, RPC_GATEWAY_ERROR,
			    "mcpgate: " AUDIT_DOWN_CALL));
			break;
		}
		if (s->held_tool == NULL) {
			relay_forward(c, held);
			break;
		}
		session_send(c, rpc_result(id, tool_result(c, s->held_tool)));
		break;
	case HOLD_DENIED:
		session_send(c, rpc_error(id, RPC_INVALID_PARAMS,
		    s->held_reason));
		break;
	case HOLD_NONE:
	case HOLD_SERVER:
		fatalx("%s: nothing held", __func__);
	}
	json_decref(held);
}
