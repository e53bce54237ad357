/*
 * Unit tests of mcpd's JSON-RPC parser (jsonrpc.c) and access decision
 * (policy.c): what kind each line is and which error a bad one gets,
 * and how roles, patterns, traits and labels decide.
 */
#include <sys/types.h>

#include <string.h>

#include <jansson.h>

#include "../../mcpd/mcpd.h"
#include "log.h"
#include "pattern.h"
#include "unit.h"

static struct mcpd	 state;

#define PARSE(s, r)	rpc_parse((s), strlen(s), 100000, (r))

/* --- jsonrpc.c ------------------------------------------------------------ */

static int
kind_of(const char *line, int *code)
{
	struct rpc	 r;
	int		 kind;

	rpc_parse(line, strlen(line), 100000, &r);
	kind = r.kind;
	*code = r.error_code;
	rpc_free(&r);
	return (kind);
}

static void
test_rpc_kinds(void)
{
	struct rpc	 r;
	int		 code;

	PARSE("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}", &r);
	T_ASSERT(r.kind == RPC_REQUEST);
	T_ASSERT(strcmp(r.method, "ping") == 0);
	T_ASSERT(json_is_integer(r.id) && json_integer_value(r.id) == 0);
	T_ASSERT(r.params == NULL);
	rpc_free(&r);
	T_ASSERT(kind_of("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\","
	    "\"params\":{}}", &code) == RPC_REQUEST);
	T_ASSERT(kind_of("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
	    "initialized\"}", &code) == RPC_NOTIFICATION);
	T_ASSERT(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
	    &code) == RPC_RESPONSE);
	T_ASSERT(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,"
	    "\"message\":\"m\"}}", &code) == RPC_RESPONSE);
	T_ASSERT(kind_of("", &code) == RPC_EMPTY);
	T_ASSERT(kind_of(" \t\r", &code) == RPC_EMPTY);
}

static void
test_rpc_errors(void)
{
	static const struct {
		const char	*line;
		int		 code;
	} bad[] = {
		{ "not json", RPC_PARSE_ERROR },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"method\":"
		    "\"b\"}", RPC_PARSE_ERROR },
		{ "\"a string\"", RPC_PARSE_ERROR },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		    RPC_INVALID_REQUEST },
		{ "{\"id\":1,\"method\":\"ping\"}", RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
		    RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
		    RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
		    RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
		    RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
		    RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}",
		    RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":"
		    "[1]}", RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"result\":"
		    "{}}", RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}",
		    RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"result\":{}}", RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\"}", RPC_INVALID_REQUEST },
	};
	struct rpc	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rpc_parse(bad[i].line, strlen(bad[i].line), 100000, &r);
		T_ASSERTF(r.kind == RPC_INVALID && r.error_code == bad[i].code &&
		    r.error[0] != '\0', "%s: kind %d code %d", bad[i].line,
		    r.kind, r.error_code);
		rpc_free(&r);
	}
	/* The id is answered when it could be read, null otherwise. */
	PARSE("{\"id\":\"x\",\"method\":\"ping\"}", &r);
	T_ASSERT(json_is_string(r.id));
	rpc_free(&r);
	PARSE("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", &r);
	T_ASSERT(r.id == NULL);
	rpc_free(&r);
}

static void
test_rpc_nesting(void)
{
	struct rpc	 r;
	char		*deep;
	size_t		 n = 100000;

	deep = malloc(n);
	T_ASSERT(deep != NULL);
	memset(deep, '[', n);
	rpc_parse(deep, n, SIZE_MAX, &r);
	free(deep);
	T_ASSERT(r.kind == RPC_INVALID && r.error_code == RPC_PARSE_ERROR);
	rpc_free(&r);
}

