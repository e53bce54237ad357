/*
 * The demo MCP server, mcpgate-demo: four tools without arguments that
 * tell the caller who they are, what their session is, what to try next
 * and what their roles allow.  It runs inside mcpd behind the same
 * policy and audit path as any server; it reads only the session and the
 * snapshot, never anything a client could steer.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "mcpd.h"

#define STRS	"{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"

static const char user_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"user\":{\"type\":\"string\"},"
    "\"gateway\":{\"type\":\"string\"},"
    "\"roles\":" STRS ","
    "\"traits\":{\"type\":\"object\",\"additionalProperties\":" STRS "},"
    "\"traits_omitted_bytes\":{\"type\":\"integer\"},"
    "\"certificate\":{\"type\":\"object\",\"properties\":{"
    "\"serial\":{\"type\":\"string\"},"
    "\"expires\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"expires_in_seconds\":{\"type\":\"integer\"}},"
    "\"required\":[\"serial\",\"expires\",\"expires_in_seconds\"],"
    "\"additionalProperties\":false}},"
    "\"required\":[\"user\",\"gateway\",\"roles\",\"traits\","
    "\"certificate\"],\"additionalProperties\":false}";

static const char session_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"session_id\":{\"type\":\"string\"},"
    "\"server\":{\"type\":\"string\"},"
    "\"gateway\":{\"type\":\"string\"},"
    "\"gateway_version\":{\"type\":\"string\"},"
    "\"transport\":{\"type\":\"string\"},"
    "\"protocol_version\":{\"type\":\"string\"},"
    "\"client\":{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"version\":{\"type\":\"string\"}},"
    "\"required\":[\"name\",\"version\"],\"additionalProperties\":false},"
    "\"remote_addr\":{\"type\":\"string\"},"
    "\"started\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"requests\":{\"type\":\"integer\"}},"
    "\"required\":[\"session_id\",\"server\",\"gateway\","
    "\"gateway_version\",\"transport\",\"protocol_version\",\"client\","
    "\"remote_addr\",\"started\",\"requests\"],"
    "\"additionalProperties\":false}";

static const char demo_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"server\":{\"type\":\"string\"},"
    "\"gateway\":{\"type\":\"string\"},"
    "\"about\":{\"type\":\"string\"},"
    "\"next_steps\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"properties\":{\"command\":{\"type\":\"string\"},"
    "\"purpose\":{\"type\":\"string\"},"
    "\"who\":{\"type\":\"string\",\"enum\":[\"you\",\"administrator\"]}},"
    "\"required\":[\"command\",\"purpose\",\"who\"],"
    "\"additionalProperties\":false}}},"
    "\"required\":[\"server\",\"gateway\",\"about\",\"next_steps\"],"
    "\"additionalProperties\":false}";

static const char access_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"user\":{\"type\":\"string\"},"
    "\"roles\":" STRS ","
    "\"servers\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"description\":{\"type\":\"string\"},"
    "\"labels\":{\"type\":\"object\","
    "\"additionalProperties\":{\"type\":\"string\"}},"
    "\"rule\":{\"type\":\"string\"},"
    "\"tools\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"allowed\":{\"type\":\"boolean\"},\"rule\":{\"type\":\"string\"}},"
    "\"required\":[\"name\",\"allowed\",\"rule\"],"
    "\"additionalProperties\":false}}},"
    "\"required\":[\"name\",\"description\",\"labels\",\"rule\",\"tools\"],"
    "\"additionalProperties\":false}}},"
    "\"required\":[\"user\",\"roles\",\"servers\"],"
    "\"additionalProperties\":false}";

static void
strlist_text(struct buf *b, const struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		buf_printf(b, "%s%s", i > 0 ? ", " : "", l->v[i]);
	if (l->n == 0)
		buf_puts(b, "(none)");
}

static json_t *
user_info(struct mconn *c, struct buf *text)
{
	const struct user	*u = session_user(c);
	json_t			*o;
	int64_t			 left;
	char			 exp[TIME_RFC3339_LEN], in[32];
	size_t			 i;

	fmt_time_us(c->peer.cert_not_after * 1000000, exp, sizeof(exp));
	left = c->peer.cert_not_after - time(NULL);
	fmt_duration(left > 0 ? (uint64_t)left : 0, in, sizeof(in));
	buf_printf(text, "You are %s on the gateway %s.\nRoles: ", u->name,
	    mcpd->conf.name);
	strlist_text(text, &u->roles);
	buf_puts(text, "\nTraits:");
	if (identity_traits_size(u) > RES_ADMIN_USER_BYTES)
		buf_printf(text, " (%zu bytes of them, too many to show)",
		    identity_traits_size(u));
	else
		for (i = 0; i < u->ntraits; i++) {
			buf_printf(text, "%s %s=", i > 0 ? ";" : "",
			    u->traits[i].key);
			strlist_text(text, &u->traits[i].values);
		}
	if (u->ntraits == 0)
		buf_puts(text, " (none)");
	buf_printf(text, "\nCertificate: serial %s, valid until %s (%s "
	    "left).\n", c->peer.cert_serial, exp, in);
	o = json_pack("{s:s,s:s,s:o,s:{s:s,s:s,s:I}}", "user", u->name,
	    "gateway", mcpd->conf.name, "roles", strlist_json(&u->roles),
	    "certificate", "serial", c->peer.cert_serial, "expires", exp,
	    "expires_in_seconds", (json_int_t)(left > 0 ? left : 0));
	identity_traits_set(o, u);
	return (o);
}

#define TRANSPORT	"stdio (mcpgate mcp connect), relayed over mutual " \
			"TLS 1.3 (" WIRE_ALPN ")"

static json_t *
session_info(struct mconn *c, struct buf *text)
{
	struct session	*s = c->session;
	char		 started[TIME_RFC3339_LEN];

	fmt_time_us(s->started, started, sizeof(started));
	buf_printf(text, "Session %s with the MCP server %s through the "
	    "gateway %s (mcpgate %s).\nTransport: %s.\nProtocol version: "
	    "%s.\nYour client: %s %s, from %s.\nStarted %s; %llu requests "
	    "so far.\n", s->id, s->app->name, mcpd->conf.name,
	    MCPGATE_VERSION, TRANSPORT, s->protocol, s->client_name,
	    s->client_version, c->peer.remote, started,
	    (unsigned long long)s->requests);
	return (json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s,"
	    "s:I}", "session_id", s->id, "server", s->app->name, "gateway",
	    mcpd->conf.name, "gateway_version", MCPGATE_VERSION, "transport",
	    TRANSPORT, "protocol_version", s->protocol, "client", "name",
	    s->client_name, "version", s->client_version, "remote_addr",
	    c->peer.remote, "started", started, "requests",
	    (json_int_t)s->requests));
}

static const struct {
	const char	*command;
	const char	*purpose;
	const char	*who;
} next_steps[] = {
	{ "mcpgate mcp ls -v", "list the MCP servers your roles let you "
	    "see, with the tools they allow and deny", "you" },
	{ "mcpgate mcp config --all --client-config claude", "add every "
	    "server you may use to Claude Desktop (or cursor, vscode, "
	    "claude-code)", "you" },
	{ "mcpgate status", "see your certificate and when it expires",
	    "you" },
	{ "mcpgatectl audit tail", "see this session's requests in the "
	    "audit log, each one hash-chained to the one before",
	    "administrator" },
	{ "mcpgatectl audit verify", "check that no audit record was "
	    "changed, removed or reordered", "administrator" },
	{ "mcpgatectl create role.yaml", "write a role that allows or "
	    "denies tools by name, glob or regular expression (see "
	    "mcpgate-roles(5))", "administrator" },
};

static json_t *
demo_info(struct mconn *c, struct buf *text)
{
	json_t		*steps = json_array();
	const char	*about;
	size_t		 i;

	(void)c;
	about = "mcpgate-demo is the MCP server built into the mcpgate "
	    "gateway. It proves the whole path: your MCP client speaks to "
	    "'mcpgate mcp connect', which relays over mutual TLS to the "
	    "gateway; the gateway shows you only the tools your roles "
	    "allow, refuses the others, and writes every request to a "
	    "tamper-evident audit log before it runs.";
	buf_printf(text, "%s\n\nTry next:\n", about);
	for (i = 0; i < sizeof(next_steps) / sizeof(next_steps[0]); i++) {
		json_array_append_new(steps, json_pack("{s:s,s:s,s:s}",
		    "command", next_steps[i].command, "purpose",
		    next_steps[i].purpose, "who", next_steps[i].who));
		buf_printf(text, "  %s%s\n      %s\n", next_steps[i].command,
		    strcmp(next_steps[i].who, "you") == 0 ? "" :
		    "   (administrator)", next_steps[i].purpose);
	}
	return (json_pack("{s:s,s:s,s:s,s:o}", "server", demo_app.name,
	    "gateway", mcpd->conf.name, "about", about, "next_steps", steps));
}

/* One server as the caller's roles decide it, rule by rule. */
static json_t *
access_server(const struct user *u, const struct app *app,
    const struct decision *ad, struct buf *text)
{
	struct decision	 d;
	json_t		*labels = json_object(), *tools = json_array();
	size_t		 i;

	for (i = 0; i < app->nlabels; i++)
		json_object_set_new(labels, app->labels[i].key,
		    json_string(app->labels[i].value));
	buf_printf(text, "Server %s: %s.\n", app->name, ad->rule);
	for (i = 0; i < app->ntools; i++) {
		policy_tool(u, app, app->tools[i].name, &d);
		json_array_append_new(tools, json_pack("{s:s,s:b,s:s}",
		    "name", app->tools[i].name, "allowed", d.allowed, "rule",
		    d.rule));
		buf_printf(text, "  %s %s: %s\n", d.allowed ? "allowed" :
		    "denied ", app->tools[i].name, d.rule);
	}
	return (json_pack("{s:s,s:s,s:o,s:s,s:o}", "name", app->name,
	    "description", app->description, "labels", labels, "rule",
	    ad->rule, "tools", tools));
}

