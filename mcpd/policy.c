/*
 * The access decision, the one function behind tools/list, tools/call,
 * mcpgate mcp ls and the demo server's report.  Roles come from the
 * parent's latest snapshot, their patterns compiled once per snapshot;
 * every call is decided against the current one.
 *
 * A server is visible when some role's allow.app_labels matches its labels
 * and no role's deny.app_labels does.  A tool is allowed when some role
 * that grants the server allows it in allow.mcp.tools and no role denies
 * it in deny.mcp.tools (where that role's deny.app_labels, when given,
 * matches the server).  Nothing is allowed by default; deny wins.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcpd.h"
#include "pattern.h"

struct plabel {
	struct pattern	 key;
	struct pattern	*values;
	size_t		 nvalues;
};

struct prules {
	struct plabel	*labels;
	size_t		 nlabels;
	struct pattern	*tools;
	size_t		 ntools;
};

struct prole {
	const struct role *role;
	struct prules	 allow;
	struct prules	 deny;
};

static struct prole	*proles;
static size_t		 nproles;

static void
prules_free(struct prules *r)
{
	size_t	 i, j;

	for (i = 0; i < r->nlabels; i++) {
		pattern_free(&r->labels[i].key);
		for (j = 0; j < r->labels[i].nvalues; j++)
			pattern_free(&r->labels[i].values[j]);
		free(r->labels[i].values);
	}
	free(r->labels);
	for (i = 0; i < r->ntools; i++)
		pattern_free(&r->tools[i]);
	free(r->tools);
	memset(r, 0, sizeof(*r));
}

static void
rules_compile(struct prules *p, const struct role_rules *r)
{
	size_t	 i, j;

	if ((p->labels = calloc(r->nlabels + 1, sizeof(*p->labels))) == NULL ||
	    (p->tools = calloc(r->tools.n + 1, sizeof(*p->tools))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < r->nlabels; i++) {
		pattern_compile(&p->labels[i].key, r->labels[i].key);
		if ((p->labels[i].values = calloc(r->labels[i].values.n + 1,
		    sizeof(struct pattern))) == NULL)
			fatal("%s", __func__);
		for (j = 0; j < r->labels[i].values.n; j++)
			pattern_compile(&p->labels[i].values[j],
			    r->labels[i].values.v[j]);
		p->labels[i].nvalues = r->labels[i].values.n;
		p->nlabels++;
	}
	for (i = 0; i < r->tools.n; i++) {
		pattern_compile(&p->tools[i], r->tools.v[i]);
		p->ntools++;
	}
}

/* The roles of a new snapshot, compiled; the snapshot outlives them. */
void
policy_compile(const struct resources *rs)
{
	size_t	 i, n = 0;

	for (i = 0; i < nproles; i++) {
		prules_free(&proles[i].allow);
		prules_free(&proles[i].deny);
	}
	free(proles);
	nproles = 0;
	for (i = 0; i < rs->n; i++)
		if (rs->v[i].kind == RES_ROLE)
			n++;
	if ((proles = calloc(n + 1, sizeof(*proles))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < rs->n; i++) {
		if (rs->v[i].kind != RES_ROLE)
			continue;
		proles[nproles].role = &rs->v[i].u.role;
		rules_compile(&proles[nproles].allow, &rs->v[i].u.role.allow);
		rules_compile(&proles[nproles].deny, &rs->v[i].u.role.deny);
		nproles++;
	}
}

static const struct prole *
prole_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nproles; i++)
		if (strcmp(proles[i].role->name, name) == 0)
			return (&proles[i]);
	return (NULL);
}

/*
 * Whether a set of label rules matches the app: every rule must match
 * one of its labels.  No rule at all matches nothing.  deny says which
 * side the rules are on.
 */
static int
selector_match(const struct prules *r, const struct app *app,
    const struct user *u, int deny)
{
	const char	*via;
	size_t		 i, j, k;
	int		 hit;

	if (r->nlabels == 0)
		return (0);
	for (i = 0; i < r->nlabels; i++) {
		hit = 0;
		for (k = 0; k < app->nlabels && !hit; k++) {
			if (!pattern_match(&r->labels[i].key, u,
			    app->labels[k].key, deny, &via))
				continue;
			for (j = 0; j < r->labels[i].nvalues && !hit; j++)
				hit = pattern_match(&r->labels[i].values[j], u,
				    app->labels[k].value, deny, &via);
		}
		/* '*': '*' matches a server without labels too. */
		if (!hit && r->labels[i].key.any && r->labels[i].nvalues > 0 &&
		    r->labels[i].values[0].any)
			hit = 1;
		if (!hit)
			return (0);
	}
	return (1);
}

/* The rule of a tool pattern that matched, through a trait or not. */
static void
tool_rule(struct decision *d, const struct prole *r, const char *side,
    const struct pattern *p, const char *via)
{
	if (p->trait[0] == '\0')
		snprintf(d->rule, sizeof(d->rule), "role '%s' %s it "
		    "(%s '%s')", r->role->name, side[0] == 'd' ? "denies" :
		    "allows", side, p->text);
	else
		snprintf(d->rule, sizeof(d->rule), "role '%s' %s it "
		    "(%s '%s', your %s trait '%s')", r->role->name,
		    side[0] == 'd' ? "denies" : "allows", side, p->text,
		    p->trait, via);
}