/* The count that comes before any parsing, and the refusal it leads to. */
static void
test_rpc_values(void)
{
	static const struct {
		const char	*json;
		size_t		 n;
	} counts[] = {
		{ "{}", 1 },
		{ "[]", 1 },
		{ "{\"a\":1,\"b\":[true,null,\"x\"]}", 8 },
		{ "{\"a\":\"[\\\"]{,:\"}", 3 },
		{ "[-1, 2.5e10 ,\t0]", 4 },
		{ "\"\\\\\"", 1 },
	};
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\",\"params\":{\"a\":[";
	struct rpc	 r;
	char		*big;
	size_t		 i, n = 1300000, len;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		T_ASSERTF(json_count_values(counts[i].json,
		    strlen(counts[i].json), 100) == counts[i].n, "%s: %zu",
		    counts[i].json, json_count_values(counts[i].json,
		    strlen(counts[i].json), 100));
	/* Counting stops past the limit. */
	T_ASSERT(json_count_values("[1,2,3,4,5,6]", 13, 3) == 4);

	/* 1.3 million empty arrays: refused before a tree is built. */
	len = sizeof(head) - 1 + n * 3 + 3;
	big = malloc(len);
	T_ASSERT(big != NULL);
	memcpy(big, head, sizeof(head) - 1);
	for (i = 0; i < n; i++)
		memcpy(big + sizeof(head) - 1 + i * 3, "[],", 3);
	memcpy(big + len - 4, "]}}", 3);
	len--;
	rpc_parse(big, len, 100000, &r);
	T_ASSERTF(r.kind == RPC_INVALID && r.error_code ==
	    RPC_INVALID_REQUEST && r.too_many_values && r.msg == NULL &&
	    strstr(r.error, "max_json_values") != NULL, "%d %d %s", r.kind,
	    r.error_code, r.error);
	/* Its id is found all the same, and answered. */
	T_ASSERT(json_is_integer(r.id) && json_integer_value(r.id) == 1);
	rpc_free(&r);
	/* A string id, escaped quotes and all, after a nested "id". */
	big[0] = '\0';
	strlcpy(big, "{\"params\":{\"id\":5,\"a\":[[],[],[],[]]},\"id\" : "
	    "\"a\\\"b\",\"method\":\"x\"}", len);
	rpc_parse(big, strlen(big), 3, &r);
	T_ASSERTF(r.too_many_values && json_is_string(r.id) &&
	    strcmp(json_string_value(r.id), "a\"b") == 0, "%s",
	    r.id != NULL ? "wrong id" : "no id");
	rpc_free(&r);
	/* Neither an object nor an integer id: answered with null. */
	strlcpy(big, "{\"id\":{\"x\":[1,2,3]},\"method\":\"x\"}", len);
	rpc_parse(big, strlen(big), 3, &r);
	T_ASSERT(r.too_many_values && r.id == NULL);
	rpc_free(&r);
	/* Restore the big message. */
	memcpy(big, head, sizeof(head) - 1);
	for (i = 0; i < n; i++)
		memcpy(big + sizeof(head) - 1 + i * 3, "[],", 3);
	memcpy(big + len + 1 - 4, "]}}", 3);
	/* Under a higher limit the same message is a request. */
	rpc_parse(big, len, SIZE_MAX, &r);
	T_ASSERTF(r.kind == RPC_REQUEST, "%d %s", r.kind, r.error);
	rpc_free(&r);
	free(big);
}

static void
test_rpc_answers(void)
{
	json_t	*id = json_integer(7), *m;
	char	*s;

	m = rpc_error(NULL, RPC_METHOD_NOT_FOUND, "Method not found: x");
	s = json_dumps(m, JSON_COMPACT);
	T_ASSERTF(strcmp(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":-32601,\"message\":\"Method not found: x\"}}") == 0,
	    "%s", s);
	free(s);
	json_decref(m);
	m = rpc_result(id, json_object());
	s = json_dumps(m, JSON_COMPACT);
	T_ASSERTF(strcmp(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}") ==
	    0, "%s", s);
	free(s);
	json_decref(m);
	json_decref(id);
}