static json_t *
access_info(struct mconn *c, struct buf *text)
{
	const struct user	*u = session_user(c);
	const struct app	*app;
	struct decision		 d;
	json_t			*servers = json_array();
	size_t			 i;

	buf_printf(text, "What the roles of %s (", u->name);
	strlist_text(text, &u->roles);
	buf_puts(text, ") allow on this gateway:\n");
	for (i = 0; i < apps_count(); i++) {
		if ((app = apps_get(i)) == NULL || !policy_app(u, app, &d))
			continue;
		json_array_append_new(servers, access_server(u, app, &d,
		    text));
	}
	return (json_pack("{s:s,s:o,s:o}", "user", u->name, "roles",
	    strlist_json(&u->roles), "servers", servers));
}

static const struct tool demo_tools[] = {
	{ "mcpgate_user_info", "Who am I",
	    "Shows your mcpgate user, roles, traits and when your "
	    "certificate expires.", user_schema, user_info },
	{ "mcpgate_session_info", "This session",
	    "Shows this MCP session: its id, the server and gateway, the "
	    "transport, the negotiated protocol version and your client's "
	    "name and version.", session_schema, session_info },
	{ "mcpgate_demo_info", "About the demo",
	    "Explains what the mcpgate demo server shows and the commands "
	    "to try next.", demo_schema, demo_info },
	{ "mcpgate_access_info", "What may I use",
	    "Shows the MCP servers and tools your roles allow and deny, and "
	    "which role rule decides each.", access_schema, access_info },
};

static const struct app_label demo_labels[] = {
	{ "env", "demo" },
};

const struct app demo_app = {
	.name = RES_APP_DEMO,
	.description = "A demo MCP server that shows current user and "
	    "session information",
	.type = "builtin",
	.labels = demo_labels,
	.nlabels = sizeof(demo_labels) / sizeof(demo_labels[0]),
	.tools = demo_tools,
	.ntools = sizeof(demo_tools) / sizeof(demo_tools[0]),
};