static const char *
role_list(const struct user *u, char *buf, size_t len)
{
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < u->roles.n; i++) {
		if (i > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, u->roles.v[i], len);
	}
	if (buf[0] == '\0')
		strlcpy(buf, "none", len);
	return (buf);
}

/* May u see app? */
int
policy_app(const struct user *u, const struct app *app, struct decision *d)
{
	const struct prole	*r, *grant = NULL;
	char			 roles[256];
	size_t			 i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < u->roles.n; i++) {
		if ((r = prole_find(u->roles.v[i])) == NULL)
			continue;
		if (selector_match(&r->deny, app, u, 1)) {
			snprintf(d->rule, sizeof(d->rule), "role '%s' denies "
			    "server %s (deny.app_labels)", r->role->name,
			    app->name);
			return (d->allowed = 0);
		}
		if (grant == NULL && selector_match(&r->allow, app, u, 0))
			grant = r;
	}
	if (grant == NULL) {
		snprintf(d->rule, sizeof(d->rule), "none of your roles (%s) "
		    "gives server %s (allow.app_labels)", role_list(u, roles,
		    sizeof(roles)), app->name);
		return (d->allowed = 0);
	}
	snprintf(d->rule, sizeof(d->rule), "role '%s' gives server %s",
	    grant->role->name, app->name);
	return (d->allowed = 1);
}

/*
 * May u call tool on app?  A deny.mcp.tools pattern of any of the user's
 * roles refuses the tool on every server; an allow.mcp.tools pattern
 * allows it on the servers its role's allow.app_labels match.
 */
int
policy_tool(const struct user *u, const struct app *app, const char *tool,
    struct decision *d)
{
	const struct prole	*r, *allowed = NULL;
	const struct pattern	*ap = NULL;
	const char		*via, *apvia = NULL;
	char			 roles[256];
	size_t			 i, j;

	if (!policy_app(u, app, d))
		return (0);
	for (i = 0; i < u->roles.n; i++) {
		if ((r = prole_find(u->roles.v[i])) == NULL)
			continue;
		/* Deny wins, wherever it is written. */
		for (j = 0; j < r->deny.ntools; j++) {
			if (pattern_match(&r->deny.tools[j], u, tool, 1,
			    &via)) {
				tool_rule(d, r, "deny.mcp.tools",
				    &r->deny.tools[j], via);
				return (d->allowed = 0);
			}
		}
		if (allowed != NULL || !selector_match(&r->allow, app, u, 0))
			continue;
		for (j = 0; j < r->allow.ntools && allowed == NULL; j++) {
			if (pattern_match(&r->allow.tools[j], u, tool, 0,
			    &via)) {
				allowed = r;
				ap = &r->allow.tools[j];
				apvia = via;
			}
		}
	}
	if (allowed == NULL) {
		snprintf(d->rule, sizeof(d->rule), "none of your roles (%s) "
		    "allows it", role_list(u, roles, sizeof(roles)));
		return (d->allowed = 0);
	}
	tool_rule(d, allowed, "mcp.tools", ap, apvia);
	return (d->allowed = 1);
}

/* Append a pattern's text, or the values of the trait it names, once. */
static void
pattern_texts(json_t *out, const struct pattern *p, const struct user *u)
{
	const struct strlist	*vals = NULL;
	json_t			*v;
	size_t			 i, j;

	if (p->trait[0] == '\0') {
		json_array_foreach(out, j, v)
			if (strcmp(json_string_value(v), p->text) == 0)
				return;
		json_array_append_new(out, json_string(p->text));
		return;
	}
	for (i = 0; i < u->ntraits; i++)
		if (strcmp(u->traits[i].key, p->trait) == 0)
			vals = &u->traits[i].values;
	for (i = 0; vals != NULL && i < vals->n; i++) {
		json_array_foreach(out, j, v)
			if (strcmp(json_string_value(v), vals->v[i]) == 0)
				break;
		if (j == json_array_size(out))
			json_array_append_new(out, json_string(vals->v[i]));
	}
}

/*
 * The tools of a server whose tools the gateway does not know without
 * starting it (a stdio app), as u's roles decide them: the allow.mcp.tools
 * patterns of the roles that give u the server, and every deny.mcp.tools
 * pattern of u's roles, a trait's pattern as the trait's values.
 */
void
policy_tool_patterns(const struct user *u, const struct app *app,
    json_t *allowed, json_t *denied)
{
	const struct prole	*r;
	size_t			 i, j;

	for (i = 0; i < u->roles.n; i++) {
		if ((r = prole_find(u->roles.v[i])) == NULL)
			continue;
		for (j = 0; j < r->deny.ntools; j++)
			pattern_texts(denied, &r->deny.tools[j], u);
		if (!selector_match(&r->allow, app, u, 0))
			continue;
		for (j = 0; j < r->allow.ntools; j++)
			pattern_texts(allowed, &r->allow.tools[j], u);
	}
}