/* --- policy.c ------------------------------------------------------------- */

static const char roles_yaml[] =
    "kind: role\nversion: v1\nmetadata: {name: all}\nspec:\n"
    "  allow:\n    app_labels: {'*': '*'}\n    mcp: {tools: ['*']}\n"
    "---\n"
    "kind: role\nversion: v1\nmetadata: {name: glob}\nspec:\n"
    "  allow:\n    app_labels: {env: demo}\n"
    "    mcp: {tools: ['read_*', 'list?']}\n"
    "---\n"
    "kind: role\nversion: v1\nmetadata: {name: regex}\nspec:\n"
    "  allow:\n    app_labels: {env: '^(demo|dev)$'}\n"
    "    mcp: {tools: ['^get|put$']}\n"
    "---\n"
    "kind: role\nversion: v1\nmetadata: {name: trait}\nspec:\n"
    "  allow:\n    app_labels: {env: '{{internal.envs}}'}\n"
    "    mcp: {tools: ['{{internal.mcp_tools}}']}\n"
    "---\n"
    "kind: role\nversion: v1\nmetadata: {name: nodelete}\nspec:\n"
    "  deny:\n    mcp: {tools: ['delete_*']}\n"
    "---\n"
    "kind: role\nversion: v1\nmetadata: {name: noprod}\nspec:\n"
    "  deny:\n    app_labels: {env: prod}\n"
    "---\n"
    "kind: role\nversion: v1\nmetadata: {name: prod-only}\nspec:\n"
    "  allow:\n    app_labels: {env: prod}\n    mcp: {tools: ['*']}\n"
    "---\n"
    "kind: role\nversion: v1\nmetadata: {name: nothing}\nspec:\n"
    "  allow:\n    mcp: {tools: ['*']}\n"
    "---\n"
    "kind: user\nversion: v1\nmetadata: {name: u-all}\n"
    "spec: {roles: [all]}\n"
    "---\n"
    "kind: user\nversion: v1\nmetadata: {name: u-glob}\n"
    "spec: {roles: [glob]}\n"
    "---\n"
    "kind: user\nversion: v1\nmetadata: {name: u-regex}\n"
    "spec: {roles: [regex]}\n"
    "---\n"
    "kind: user\nversion: v1\nmetadata: {name: u-trait}\n"
    "spec:\n  roles: [trait]\n"
    "  traits: {envs: [dev], mcp_tools: ['search_*', '^fetch$']}\n"
    "---\n"
    "kind: user\nversion: v1\nmetadata: {name: u-deny}\n"
    "spec: {roles: [all, nodelete]}\n"
    "---\n"
    "kind: user\nversion: v1\nmetadata: {name: u-noprod}\n"
    "spec: {roles: [all, noprod]}\n"
    "---\n"
    "kind: user\nversion: v1\nmetadata: {name: u-none}\n"
    "spec: {roles: [nothing, unknown-role]}\n";

static const struct app_label demo_l[] = { { "env", "demo" } };
static const struct app_label dev_l[] = { { "env", "dev" } };
static const struct app_label prod_l[] = { { "env", "prod" } };
#define TEST_APP(n, l, nl) {					\
	.name = (n), .description = "d", .type = "builtin",		\
	.labels = (l), .nlabels = (nl)					\
}
static const struct app demo = TEST_APP("demo", demo_l, 1);
static const struct app dev = TEST_APP("dev", dev_l, 1);
static const struct app prod = TEST_APP("prod", prod_l, 1);
static const struct app bare = TEST_APP("bare", NULL, 0);

static int
tool(const char *user, const struct app *app, const char *name,
    struct decision *d)
{
	return (policy_tool(identity_user(user), app, name, d));
}

static int
sees(const char *user, const struct app *app)
{
	struct decision	 d;

	return (policy_app(identity_user(user), app, &d));
}

