/*
 * The MCP servers this gateway offers, and the apps request: which of
 * them a user may see, with the tools their roles allow and deny.  The
 * built-in demo, when the configuration enables it, and the apps of the
 * parent's latest snapshot (app_service.apps and kind: app resources),
 * which the parent starts for each session.
 *
 * A session holds the app it was opened on.  When a snapshot changes an
 * app, new sessions get the new one and open sessions keep the one they
 * hold; an app gone from the snapshot ends the sessions on it.  The apps
 * a snapshot replaced are retired, and freed at a later snapshot once no
 * session holds them.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "mcpd.h"

static const struct app *const builtin[] = {
	&demo_app,
};
#define NBUILTIN	(sizeof(builtin) / sizeof(builtin[0]))

/* The snapshot's apps, in its order, and those it replaced. */
static struct app	**snap_apps;
static size_t		  snap_napps;
static TAILQ_HEAD(, app)  retired = TAILQ_HEAD_INITIALIZER(retired);

static int
app_enabled(const struct app *app)
{
	if (!mcpd->conf.app_enabled)
		return (0);
	if (app == &demo_app)
		return (mcpd->conf.mcp_demo_server);
	return (1);
}

size_t
apps_count(void)
{
	return (NBUILTIN + snap_napps);
}

/* The i-th server, or NULL when it is not enabled. */
const struct app *
apps_get(size_t i)
{
	const struct app	*app;

	if (i >= apps_count())
		return (NULL);
	app = i < NBUILTIN ? builtin[i] : snap_apps[i - NBUILTIN];
	return (app_enabled(app) ? app : NULL);
}

const struct app *
apps_find(const char *name)
{
	const struct app	*app;
	size_t			 i;

	for (i = 0; i < apps_count(); i++)
		if ((app = apps_get(i)) != NULL &&
		    strcmp(app->name, name) == 0)
			return (app);
	return (NULL);
}

/*
 * Whether a session on app must end because the app is no longer
 * offered: NULL when it goes on (the app is there, or changed, and the
 * session keeps the one it holds), else the reason, with the sentence
 * for the client in msg.
 */
const char *
apps_gone(const struct app *app, char *msg, size_t len)
{
	if (apps_find(app->name) != NULL)
		return (NULL);
	if (!app_enabled(app)) {
		snprintf(msg, len, "the MCP server %s is no longer offered by "
		    "this gateway", app->name);
		return (END_SERVER_DISABLED);
	}
	snprintf(msg, len, "the MCP server %s was removed", app->name);
	return (END_APP_REMOVED);
}

static void
app_free(struct app *a)
{
	free(a->own_labels);
	free(a->own_strings);
	free(a);
}

/*
 * An app of the snapshot as mcpd keeps it: one allocation for its
 * strings, one for its labels, none of them shared with the snapshot.
 */
static struct app *
app_new(const struct app_res *r)
{
	struct app	*a;
	const char	*desc = r->description != NULL ? r->description : "";
	size_t		 i, len, off;
	char		*p;

	len = strlen(r->name) + 1 + strlen(desc) + 1;
	for (i = 0; i < r->nlabels; i++)
		len += strlen(r->labels[i].key) + 1 +
		    strlen(r->labels[i].values.v[0]) + 1;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->own_strings = malloc(len)) == NULL ||
	    (a->own_labels = calloc(r->nlabels + 1,
	    sizeof(*a->own_labels))) == NULL)
		fatal("%s", __func__);
	p = a->own_strings;
	off = 0;
#define PUT(dst, src) do {						\
	(dst) = p + off;						\
	off += strlcpy(p + off, (src), len - off) + 1;			\
} while (0)
	PUT(a->name, r->name);
	PUT(a->description, desc);
	for (i = 0; i < r->nlabels; i++) {
		PUT(a->own_labels[i].key, r->labels[i].key);
		PUT(a->own_labels[i].value, r->labels[i].values.v[0]);
	}
#undef PUT
	a->labels = a->own_labels;
	a->nlabels = r->nlabels;
	a->type = "stdio";
	a->transport = r->transport;
	a->stdio = 1;
	return (a);
}

/* The same app as users see it: name, description, labels, type. */
static int
app_same(const struct app *a, const struct app_res *r)
{
	size_t	 i;

	if (a->transport != r->transport ||
	    strcmp(a->name, r->name) != 0 || strcmp(a->description,
	    r->description != NULL ? r->description : "") != 0 ||
	    a->nlabels != r->nlabels)
		return (0);
	for (i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i].key, r->labels[i].key) != 0 ||
		    strcmp(a->labels[i].value, r->labels[i].values.v[0]) != 0)
			return (0);
	return (1);
}

/*
 * The apps of a new snapshot.  One unchanged keeps its place (and the
 * sessions on it see no difference); the others are new, and those
 * they replace are retired.  Retired apps no session holds are freed.
 */
