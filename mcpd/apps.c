/*
 * The MCP servers this gateway offers, and the apps request: which of
 * them a user may see, with the tools their roles allow and deny.  For
 * now the one built-in server, the demo, when the configuration enables
 * it; servers the gateway runs or reaches come later.
 */
#include <sys/types.h>

#include <string.h>

#include <jansson.h>

#include "log.h"
#include "mcpd.h"

static const struct app *const builtin[] = {
	&demo_app,
};

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
	return (sizeof(builtin) / sizeof(builtin[0]));
}

/* The i-th server, or NULL when it is not enabled. */
const struct app *
apps_get(size_t i)
{
	if (i >= apps_count() || !app_enabled(builtin[i]))
		return (NULL);
	return (builtin[i]);
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
 * The tools of app as u's roles decide them:
 * {"all":bool,"allowed":[names],"denied":[names]}.
 */
json_t *
apps_tools_json(const struct user *u, const struct app *app)
{
	struct decision	 d;
	json_t		*allowed = json_array(), *denied = json_array();
	size_t		 i;

	for (i = 0; i < app->ntools; i++) {
		policy_tool(u, app, app->tools[i].name, &d);
		json_array_append_new(d.allowed ? allowed : denied,
		    json_string(app->tools[i].name));
	}
	return (json_pack("{s:b,s:o,s:o}", "all",
	    json_array_size(denied) == 0 && app->ntools > 0,
	    "allowed", allowed, "denied", denied));
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
	    "description", app->description, "type", app->type,
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