static void
test_policy_setup(void)
{
	mcpd = &state;
	RB_INIT(&mcpd->conns);
	identity_snapshot(roles_yaml, sizeof(roles_yaml) - 1);
	identity_snapshot_end();
	T_ASSERT(identity_user("u-all") != NULL);
	T_ASSERT(identity_user("u-none") != NULL);
}

static void
test_policy_apps(void)
{
	T_ASSERT(sees("u-all", &demo) && sees("u-all", &prod) &&
	    sees("u-all", &bare));
	T_ASSERT(sees("u-glob", &demo) && !sees("u-glob", &dev) &&
	    !sees("u-glob", &bare));
	T_ASSERT(sees("u-regex", &demo) && sees("u-regex", &dev) &&
	    !sees("u-regex", &prod));
	T_ASSERT(sees("u-trait", &dev) && !sees("u-trait", &demo));
	/* deny.app_labels in one role hides what another allows. */
	T_ASSERT(sees("u-noprod", &demo) && !sees("u-noprod", &prod));
	/* A role without app_labels gives no server. */
	T_ASSERT(!sees("u-none", &demo) && !sees("u-none", &bare));
}

static void
test_policy_tools(void)
{
	struct decision	 d;

	T_ASSERT(tool("u-all", &demo, "anything", &d));
	T_ASSERTF(strstr(d.rule, "role 'all'") != NULL, "%s", d.rule);
	T_ASSERT(tool("u-glob", &demo, "read_file", &d));
	T_ASSERT(tool("u-glob", &demo, "lists", &d));
	T_ASSERT(!tool("u-glob", &demo, "list", &d));
	T_ASSERT(!tool("u-glob", &demo, "write_file", &d));
	T_ASSERTF(strstr(d.rule, "none of your roles (glob)") != NULL, "%s",
	    d.rule);
	/* A regex is anchored as a whole: ^get|put$ is get or put. */
	T_ASSERT(tool("u-regex", &dev, "get", &d));
	T_ASSERT(tool("u-regex", &dev, "put", &d));
	T_ASSERT(!tool("u-regex", &dev, "getter", &d));
	T_ASSERT(!tool("u-regex", &dev, "output", &d));
	/* Traits expand, each value a pattern in turn. */
	T_ASSERT(tool("u-trait", &dev, "search_docs", &d));
	T_ASSERTF(strstr(d.rule, "mcp_tools trait 'search_*'") != NULL, "%s",
	    d.rule);
	T_ASSERT(tool("u-trait", &dev, "fetch", &d));
	T_ASSERT(!tool("u-trait", &dev, "fetcher", &d));
	T_ASSERT(!tool("u-trait", &demo, "search_docs", &d));
	/* Deny wins over an allow in another role. */
	T_ASSERT(tool("u-deny", &demo, "read_file", &d));
	T_ASSERT(!tool("u-deny", &demo, "delete_file", &d));
	T_ASSERTF(strstr(d.rule, "role 'nodelete' denies it") != NULL, "%s",
	    d.rule);
	/* No server, no tool. */
	T_ASSERT(!tool("u-noprod", &prod, "read_file", &d));
	T_ASSERT(!tool("u-none", &demo, "read_file", &d));
}

static void
test_policy_new_snapshot(void)
{
	static const char changed[] =
	    "kind: role\nversion: v1\nmetadata: {name: glob}\nspec:\n"
	    "  allow:\n    app_labels: {env: demo}\n"
	    "    mcp: {tools: [write_file]}\n"
	    "---\n"
	    "kind: user\nversion: v1\nmetadata: {name: u-glob}\n"
	    "spec: {roles: [glob]}\n";
	struct decision	 d;

	identity_snapshot(changed, sizeof(changed) - 1);
	identity_snapshot_end();
	T_ASSERT(identity_user("u-all") == NULL);
	T_ASSERT(!tool("u-glob", &demo, "read_file", &d));
	T_ASSERT(tool("u-glob", &demo, "write_file", &d));
	identity_snapshot(roles_yaml, sizeof(roles_yaml) - 1);
	identity_snapshot_end();
	T_ASSERT(tool("u-glob", &demo, "read_file", &d));
}