void
apps_snapshot_take(const struct resources *rs)
{
	struct app	**nv, *a, *next;
	size_t		  i, j, n = 0;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].kind == RES_APP)
			n++;
	if ((nv = calloc(n + 1, sizeof(*nv))) == NULL)
		fatal("%s", __func__);
	for (i = 0, n = 0; i < rs->n; i++) {
		if (rs->v[i].kind != RES_APP)
			continue;
		if (strcmp(rs->v[i].u.app.name, demo_app.name) == 0)
			fatalx("the parent's snapshot has an app named as "
			    "the demo server");
		for (j = 0; j < n; j++)
			if (strcmp(nv[j]->name, rs->v[i].u.app.name) == 0)
				fatalx("the parent's snapshot has app %s "
				    "twice", nv[j]->name);
		for (j = 0; j < snap_napps; j++)
			if (snap_apps[j] != NULL &&
			    app_same(snap_apps[j], &rs->v[i].u.app))
				break;
		if (j < snap_napps) {
			nv[n++] = snap_apps[j];
			snap_apps[j] = NULL;
		} else
			nv[n++] = app_new(&rs->v[i].u.app);
	}
	for (j = 0; j < snap_napps; j++)
		if (snap_apps[j] != NULL)
			TAILQ_INSERT_TAIL(&retired, snap_apps[j], retired);
	free(snap_apps);
	snap_apps = nv;
	snap_napps = n;
	for (a = TAILQ_FIRST(&retired); a != NULL; a = next) {
		next = TAILQ_NEXT(a, retired);
		if (mconn_app_held(a))
			continue;
		TAILQ_REMOVE(&retired, a, retired);
		app_free(a);
	}
	log_debug("snapshot: %zu apps", snap_napps);
}

/*
 * The tools of app as u's roles decide them:
 * {"all":bool,"allowed":[names],"denied":[names]}; of an app of the
 * snapshot (stdio, HTTP or SSE), the patterns of the roles, as its
 * tools are not known before a session reaches it.
 */
json_t *
apps_tools_json(const struct user *u, const struct app *app)
{
	struct decision	 d;
	json_t		*allowed = json_array(), *denied = json_array(), *v;
	size_t		 i;
	int		 all = 0;

	/* Its tools are known once it runs: the patterns say what goes. */
	if (app->stdio) {
		policy_tool_patterns(u, app, allowed, denied);
		json_array_foreach(allowed, i, v)
			if (strcmp(json_string_value(v), "*") == 0)
				all = 1;
		return (json_pack("{s:b,s:o,s:o}", "all", all &&
		    json_array_size(denied) == 0, "allowed", allowed,
		    "denied", denied));
	}
	for (i = 0; i < app->ntools; i++) {
		policy_tool(u, app, app->tools[i].name, &d);
		json_array_append_new(d.allowed ? allowed : denied,
		    json_string(app->tools[i].name));
	}
	return (json_pack("{s:b,s:o,s:o}", "all",
	    json_array_size(denied) == 0 && app->ntools > 0,
	    "allowed", allowed, "denied", denied));
}

/* The Type of mcp ls: the transport a user's client is relayed to. */
static const char *
app_type_shown(const struct app *app)
{
	if (!app->stdio)
		return (app->type);
	switch (app->transport) {
	case APP_HTTP:
		return ("Streamable HTTP");
	case APP_SSE:
		return ("SSE");
	default:
		return ("stdio");
	}
}

static json_t *
app_json(const struct user *u, const struct app *app)
{
	json_t	*labels = json_object();
	size_t	 i;

	for (i = 0; i < app->nlabels; i++)
		json_object_set_new(labels, app->labels[i].key,
		    json_string(app->labels[i].value));
	return (json_pack("{s:s,s:s,s:s,s:o,s:o}", "name", app->name,
	    "description", app->description, "type", app_type_shown(app),
	    "labels", labels, "tools", apps_tools_json(u, app)));
}

/*
 * {"op":"apps"}: the servers the user's roles let them see, and whether
 * the gateway offers any at all (only that, not how many are hidden), so
 * that a user whose list is empty learns whom to ask for what.
 */
void
apps_answer(struct mconn *c)
{
	const struct user	*u;
	const struct app	*app;
	struct decision		 d;
	const char		*code;
	json_t			*list;
	char			 msg[256];
	size_t			 i;
	int			 offered = 0;

	if ((u = identity_check(&c->peer, &code, msg, sizeof(msg))) == NULL) {
		mconn_error(c, code, "%s", msg);
		return;
	}
	list = json_array();
	for (i = 0; i < apps_count(); i++) {
		if ((app = apps_get(i)) == NULL)
			continue;
		offered = 1;
		if (policy_app(u, app, &d))
			json_array_append_new(list, app_json(u, app));
	}
	mconn_answer(c, json_pack("{s:b,s:o,s:b}", "ok", 1, "apps", list,
	    "offered", offered));
}