/* The check and mcpd compile a regex the same way: whole, anchored. */
static void
test_pattern_regcomp(void)
{
	regex_t	 re;
	char	 err[256];

	T_ASSERT(pattern_ok("^a|b$", err, sizeof(err)));
	T_ASSERT(pattern_regcomp(&re, "^a|b$") == 0);
	T_ASSERT(regexec(&re, "a", 0, NULL, 0) == 0);
	T_ASSERT(regexec(&re, "b", 0, NULL, 0) == 0);
	T_ASSERT(regexec(&re, "ab", 0, NULL, 0) != 0);
	T_ASSERT(regexec(&re, "xb", 0, NULL, 0) != 0);
	regfree(&re);
	/* Compiles as written, not once wrapped: refused by the check. */
	T_ASSERT(!pattern_ok("^a\\$", err, sizeof(err)));
	T_ASSERTF(strstr(err, "regular expression") != NULL, "%s", err);
	T_ASSERT(!pattern_ok("^(a$", err, sizeof(err)));
	/* ")|(" cannot break out of the group that anchors it. */
	T_ASSERT(!pattern_ok("^a)|(.*$", err, sizeof(err)));
	/* Nor can a lone ")", which regcomp alone takes as a literal. */
	T_ASSERT(!pattern_ok("^: {,300}){,300}$", err, sizeof(err)));
	T_ASSERTF(strstr(err, "closes no group") != NULL, "%s", err);
	T_ASSERT(pattern_regcomp(&re, "^a)$") == REG_EPAREN);
	T_ASSERT(pattern_ok("^a[)]\\)$", err, sizeof(err)));
}

/* deny.mcp.tools refuses everywhere, whatever deny.app_labels says. */
static void
test_policy_deny_scope(void)
{
	static const char yaml[] =
	    "kind: role\nversion: v1\nmetadata: {name: all}\nspec:\n"
	    "  allow:\n    app_labels: {'*': '*'}\n    mcp: {tools: ['*']}\n"
	    "---\n"
	    "kind: role\nversion: v1\nmetadata: {name: scoped}\nspec:\n"
	    "  deny:\n    app_labels: {env: prod}\n"
	    "    mcp: {tools: [drop_table]}\n"
	    "---\n"
	    "kind: user\nversion: v1\nmetadata: {name: u}\n"
	    "spec: {roles: [all, scoped]}\n";
	struct decision	 d;

	identity_snapshot(yaml, sizeof(yaml) - 1);
	identity_snapshot_end();
	T_ASSERT(!sees("u", &prod) && sees("u", &demo));
	T_ASSERT(!tool("u", &demo, "drop_table", &d));
	T_ASSERTF(strstr(d.rule, "role 'scoped' denies it") != NULL, "%s",
	    d.rule);
	T_ASSERT(tool("u", &demo, "select", &d));
	identity_snapshot(roles_yaml, sizeof(roles_yaml) - 1);
	identity_snapshot_end();
}

/*
 * A snapshot comes in parts and applies at its end; its users are found
 * by name among tens of thousands.
 */
static void
test_snapshot_parts(void)
{
	static const char roles[] =
	    "kind: role\nversion: v1\nmetadata: {name: all}\nspec:\n"
	    "  allow:\n    app_labels: {'*': '*'}\n    mcp: {tools: ['*']}\n";
	char	*part, name[32];
	size_t	 len = 0, cap = 4 * 1024 * 1024;
	int	 i, n = 20000;

	T_ASSERT((part = malloc(cap)) != NULL);
	identity_snapshot(roles, sizeof(roles) - 1);
	/* Users in a second part, in no particular order. */
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(part + len, cap - len, "---\nkind: "
		    "user\nversion: v1\nmetadata: {name: user%d}\n"
		    "spec: {roles: [all]}\n", (i * 7919) % n);
	identity_snapshot(part, len);
	free(part);
	/* Nothing of it applies before its end. */
	T_ASSERT(identity_user("user0") == NULL);
	T_ASSERT(identity_user("u-all") != NULL);
	identity_snapshot_end();
	T_ASSERT(identity_user("u-all") == NULL);
	T_ASSERT(mcpd->nusers == (size_t)n);
	for (i = 0; i < n; i += 997) {
		snprintf(name, sizeof(name), "user%d", i);
		T_ASSERTF(identity_user(name) != NULL &&
		    strcmp(identity_user(name)->name, name) == 0, "%s", name);
	}
	T_ASSERT(identity_user("user20000") == NULL);
	T_ASSERT(identity_user("") == NULL);
	T_ASSERT(sees("user19999", &demo));
	/* The snapshot the other tests know, back. */
	identity_snapshot(roles_yaml, sizeof(roles_yaml) - 1);
	identity_snapshot_end();
	T_ASSERT(identity_user("u-all") != NULL);
}

/*
 * The apps of a snapshot: offered as stdio servers; one unchanged keeps
 * its place, one changed is new while sessions keep the old, one gone
 * ends its sessions as app_removed, and app_service off as
 * server_disabled.  Their tools are the roles' patterns.
 */
static const char apps_yaml[] =
    "---\nkind: app\nversion: v1\nmetadata:\n  name: files\n"
    "  labels: {env: demo}\nspec: {uri: mcp+stdio://}\n"
    "---\nkind: app\nversion: v1\nmetadata:\n  name: devbox\n"
    "  description: A box\n  labels: {env: dev, team: x}\n"
    "spec: {uri: mcp+stdio://}\n";

/* a equals want, which is taken. */
static int
json_same(json_t *a, json_t *want)
{
	int	 same = json_equal(a, want);

	json_decref(want);
	return (same);
}

static json_t *
tools_of(const char *user, const struct app *app)
{
	return (apps_tools_json(identity_user(user), app));
}

static void
test_snapshot_apps(void)
{
	const struct app	*files, *devbox, *again;
	json_t			*t;
	char			 msg[256], *yaml;
	size_t			 len;

	mcpd->conf.app_enabled = 1;
	mcpd->conf.mcp_demo_server = 1;
	identity_snapshot(roles_yaml, sizeof(roles_yaml) - 1);
	identity_snapshot(apps_yaml, sizeof(apps_yaml) - 1);
	identity_snapshot_end();
	T_ASSERT((files = apps_find("files")) != NULL && files->stdio);
	T_ASSERT(strcmp(files->type, "stdio") == 0);
	T_ASSERT(strcmp(files->description, "") == 0);
	T_ASSERT((devbox = apps_find("devbox")) != NULL);
	T_ASSERT(devbox->nlabels == 2 &&
	    strcmp(devbox->labels[1].key, "team") == 0 &&
	    strcmp(devbox->labels[1].value, "x") == 0);
	T_ASSERT(apps_find("mcpgate-demo") == &demo_app);
	T_ASSERT(apps_count() == 3);
	/* Who sees them, and their tools as the roles' patterns. */
	T_ASSERT(sees("u-glob", files) && !sees("u-glob", devbox));
	T_ASSERT(sees("u-trait", devbox) && !sees("u-trait", files));
	t = tools_of("u-glob", files);
	T_ASSERT(t != NULL && json_same(json_object_get(t, "allowed"),
	    json_pack("[ss]", "read_*", "list?")) &&
	    json_is_false(json_object_get(t, "all")));
	json_decref(t);
	t = tools_of("u-trait", devbox);
	T_ASSERT(t != NULL && json_same(json_object_get(t, "allowed"),
	    json_pack("[ss]", "search_*", "^fetch$")));
	json_decref(t);
	t = tools_of("u-deny", devbox);
	T_ASSERT(t != NULL && json_same(json_object_get(t, "allowed"),
	    json_pack("[s]", "*")) && json_same(json_object_get(t,
	    "denied"), json_pack("[s]", "delete_*")) &&
	    json_is_false(json_object_get(t, "all")));
	json_decref(t);
	t = tools_of("u-all", devbox);
	T_ASSERT(t != NULL && json_is_true(json_object_get(t, "all")));
	json_decref(t);

	/* The same apps again: the same places. */
	identity_snapshot(roles_yaml, sizeof(roles_yaml) - 1);
	identity_snapshot(apps_yaml, sizeof(apps_yaml) - 1);
	identity_snapshot_end();
	T_ASSERT(apps_find("files") == files && apps_find("devbox") == devbox);
	T_ASSERT(apps_gone(files, msg, sizeof(msg)) == NULL);

	/* devbox changed, files gone. */
	len = strlen(roles_yaml) + 256;
	T_ASSERT((yaml = malloc(len)) != NULL);
	snprintf(yaml, len, "%s---\nkind: app\nversion: v1\nmetadata:\n"
	    "  name: devbox\n  labels: {env: prod}\nspec: {}\n", roles_yaml);
	identity_snapshot(yaml, strlen(yaml));
	free(yaml);
	identity_snapshot_end();
	T_ASSERT((again = apps_find("devbox")) != NULL && again != devbox);
	T_ASSERT(strcmp(again->labels[0].value, "prod") == 0);
	T_ASSERT(apps_find("files") == NULL && apps_count() == 2);
	T_ASSERT(apps_gone(again, msg, sizeof(msg)) == NULL);
	T_ASSERT(apps_gone(&demo_app, msg, sizeof(msg)) == NULL);
	/*
	 * A session opened on the old devbox goes on; one on files ends.
	 * (Both were retired and, held by no session, freed: only their
	 * names are asked here, through apps that still live.)
	 */
	T_ASSERT(apps_gone(again, msg, sizeof(msg)) == NULL);
	{
		struct app	 gone = TEST_APP("files", NULL, 0);

		gone.stdio = 1;
		T_ASSERT(strcmp(apps_gone(&gone, msg, sizeof(msg)),
		    "app_removed") == 0);
		T_ASSERTF(strcmp(msg, "the MCP server files was removed") ==
		    0, "%s", msg);
		mcpd->conf.app_enabled = 0;
		T_ASSERT(apps_find("devbox") == NULL);
		T_ASSERT(strcmp(apps_gone(again, msg, sizeof(msg)),
		    "server_disabled") == 0);
		mcpd->conf.app_enabled = 1;
		mcpd->conf.mcp_demo_server = 0;
		T_ASSERT(strcmp(apps_gone(&demo_app, msg, sizeof(msg)),
		    "server_disabled") == 0);
		mcpd->conf.mcp_demo_server = 1;
	}
	/* The snapshot the other tests know, back. */
	identity_snapshot(roles_yaml, sizeof(roles_yaml) - 1);
	identity_snapshot_end();
	T_ASSERT(apps_count() == 1);
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	log_setlevel(LOG_LVL_ERROR);
	t_suite = "mcp";
	T_RUN(test_rpc_kinds);
	T_RUN(test_rpc_errors);
	T_RUN(test_rpc_nesting);
	T_RUN(test_rpc_values);
	T_RUN(test_rpc_answers);
	T_RUN(test_policy_setup);
	T_RUN(test_policy_apps);
	T_RUN(test_policy_tools);
	T_RUN(test_policy_new_snapshot);
	T_RUN(test_snapshot_parts);
	T_RUN(test_pattern_regcomp);
	T_RUN(test_policy_deny_scope);
	T_RUN(test_snapshot_apps);
	return (t_done());
}
