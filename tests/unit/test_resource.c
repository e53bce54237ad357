/*
 * Unit tests for common/resource.c: roles, users and join tokens read from
 * YAML in the three modes (RES_ADMIN for mcpgatectl create, RES_STATE for
 * the state directory, RES_SNAPSHOT for mcpd) and written back with
 * resource_yaml().  Every error must name the file, the line and column
 * (1-based) of the offending node; whatever the writer produces, the
 * parser must read back as the same resource.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "pattern.h"
#include "resource.h"
#include "unit.h"

#define NAME	"t.yaml"

/* Four lines; a document's spec starts on line 5. */
#define ROLE_HEAD	"kind: role\nversion: v1\nmetadata:\n  name: r\n"
#define USER_HEAD	"kind: user\nversion: v1\nmetadata:\n  name: u\n"
#define TOKEN_HEAD	"kind: token\nversion: v1\nmetadata:\n  name: tok\n"

#define HASH64		"0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef"
#define GEN16		"0123456789abcdef"
#define PWHASH		"$argon2id$v=19$m=19456,t=2,p=1$" \
			"c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"

/* 2026-01-02T03:04:05Z and friends, in seconds. */
#define T_CREATED	1767323045LL
#define T_INVEXP	1772600767LL
#define T_TOKCREATED	1767225600LL
#define T_TOKEXPIRES	1767312000LL

/* A user as the state directory holds it, with every field set. */
static const char state_user[] =
    "kind: user\n"
    "version: v1\n"
    "metadata:\n"
    "  name: alice@example.org\n"
    "  description: \"Alice, on call\"\n"
    "spec:\n"
    "  roles: [access, auditor]\n"
    "  traits:\n"
    "    mcp_tools: [read_file, \"search_*\"]\n"
    "    team: blue\n"
    "status:\n"
    "  locked: true\n"
    "  created: 2026-01-02T03:04:05Z\n"
    "  generation: " GEN16 "\n"
    "credentials:\n"
    "  password: \"" PWHASH "\"\n"
    "  invite: " HASH64 "\n"
    "  invite_expires: 2026-03-04T05:06:07Z\n";

static const char state_token[] =
    "kind: token\n"
    "version: v1\n"
    "metadata:\n"
    "  name: join-1\n"
    "spec:\n"
    "  type: app\n"
    "  created: 2026-01-01T00:00:00Z\n"
    "  expires: 2026-01-02T00:00:00Z\n"
    "  hash: " HASH64 "\n";

static const char full_role[] =
    "kind: role\n"
    "version: v1\n"
    "metadata:\n"
    "  name: dev\n"
    "  description: Developers\n"
    "spec:\n"
    "  allow:\n"
    "    app_labels:\n"
    "      env: [dev, staging]\n"
    "      team: '*'\n"
    "      '^region-[a-z]+$': eu\n"
    "    mcp:\n"
    "      tools: [read_*, 'search_?', '^list_[a-z]+$',\n"
    "          '{{internal.mcp_tools}}', '{{ internal.extra }}']\n"
    "  deny:\n"
    "    app_labels: {env: prod}\n"
    "    mcp:\n"
    "      tools: delete_*\n";

/*
 * rs and errs hold the last parse, back the resources read from the
 * writer's output, out that output: all are freed before they are used
 * again and at the end, so that a test that stops early leaks nothing.
 */
static struct resources		 rs, back;
static struct conf_errors	 errs, back_errs;
static char			*out;
static size_t			 outlen;

static int
parse_len(const char *text, size_t len, int mode)
{
	resources_free(&rs);
	return (resource_parse(NAME, text, len, mode, &rs, &errs));
}

static int
parse(const char *text, int mode)
{
	return (parse_len(text, strlen(text), mode));
}

/* Write rs.v[i] in mode into out, and read it back into back. */
static int
write_back(size_t i, int mode)
{
	free(out);
	resources_free(&back);
	memset(&back_errs, 0, sizeof(back_errs));
	if ((out = resource_yaml(&rs.v[i], mode, &outlen)) == NULL)
		return (-1);
	if (strlen(out) != outlen)
		return (-1);
	return (resource_parse("back", out, outlen, mode, &back, &back_errs));
}

static const char *
list_errors(const struct conf_errors *e)
{
	static char	 buf[CONF_MAXERRORS * (CONF_ERRLEN + 2) + 32];
	int		 i;

	if (e->n == 0)
		return (" (none)");
	buf[0] = '\0';
	for (i = 0; i < e->n; i++) {
		strlcat(buf, "\n\t", sizeof(buf));
		strlcat(buf, e->msg[i], sizeof(buf));
	}
	return (buf);
}

static const char *
all_errors(void)
{
	return (list_errors(&errs));
}

/*
 * The index of the message that starts "t.yaml:where: " and contains
 * phrase, or -1.
 */
static int
find_error(const char *where, const char *phrase)
{
	char	 prefix[64];
	int	 i;

	snprintf(prefix, sizeof(prefix), "%s:%s: ", NAME, where);
	for (i = 0; i < errs.n; i++)
		if (strncmp(errs.msg[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs.msg[i], phrase) != NULL)
			return (i);
	return (-1);
}

/* Refused with exactly this one error, and nothing handed back. */
#define T_BAD(text, mode, where, phrase) do {				\
	T_ASSERTF(parse((text), (mode)) == -1, "accepted:\n%s", (text));\
	T_ASSERTF(rs.n == 0 && rs.v == NULL, "refused, but %zu "	\
	    "resources returned", rs.n);				\
	T_ASSERTF(find_error((where), (phrase)) != -1 && errs.n == 1,	\
	    "want one error %s:%s: ...%s..., got:%s\nfor:\n%s", NAME,	\
	    (where), (phrase), all_errors(), (text));			\
} while (0)

/* Refused, this error among others. */
#define T_BAD_SOME(text, mode, where, phrase) do {			\
	T_ASSERTF(parse((text), (mode)) == -1, "accepted:\n%s", (text));\
	T_ASSERTF(rs.n == 0 && rs.v == NULL, "refused, but %zu "	\
	    "resources returned", rs.n);				\
	T_ASSERTF(find_error((where), (phrase)) != -1,			\
	    "want an error %s:%s: ...%s..., got:%s\nfor:\n%s", NAME,	\
	    (where), (phrase), all_errors(), (text));			\
} while (0)

#define T_GOOD(text, mode) do {						\
	T_ASSERTF(parse((text), (mode)) == 0, "refused:%s\nfor:\n%s",	\
	    all_errors(), (text));					\
	T_ASSERT(errs.n == 0 && errs.dropped == 0);			\
} while (0)

static int
rules_equal(const struct role_rules *a, const struct role_rules *b)
{
	size_t	 i, j;

	if (a->nlabels != b->nlabels || a->tools.n != b->tools.n)
		return (0);
	for (i = 0; i < a->tools.n; i++)
		if (strcmp(a->tools.v[i], b->tools.v[i]) != 0)
			return (0);
	for (i = 0; i < a->nlabels; i++) {
		if (strcmp(a->labels[i].key, b->labels[i].key) != 0 ||
		    a->labels[i].values.n != b->labels[i].values.n)
			return (0);
		for (j = 0; j < a->labels[i].values.n; j++)
			if (strcmp(a->labels[i].values.v[j],
			    b->labels[i].values.v[j]) != 0)
				return (0);
	}
	return (1);
}

static int
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * The first difference between two resources, in the fields that a
 * document written in mode keeps, or NULL when there is none.
 */
static const char *
res_diff(const struct resource *a, const struct resource *b, int mode)
{
	const struct user	*ua = &a->u.user, *ub = &b->u.user;
	size_t			 i, j;

	if (a->kind != b->kind)
		return ("kind");
	switch (a->kind) {
	case RES_ROLE:
		if (strcmp(a->u.role.name, b->u.role.name) != 0)
			return ("name");
		if (!str_equal(a->u.role.description, b->u.role.description))
			return ("description");
		if (!rules_equal(&a->u.role.allow, &b->u.role.allow))
			return ("allow");
		if (!rules_equal(&a->u.role.deny, &b->u.role.deny))
			return ("deny");
		break;
	case RES_USER:
		if (strcmp(ua->name, ub->name) != 0)
			return ("name");
		if (!str_equal(ua->description, ub->description))
			return ("description");
		if (ua->roles.n != ub->roles.n)
			return ("number of roles");
		for (i = 0; i < ua->roles.n; i++)
			if (strcmp(ua->roles.v[i], ub->roles.v[i]) != 0)
				return ("roles");
		if (ua->ntraits != ub->ntraits)
			return ("number of traits");
		for (i = 0; i < ua->ntraits; i++) {
			if (strcmp(ua->traits[i].key,
			    ub->traits[i].key) != 0 ||
			    ua->traits[i].values.n != ub->traits[i].values.n)
				return ("traits");
			for (j = 0; j < ua->traits[i].values.n; j++)
				if (strcmp(ua->traits[i].values.v[j],
				    ub->traits[i].values.v[j]) != 0)
					return ("trait values");
		}
		if (mode & (RES_STATE | RES_SNAPSHOT)) {
			if (ua->locked != ub->locked)
				return ("locked");
			if (ua->created != ub->created)
				return ("created");
			if (strcmp(ua->generation, ub->generation) != 0)
				return ("generation");
		}
		if (mode & RES_STATE) {
			if (strcmp(ua->password, ub->password) != 0)
				return ("password");
			if (strcmp(ua->invite, ub->invite) != 0)
				return ("invite");
			if (ua->invite_expires != ub->invite_expires)
				return ("invite_expires");
		}
		break;
	case RES_APP:
		/* Every field the mode keeps is in the writer's text. */
		{
			char	*ya, *yb;
			int	 same;

			ya = resource_yaml(a, mode, NULL);
			yb = resource_yaml(b, mode, NULL);
			same = ya != NULL && yb != NULL && strcmp(ya, yb) == 0;
			free(ya);
			free(yb);
			if (!same)
				return ("app");
		}
		break;
	case RES_TOKEN:
		if (strcmp(a->u.token.name, b->u.token.name) != 0)
			return ("name");
		if (strcmp(a->u.token.type, b->u.token.type) != 0)
			return ("type");
		if (a->u.token.created != b->u.token.created)
			return ("created");
		if (a->u.token.expires != b->u.token.expires)
			return ("expires");
		if ((mode & RES_STATE) &&
		    strcmp(a->u.token.hash, b->u.token.hash) != 0)
			return ("hash");
		break;
	}
	return (NULL);
}

/* Write every resource of rs in mode, read each back: all the same. */
#define T_ROUNDTRIP(mode) do {						\
	size_t		 rt_i;						\
	const char	*rt_d;						\
									\
	for (rt_i = 0; rt_i < rs.n; rt_i++) {				\
		T_ASSERTF(write_back(rt_i, (mode)) == 0, "resource %zu "\
		    "written in mode %d does not parse back:%s\n%s",	\
		    rt_i, (mode), list_errors(&back_errs),		\
		    out != NULL ? out : "(no output)");			\
		T_ASSERTF(back.n == 1, "%zu resources read back",	\
		    back.n);						\
		rt_d = res_diff(&rs.v[rt_i], &back.v[0], (mode));	\
		T_ASSERTF(rt_d == NULL, "resource %zu: %s differs after"\
		    " the round trip in mode %d:\n%s", rt_i, rt_d,	\
		    (mode), out);					\
	}								\
} while (0)

/* --- good input --------------------------------------------------------- */

static void
test_good_role(void)
{
	const struct role	*r;

	T_GOOD(full_role, RES_ADMIN);
	T_ASSERT(rs.n == 1);
	T_ASSERT(rs.v[0].kind == RES_ROLE);
	T_ASSERT(rs.v[0].line == 1);
	r = &rs.v[0].u.role;
	T_ASSERT(strcmp(r->name, "dev") == 0);
	T_ASSERT(r->description != NULL &&
	    strcmp(r->description, "Developers") == 0);

	T_ASSERT(r->allow.nlabels == 3);
	T_ASSERT(strcmp(r->allow.labels[0].key, "env") == 0);
	T_ASSERT(r->allow.labels[0].values.n == 2);
	T_ASSERT(strcmp(r->allow.labels[0].values.v[0], "dev") == 0);
	T_ASSERT(strcmp(r->allow.labels[0].values.v[1], "staging") == 0);
	T_ASSERT(strcmp(r->allow.labels[1].key, "team") == 0);
	T_ASSERT(r->allow.labels[1].values.n == 1);
	T_ASSERT(strcmp(r->allow.labels[1].values.v[0], "*") == 0);
	T_ASSERT(strcmp(r->allow.labels[2].key, "^region-[a-z]+$") == 0);
	T_ASSERT(strcmp(r->allow.labels[2].values.v[0], "eu") == 0);
	T_ASSERT(r->allow.tools.n == 5);
	T_ASSERT(strcmp(r->allow.tools.v[0], "read_*") == 0);
	T_ASSERT(strcmp(r->allow.tools.v[1], "search_?") == 0);
	T_ASSERT(strcmp(r->allow.tools.v[2], "^list_[a-z]+$") == 0);
	T_ASSERT(strcmp(r->allow.tools.v[3], "{{internal.mcp_tools}}") == 0);
	T_ASSERT(strcmp(r->allow.tools.v[4], "{{ internal.extra }}") == 0);
	T_ASSERT(strlist_has(&r->allow.tools, "read_*"));
	T_ASSERT(!strlist_has(&r->allow.tools, "read_file"));

	T_ASSERT(r->deny.nlabels == 1);
	T_ASSERT(strcmp(r->deny.labels[0].key, "env") == 0);
	T_ASSERT(r->deny.labels[0].values.n == 1);
	T_ASSERT(strcmp(r->deny.labels[0].values.v[0], "prod") == 0);
	T_ASSERT(r->deny.tools.n == 1);
	T_ASSERT(strcmp(r->deny.tools.v[0], "delete_*") == 0);

	/* The same text is read alike in the other modes. */
	T_GOOD(full_role, RES_STATE);
	T_ASSERT(rs.n == 1 && rs.v[0].u.role.allow.tools.n == 5);
	T_GOOD(full_role, RES_SNAPSHOT);
	T_ASSERT(rs.n == 1 && rs.v[0].u.role.deny.nlabels == 1);
}

static void
test_preset_roles(void)
{
	const struct role	*r;

	T_GOOD(resource_presets, RES_ADMIN);
	T_ASSERT(rs.n == 3);
	r = &rs.v[0].u.role;
	T_ASSERT(strcmp(r->name, "access") == 0);
	T_ASSERT(strcmp(r->description, "All MCP servers, the tools named "
	    "in the user's mcp_tools trait") == 0);
	T_ASSERT(r->allow.nlabels == 1);
	T_ASSERT(strcmp(r->allow.labels[0].key, "*") == 0);
	T_ASSERT(r->allow.labels[0].values.n == 1);
	T_ASSERT(strcmp(r->allow.labels[0].values.v[0], "*") == 0);
	T_ASSERT(r->allow.tools.n == 1);
	T_ASSERT(strcmp(r->allow.tools.v[0], "{{internal.mcp_tools}}") == 0);
	T_ASSERT(r->deny.nlabels == 0 && r->deny.tools.n == 0);

	r = &rs.v[1].u.role;
	T_ASSERT(strcmp(r->name, "mcp-user") == 0);
	T_ASSERT(r->allow.tools.n == 1);
	T_ASSERT(strcmp(r->allow.tools.v[0], "*") == 0);

	r = &rs.v[2].u.role;
	T_ASSERT(strcmp(r->name, "auditor") == 0);
	T_ASSERT(r->allow.nlabels == 0 && r->allow.tools.n == 0);
	T_ASSERT(r->deny.nlabels == 0 && r->deny.tools.n == 0);

	T_ASSERT(rs.v[0].line == 1);
	T_ASSERT(rs.v[1].line == 12);
	T_ASSERT(rs.v[2].line == 23);

	T_ROUNDTRIP(RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
	T_ROUNDTRIP(RES_SNAPSHOT);
}

static void
test_good_user(void)
{
	const struct user	*u;

	T_GOOD(USER_HEAD
	    "  description: Bob\n"
	    "spec:\n"
	    "  roles:\n"
	    "    - access\n"
	    "    - mcp-user\n"
	    "  traits:\n"
	    "    mcp_tools: [read_file, write_file]\n"
	    "    team: blue\n"
	    "    empty: []\n"
	    "    none:\n"
	    "    t_2: ['{{not a pattern', '^x']\n", RES_ADMIN);
	T_ASSERT(rs.n == 1);
	T_ASSERT(rs.v[0].kind == RES_USER);
	u = &rs.v[0].u.user;
	T_ASSERT(strcmp(u->name, "u") == 0);
	T_ASSERT(strcmp(u->description, "Bob") == 0);
	T_ASSERT(u->roles.n == 2);
	T_ASSERT(strcmp(u->roles.v[0], "access") == 0);
	T_ASSERT(strcmp(u->roles.v[1], "mcp-user") == 0);
	T_ASSERT(u->ntraits == 5);
	T_ASSERT(strcmp(u->traits[0].key, "mcp_tools") == 0);
	T_ASSERT(u->traits[0].values.n == 2);
	T_ASSERT(strcmp(u->traits[0].values.v[1], "write_file") == 0);
	T_ASSERT(strcmp(u->traits[1].key, "team") == 0);
	T_ASSERT(u->traits[1].values.n == 1);
	T_ASSERT(strcmp(u->traits[1].values.v[0], "blue") == 0);
	T_ASSERT(u->traits[2].values.n == 0);
	T_ASSERT(u->traits[3].values.n == 0);
	/* Trait values are values, not patterns. */
	T_ASSERT(u->traits[4].values.n == 2);
	T_ASSERT(strcmp(u->traits[4].values.v[0], "{{not a pattern") == 0);
	T_ASSERT(u->locked == 0 && u->created == 0);
	T_ASSERT(u->generation[0] == '\0');
	T_ASSERT(u->password[0] == '\0' && u->invite[0] == '\0');

	/* One role as a single value; no spec at all. */
	T_GOOD(USER_HEAD "spec:\n  roles: access\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.user.roles.n == 1);
	T_ASSERT(strcmp(rs.v[0].u.user.roles.v[0], "access") == 0);
	T_ASSERT(rs.v[0].u.user.ntraits == 0);
	T_GOOD(USER_HEAD, RES_ADMIN);
	T_ASSERT(rs.n == 1 && rs.v[0].u.user.roles.n == 0);
	T_GOOD(USER_HEAD "spec:\n  roles:\n  traits:\n", RES_ADMIN);
	T_ASSERT(rs.n == 1 && rs.v[0].u.user.roles.n == 0);
	T_ASSERT(rs.v[0].u.user.ntraits == 0);
	T_GOOD(USER_HEAD "spec:\n  roles: []\n  traits: {}\n", RES_ADMIN);
	T_ASSERT(rs.n == 1 && rs.v[0].u.user.roles.n == 0);
	T_GOOD(USER_HEAD "spec:\n", RES_ADMIN);
	T_ASSERT(rs.n == 1);

	/* Names: what a file name and a certificate's CN can hold. */
	T_GOOD("kind: user\nversion: v1\nmetadata:\n"
	    "  name: Alice.Smith_2-x@example.org\n", RES_ADMIN);
	T_ASSERT(strcmp(rs.v[0].u.user.name,
	    "Alice.Smith_2-x@example.org") == 0);
	T_ASSERT(rs.v[0].u.user.description == NULL);
}

static void
test_good_state(void)
{
	const struct user	*u;
	const struct token	*t;

	T_GOOD(state_user, RES_STATE);
	T_ASSERT(rs.n == 1);
	u = &rs.v[0].u.user;
	T_ASSERT(strcmp(u->name, "alice@example.org") == 0);
	T_ASSERT(strcmp(u->description, "Alice, on call") == 0);
	T_ASSERT(u->roles.n == 2);
	T_ASSERT(u->ntraits == 2);
	T_ASSERT(strcmp(u->traits[0].values.v[1], "search_*") == 0);
	T_ASSERT(u->locked == 1);
	T_ASSERTF(u->created == T_CREATED, "created %lld",
	    (long long)u->created);
	T_ASSERT(strcmp(u->generation, GEN16) == 0);
	T_ASSERT(strcmp(u->password, PWHASH) == 0);
	T_ASSERT(strcmp(u->invite, HASH64) == 0);
	T_ASSERT(u->invite_expires == T_INVEXP);

	T_GOOD(state_token, RES_STATE);
	T_ASSERT(rs.n == 1);
	T_ASSERT(rs.v[0].kind == RES_TOKEN);
	t = &rs.v[0].u.token;
	T_ASSERT(strcmp(t->name, "join-1") == 0);
	T_ASSERT(strcmp(t->type, "app") == 0);
	T_ASSERT(t->created == T_TOKCREATED);
	T_ASSERT(t->expires == T_TOKEXPIRES);
	T_ASSERT(strcmp(t->hash, HASH64) == 0);

	/* A status in a snapshot: no credentials. */
	T_GOOD(USER_HEAD "status:\n  locked: false\n"
	    "  created: 2026-11-26T17:00:00.999Z\n", RES_SNAPSHOT);
	T_ASSERT(rs.v[0].u.user.locked == 0);
	T_ASSERT(rs.v[0].u.user.created == 1795712400LL);

	/* Times before 1970; a status that is null. */
	T_GOOD(USER_HEAD "status:\n  created: 1969-07-20T20:17:40Z\n",
	    RES_STATE);
	T_ASSERT(rs.v[0].u.user.created == -14182940LL);
	T_GOOD(USER_HEAD "status:\ncredentials:\n", RES_STATE);
	T_ASSERT(rs.n == 1);

	/* Upper-case hex is hex. */
	T_GOOD(USER_HEAD "credentials:\n  invite: "
	    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
	    "\n", RES_STATE);
	T_ASSERT(rs.v[0].u.user.invite[63] == 'F');
}

static void
test_many_documents(void)
{
	static const char	 text[] =
	    "# resources for the team\n"
	    "---\n"
	    ROLE_HEAD
	    "---\n"
	    USER_HEAD
	    "spec:\n"
	    "  roles: r\n"
	    "...\n"
	    "---\n"
	    "kind: role\n"
	    "version: v1\n"
	    "metadata: {name: second, description: \"two\"}\n"
	    "spec: {deny: {mcp: {tools: ['*']}}}\n";

	T_GOOD(text, RES_ADMIN);
	T_ASSERT(rs.n == 3);
	T_ASSERT(rs.v[0].kind == RES_ROLE && rs.v[0].line == 3);
	T_ASSERT(strcmp(rs.v[0].u.role.name, "r") == 0);
	T_ASSERT(rs.v[1].kind == RES_USER && rs.v[1].line == 8);
	T_ASSERT(strcmp(rs.v[1].u.user.name, "u") == 0);
	T_ASSERT(rs.v[2].kind == RES_ROLE && rs.v[2].line == 16);
	T_ASSERT(strcmp(rs.v[2].u.role.name, "second") == 0);
	T_ASSERT(strcmp(rs.v[2].u.role.description, "two") == 0);
	T_ASSERT(rs.v[2].u.role.deny.tools.n == 1);

	/* A state directory's user and token in one stream. */
	{
		char	 both[2048];

		snprintf(both, sizeof(both), "%s---\n%s", state_user,
		    state_token);
		T_GOOD(both, RES_STATE);
		T_ASSERT(rs.n == 2);
		T_ASSERT(rs.v[0].kind == RES_USER);
		T_ASSERT(rs.v[1].kind == RES_TOKEN);
		T_ASSERT(rs.v[1].line == 20);
	}

	/* Nothing, or only comments: no resources, no error. */
	T_GOOD("", RES_ADMIN);
	T_ASSERT(rs.n == 0);
	T_GOOD("# nothing here\n\n", RES_STATE);
	T_ASSERT(rs.n == 0);
}

static void
test_scalar_styles(void)
{
	/* Quoted keys and values, block scalars, tags: all are text. */
	T_GOOD("\"kind\": 'role'\n"
	    "version: \"v1\"\n"
	    "metadata:\n"
	    "  name: \"r\"\n"
	    "  description: |\n"
	    "    line one\n"
	    "    line two\n"
	    "spec:\n"
	    "  allow:\n"
	    "    mcp:\n"
	    "      tools: !!str read_*\n", RES_ADMIN);
	T_ASSERT(rs.n == 1);
	T_ASSERT(strcmp(rs.v[0].u.role.description,
	    "line one\nline two\n") == 0);
	T_ASSERT(strcmp(rs.v[0].u.role.allow.tools.v[0], "read_*") == 0);

	/* An anchor and an alias: the same list twice. */
	T_GOOD(ROLE_HEAD
	    "spec:\n"
	    "  allow:\n"
	    "    mcp:\n"
	    "      tools: &t [a, b]\n"
	    "  deny:\n"
	    "    mcp:\n"
	    "      tools: *t\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.role.allow.tools.n == 2);
	T_ASSERT(rs.v[0].u.role.deny.tools.n == 2);
	T_ASSERT(strcmp(rs.v[0].u.role.deny.tools.v[1], "b") == 0);

	/* Quoted "true" is true; "~" quoted is not null. */
	T_GOOD(USER_HEAD "status:\n  locked: \"true\"\n", RES_STATE);
	T_ASSERT(rs.v[0].u.user.locked == 1);
	T_GOOD(USER_HEAD "spec:\n  traits:\n    t: \"~\"\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.user.traits[0].values.n == 1);
	T_ASSERT(strcmp(rs.v[0].u.user.traits[0].values.v[0], "~") == 0);
	T_GOOD(USER_HEAD "spec:\n  traits:\n    t: ~\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.user.traits[0].values.n == 0);
}

/* --- errors -------------------------------------------------------------- */

static void
test_syntax_errors(void)
{
	T_BAD("kind: role\nversion: v1: x\n", RES_ADMIN, "2:12",
	    "YAML syntax error: mapping values are not allowed");
	T_BAD("kind: role\n\tversion: v1\n", RES_ADMIN, "2:1",
	    "YAML syntax error: ");
	T_BAD(ROLE_HEAD "spec: {allow: {}\n", RES_ADMIN, "6:1",
	    "YAML syntax error");
	T_BAD(ROLE_HEAD "  description: \"open\n", RES_ADMIN, "6:1",
	    "YAML syntax error");
	T_BAD(ROLE_HEAD "spec: *nowhere\n", RES_ADMIN, "5:7",
	    "YAML syntax error: found undefined alias");
	/* In a second document, after a first that parsed: nothing back. */
	T_BAD(ROLE_HEAD "---\nkind: role: x\n", RES_ADMIN, "6:11",
	    "YAML syntax error: mapping values are not allowed");
	T_BAD(ROLE_HEAD "---\n" ROLE_HEAD "  description: \"a\\qb\"\n",
	    RES_STATE, "10:18", "YAML syntax error: found unknown escape "
	    "character");
}

static void
test_not_a_mapping(void)
{
	static const char	*what = "a resource is a mapping with kind, "
	    "version, metadata and spec";

	T_BAD("- kind: role\n- version: v1\n", RES_ADMIN, "1:1", what);
	T_BAD("just text\n", RES_ADMIN, "1:1", what);
	T_BAD("\"kind: role\"\n", RES_STATE, "1:1", what);
	T_BAD(ROLE_HEAD "---\n[a, b]\n", RES_ADMIN, "6:1", what);
	T_BAD(ROLE_HEAD "---\n  - x\n", RES_SNAPSHOT, "6:3", what);
	/* A key must be a scalar. */
	T_BAD(ROLE_HEAD "? [spec]\n: {}\n", RES_ADMIN, "5:3",
	    "a key must be a name");
	T_BAD(ROLE_HEAD "spec:\n  {allow: x}: y\n", RES_ADMIN, "6:3",
	    "a key must be a name");
}

static void
test_missing(void)
{
	T_BAD("version: v1\nmetadata:\n  name: r\n", RES_ADMIN, "1:1",
	    "missing 'kind'");
	T_BAD("kind: role\nmetadata:\n  name: r\n", RES_ADMIN, "1:1",
	    "missing 'version: v1'");
	T_BAD("kind: user\nversion: v1\n", RES_ADMIN, "1:1",
	    "missing 'metadata' with a name");
	T_BAD("kind: role\nversion: v1\nspec: {}\n", RES_STATE, "1:1",
	    "missing 'metadata' with a name");
	T_BAD("kind: role\nversion: v1\nmetadata:\n  description: d\n",
	    RES_ADMIN, "4:3", "metadata needs a name");
	T_BAD("kind: user\nversion: v1\nmetadata: {}\n", RES_ADMIN, "3:11",
	    "metadata needs a name");
	T_BAD("kind: role\nversion: v1\nmetadata:\n  name:\n", RES_ADMIN,
	    "4:8", "'name' needs a value");
	T_BAD("kind: role\nversion: v1\nmetadata:\n  name: ''\n", RES_ADMIN,
	    "4:9", "'name' needs a value");
	T_BAD("kind: role\nversion: v1\nmetadata:\n  name: null\n",
	    RES_ADMIN, "4:9", "'name' needs a value");
	T_BAD(TOKEN_HEAD, RES_STATE, "1:1", "missing 'spec'");
	T_BAD(TOKEN_HEAD "spec:\n  type: app\n  hash: " HASH64 "\n",
	    RES_STATE, "6:3", "a token needs type, expires and hash");
	T_BAD(TOKEN_HEAD "spec: {type: app, expires: 2026-01-01T00:00:00Z}\n",
	    RES_STATE, "5:7", "a token needs type, expires and hash");
	/* Both missing: both reported. */
	T_BAD_SOME("kind: role\n", RES_ADMIN, "1:1", "missing 'version");
	T_ASSERT(errs.n == 2);
	T_ASSERT(find_error("1:1", "missing 'metadata'") == 1);
}

static void
test_version_and_kind(void)
{
	T_BAD("kind: role\nversion: v2\nmetadata:\n  name: r\n", RES_ADMIN,
	    "2:10", "unsupported version 'v2' (v1 is read)");
	T_BAD("kind: role\nversion: 1\nmetadata:\n  name: r\n", RES_STATE,
	    "2:10", "unsupported version '1'");
	T_BAD("kind: role\nversion:\nmetadata:\n  name: r\n", RES_ADMIN,
	    "2:9", "unsupported version ''");
	T_BAD("kind: role\nversion: [v1]\nmetadata:\n  name: r\n", RES_ADMIN,
	    "2:10", "'version' must be a single value, not a list");
	T_BAD("kind: group\nversion: v1\nmetadata:\n  name: r\n", RES_ADMIN,
	    "1:7", "kind 'group' is not one this gateway takes (role, user "
	    "or app)");
	T_BAD("kind: Role\nversion: v1\nmetadata:\n  name: r\n", RES_STATE,
	    "1:7", "kind 'Role' is not one");
	T_BAD("kind: {a: b}\nversion: v1\nmetadata:\n  name: r\n", RES_ADMIN,
	    "1:7", "'kind' must be a single value, not a mapping");
	T_BAD("kind:\nversion: v1\nmetadata:\n  name: r\n", RES_ADMIN,
	    "1:6", "kind '' is not one");
	/* Tokens are the gateway's: never from mcpgatectl create. */
	T_BAD(state_token, RES_ADMIN, "1:7", "kind 'token' is not one this "
	    "gateway takes");
}

static void
test_modes(void)
{
	/* Status and credentials are the gateway's, not an administrator's. */
	T_BAD(USER_HEAD "status:\n  locked: true\n", RES_ADMIN, "6:3",
	    "'status' is kept by the gateway: use mcpgatectl users lock, "
	    "unlock and reset");
	T_BAD(USER_HEAD "status: {}\n", RES_ADMIN, "5:9",
	    "'status' is kept by the gateway");
	T_BAD(USER_HEAD "credentials:\n  password: \"" PWHASH "\"\n",
	    RES_ADMIN, "6:3", "'credentials' are never written by hand: "
	    "users set their password with an invite");
	T_BAD(USER_HEAD "credentials:\n  password: \"" PWHASH "\"\n",
	    RES_SNAPSHOT, "6:3", "'credentials' are never written by hand");
	T_BAD(USER_HEAD "credentials: {}\n", RES_SNAPSHOT, "5:14",
	    "'credentials' are never written by hand");
	/* A snapshot takes the status and refuses the credentials. */
	T_BAD(USER_HEAD "status:\n  locked: true\ncredentials:\n  invite: "
	    HASH64 "\n", RES_SNAPSHOT, "8:3", "'credentials' are never");
	/* Both, in an administrator's file: two errors. */
	T_BAD_SOME(state_user, RES_ADMIN, "12:3", "'status' is kept");
	T_ASSERT(find_error("16:3", "'credentials' are never") != -1);
	T_ASSERT(errs.n == 2);
	/* A role has neither, whatever the mode. */
	T_BAD(ROLE_HEAD "status:\n  locked: true\n", RES_STATE, "6:3",
	    "a role has no status or credentials");
	T_BAD(ROLE_HEAD "credentials: {}\n", RES_STATE, "5:14",
	    "a role has no status or credentials");
	T_BAD(ROLE_HEAD "status: {}\n", RES_SNAPSHOT, "5:9",
	    "a role has no status or credentials");
	T_BAD(ROLE_HEAD "status: {}\n", RES_ADMIN, "5:9",
	    "'status' is kept by the gateway");
}

static void
test_unknown_keys(void)
{
	T_BAD(ROLE_HEAD "specs: {}\n", RES_ADMIN, "5:1",
	    "unknown key 'specs' (expected kind, version, metadata, spec)");
	T_BAD("apiVersion: v1\n" ROLE_HEAD, RES_STATE, "1:1",
	    "unknown key 'apiVersion'");
	T_BAD(ROLE_HEAD "  labels: x\n", RES_ADMIN, "5:3",
	    "key 'labels' in metadata");
	T_BAD(ROLE_HEAD "spec:\n  permit: {}\n", RES_ADMIN, "6:3",
	    "unknown key 'permit' in a role's spec (expected allow or deny)");
	T_BAD(ROLE_HEAD "spec:\n  roles: [a]\n", RES_ADMIN, "6:3",
	    "unknown key 'roles' in a role's spec");
	T_BAD(USER_HEAD "spec:\n  groups: [a]\n", RES_ADMIN, "6:3",
	    "unknown key 'groups' in a user's spec (expected roles or "
	    "traits)");
	T_BAD(USER_HEAD "spec:\n  allow: {}\n", RES_ADMIN, "6:3",
	    "unknown key 'allow' in a user's spec");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    tools: [a]\n", RES_ADMIN,
	    "7:5", "unknown key 'tools' in 'allow' (expected app_labels or "
	    "mcp)");
	T_BAD(ROLE_HEAD "spec:\n  deny:\n    labels: {a: b}\n", RES_ADMIN,
	    "7:5", "unknown key 'labels' in 'deny' (expected app_labels or "
	    "mcp)");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      resources: [a]\n",
	    RES_ADMIN, "8:7", "unknown key 'resources' in 'mcp' "
	    "(expected tools)");
	T_BAD(ROLE_HEAD "spec:\n  deny:\n    mcp: {tools: a, prompts: b}\n",
	    RES_ADMIN, "7:21", "unknown key 'prompts' in 'mcp'");
	T_BAD(USER_HEAD "status:\n  disabled: true\n", RES_STATE, "6:3",
	    "unknown key 'disabled' in status");
	T_BAD(USER_HEAD "credentials:\n  totp: x\n", RES_STATE, "6:3",
	    "unknown key 'totp' in credentials");
	T_BAD(TOKEN_HEAD "spec:\n  type: app\n  roles: [a]\n", RES_STATE,
	    "7:3", "unknown key 'roles' in a token's spec");
	/* Keys are case-sensitive. */
	T_BAD(ROLE_HEAD "Spec: {}\n", RES_ADMIN, "5:1",
	    "unknown key 'Spec'");
}

static void
test_duplicate_keys(void)
{
	T_BAD(ROLE_HEAD "kind: role\n", RES_ADMIN, "5:1",
	    "duplicate key 'kind'");
	T_BAD(ROLE_HEAD "spec: {}\nspec: {}\n", RES_ADMIN, "6:1",
	    "duplicate key 'spec'");
	T_BAD(ROLE_HEAD "version: v1\n", RES_STATE, "5:1",
	    "duplicate key 'version'");
	T_BAD(USER_HEAD "status: {}\nstatus: {}\n", RES_STATE, "6:1",
	    "duplicate key 'status'");
	T_BAD(USER_HEAD "credentials: {}\ncredentials: {}\n", RES_STATE,
	    "6:1", "duplicate key 'credentials'");
	T_BAD(ROLE_HEAD "metadata: {name: r}\n", RES_ADMIN, "5:1",
	    "duplicate key 'metadata'");
	T_BAD(ROLE_HEAD "  name: s\n", RES_ADMIN, "5:3",
	    "duplicate key 'name'");
	T_BAD(ROLE_HEAD "  description: a\n  description: b\n", RES_ADMIN,
	    "6:3", "duplicate key 'description'");
	T_BAD(ROLE_HEAD "spec:\n  allow: {}\n  allow: {}\n", RES_ADMIN,
	    "7:3", "duplicate key 'allow' in a role's spec");
	T_BAD(ROLE_HEAD "spec:\n  deny: {}\n  deny: {}\n", RES_ADMIN,
	    "7:3", "duplicate key 'deny' in a role's spec");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels: {a: b}\n"
	    "    app_labels: {c: d}\n", RES_ADMIN, "8:5",
	    "duplicate key 'app_labels' in 'allow'");
	T_BAD(ROLE_HEAD "spec:\n  deny:\n    mcp: {}\n    mcp: {}\n",
	    RES_ADMIN, "8:5", "duplicate key 'mcp' in 'deny'");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: a\n"
	    "      tools: b\n", RES_ADMIN, "9:7", "duplicate key 'tools' in "
	    "'mcp'");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n      env: a\n"
	    "      env: b\n", RES_ADMIN, "9:7", "label 'env' appears twice");
	T_BAD(USER_HEAD "spec:\n  roles: a\n  roles: b\n", RES_ADMIN,
	    "7:3", "duplicate key 'roles' in a user's spec");
	T_BAD(USER_HEAD "spec:\n  traits: {}\n  traits: {}\n", RES_ADMIN,
	    "7:3", "duplicate key 'traits' in a user's spec");
	T_BAD(USER_HEAD "spec:\n  traits: {team: a, team: b}\n", RES_ADMIN,
	    "6:21", "trait 'team' appears twice");
}

static void
test_bad_names(void)
{
	static const char	*what = "must be letters, digits, '.', '_', "
	    "'-' or '@', not starting with '.' or '-'";
	char			 text[512], name[80];

	T_BAD("kind: role\nversion: v1\nmetadata:\n  name: .r\n", RES_ADMIN,
	    "4:9", "name '.r' must be letters");
	T_BAD("kind: role\nversion: v1\nmetadata:\n  name: ..\n", RES_ADMIN,
	    "4:9", what);
	T_BAD("kind: user\nversion: v1\nmetadata:\n  name: -u\n", RES_ADMIN,
	    "4:9", what);
	T_BAD("kind: user\nversion: v1\nmetadata:\n  name: a/b\n", RES_STATE,
	    "4:9", what);
	T_BAD("kind: user\nversion: v1\nmetadata:\n  name: \"a b\"\n",
	    RES_ADMIN, "4:9", what);
	T_BAD("kind: user\nversion: v1\nmetadata:\n  name: \"a:b\"\n",
	    RES_ADMIN, "4:9", what);
	T_BAD("kind: user\nversion: v1\nmetadata:\n  name: a*\n",
	    RES_ADMIN, "4:9", what);
	T_BAD("kind: user\nversion: v1\nmetadata:\n  name: \"\\u00e9\"\n",
	    RES_ADMIN, "4:9", what);
	T_BAD("kind: user\nversion: v1\nmetadata:\n  name: \"a\\nb\"\n",
	    RES_ADMIN, "4:9", what);
	T_BAD("kind: user\nversion: v1\nmetadata:\n  name: [a]\n",
	    RES_ADMIN, "4:9", "'name' must be a single value, not a list");
	T_BAD_SOME(TOKEN_HEAD "  name: x\n", RES_STATE, "5:3",
	    "duplicate key 'name'");
	T_BAD("kind: token\nversion: v1\nmetadata:\n  name: ../t\nspec:\n"
	    "  type: app\n  expires: 2026-01-01T00:00:00Z\n  hash: " HASH64
	    "\n", RES_STATE, "4:9", what);

	/* 63 characters are a name, 64 are not. */
	memset(name, 'n', 63);
	name[63] = '\0';
	snprintf(text, sizeof(text), "kind: role\nversion: v1\nmetadata:\n"
	    "  name: %s\n", name);
	T_GOOD(text, RES_ADMIN);
	T_ASSERT(strcmp(rs.v[0].u.role.name, name) == 0);
	snprintf(text, sizeof(text), "kind: role\nversion: v1\nmetadata:\n"
	    "  name: %sn\n", name);
	T_BAD(text, RES_ADMIN, "4:9", "'name' is longer than 63 characters");

	/* Role names in a user's spec are names too. */
	T_BAD(USER_HEAD "spec:\n  roles: [ok, .bad]\n", RES_ADMIN, "6:15",
	    "'.bad' is not a valid name in 'roles'");
	T_BAD(USER_HEAD "spec:\n  roles: \"a b\"\n", RES_ADMIN, "6:10",
	    "'a b' is not a valid name in 'roles'");
	snprintf(text, sizeof(text), USER_HEAD "spec:\n  roles: [%sn]\n",
	    name);
	T_BAD(text, RES_ADMIN, "6:11", "is not a valid name in 'roles'");
}

static void
test_bad_patterns(void)
{
	char	 text[4096], big[1100];

	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: ['^abc']\n",
	    RES_ADMIN, "8:15", "regular expression '^abc' must end with $ "
	    "(patterns are anchored)");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: ['^(abc$']\n",
	    RES_ADMIN, "8:15", "regular expression '^(abc$': ");
	T_BAD(ROLE_HEAD "spec:\n  deny:\n    mcp:\n      tools:\n"
	    "        - ok\n        - '^[a-$'\n", RES_ADMIN, "10:11",
	    "regular expression '^[a-$': ");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: "
	    "'{{external.x}}'\n", RES_ADMIN, "8:14", "'{{external.x}}' is "
	    "not a trait: write {{internal.NAME}}, for example "
	    "{{internal.mcp_tools}}");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: "
	    "['{{internal.Tools}}']\n", RES_ADMIN, "8:15", "is not a trait");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: "
	    "['{{internal.}}']\n", RES_ADMIN, "8:15", "is not a trait");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: "
	    "['{{internal.a}}x']\n", RES_ADMIN, "8:15", "is not a trait");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: "
	    "['{{internal.mcp-tools}}']\n", RES_ADMIN, "8:15",
	    "is not a trait");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: [a, '']\n",
	    RES_ADMIN, "8:18", "'tools' needs a value");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: [a, ~]\n",
	    RES_ADMIN, "8:18", "'tools' needs a value");

	/* In app_labels: keys and values. */
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n"
	    "      '^env': x\n", RES_ADMIN, "8:7", "label regular expression "
	    "'^env' must end with $");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n"
	    "      '': x\n", RES_ADMIN, "8:7", "label a pattern must be 1 to "
	    "1024 characters");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n"
	    "      env: '{{external.env}}'\n", RES_ADMIN, "8:12",
	    "'{{external.env}}' is not a trait");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n"
	    "      env: [a, '^(b$']\n", RES_ADMIN, "8:16",
	    "regular expression '^(b$'");

	/* 1024 characters are a pattern; 1025 are too long. */
	memset(big, 'x', 1024);
	big[1024] = '\0';
	snprintf(text, sizeof(text), ROLE_HEAD "spec:\n  allow:\n    mcp:\n"
	    "      tools: %s\n", big);
	T_GOOD(text, RES_ADMIN);
	T_ASSERT(strlen(rs.v[0].u.role.allow.tools.v[0]) == 1024);
	snprintf(text, sizeof(text), ROLE_HEAD "spec:\n  allow:\n    mcp:\n"
	    "      tools: %sx\n", big);
	T_BAD(text, RES_ADMIN, "8:14", "'tools' is longer than 1024 "
	    "characters");
	/* A simple key is at most 1024 characters in YAML: say "?". */
	snprintf(text, sizeof(text), ROLE_HEAD "spec:\n  allow:\n"
	    "    app_labels:\n      ? %s\n      : '*'\n", big);
	T_GOOD(text, RES_ADMIN);
	T_ASSERT(strlen(rs.v[0].u.role.allow.labels[0].key) == 1024);
	snprintf(text, sizeof(text), ROLE_HEAD "spec:\n  allow:\n"
	    "    app_labels:\n      ? %sx\n      : '*'\n", big);
	T_BAD(text, RES_ADMIN, "8:9", "label a pattern must be 1 to 1024");
}

static void
test_duplicate_values(void)
{
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: [a, b, a]\n",
	    RES_ADMIN, "8:21", "'a' is listed twice in 'tools'");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: [&x a, *x]\n",
	    RES_ADMIN, "8:15", "'a' is listed twice in 'tools'");
	T_BAD(USER_HEAD "spec:\n  roles:\n    - x\n    - y\n    - x\n",
	    RES_ADMIN, "9:7", "'x' is listed twice in 'roles'");
	T_BAD(ROLE_HEAD "spec:\n  deny:\n    app_labels:\n"
	    "      env: [prod, prod]\n", RES_ADMIN, "8:19",
	    "'prod' is listed twice in 'app_labels'");
	T_BAD(USER_HEAD "spec:\n  traits:\n    team: [red, 'red']\n",
	    RES_ADMIN, "7:17", "'red' is listed twice in 'team'");
	/* The same value in allow and in deny is not a duplicate. */
	T_GOOD(ROLE_HEAD "spec:\n  allow: {mcp: {tools: a}}\n"
	    "  deny: {mcp: {tools: a}}\n", RES_ADMIN);
}

static void
test_label_without_value(void)
{
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n      env:\n",
	    RES_ADMIN, "8:11", "label 'env' needs a value, or '*'");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n      env: []\n",
	    RES_ADMIN, "8:12", "label 'env' needs a value, or '*'");
	T_BAD(ROLE_HEAD "spec:\n  deny:\n    app_labels: {env: ~}\n",
	    RES_ADMIN, "7:23", "label 'env' needs a value");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n"
	    "      env: {a: b}\n", RES_ADMIN, "8:12",
	    "'app_labels' must be a value or a list of them");
}

static void
test_trait_names(void)
{
	static const char	*what = "must be lowercase letters, digits "
	    "and _";
	char			 text[512], name[80];

	T_BAD(USER_HEAD "spec:\n  traits:\n    Team: x\n", RES_ADMIN, "7:5",
	    "trait 'Team' must be lowercase letters, digits and _");
	T_BAD(USER_HEAD "spec:\n  traits:\n    MCP_TOOLS: x\n", RES_ADMIN,
	    "7:5", what);
	T_BAD(USER_HEAD "spec:\n  traits:\n    mcp-tools: x\n", RES_ADMIN,
	    "7:5", what);
	T_BAD(USER_HEAD "spec:\n  traits:\n    mcp.tools: x\n", RES_ADMIN,
	    "7:5", what);
	T_BAD(USER_HEAD "spec:\n  traits:\n    '': x\n", RES_ADMIN,
	    "7:5", what);
	T_BAD(USER_HEAD "spec:\n  traits:\n    \"\\u00e9t\\u00e9\": x\n",
	    RES_ADMIN, "7:5", what);
	T_GOOD(USER_HEAD "spec:\n  traits:\n    _0_9az: x\n", RES_ADMIN);

	memset(name, 't', 63);
	name[63] = '\0';
	snprintf(text, sizeof(text), USER_HEAD "spec:\n  traits:\n"
	    "    %s: x\n", name);
	T_GOOD(text, RES_ADMIN);
	snprintf(text, sizeof(text), USER_HEAD "spec:\n  traits:\n"
	    "    %st: x\n", name);
	T_BAD(text, RES_ADMIN, "7:5", what);
	T_BAD(USER_HEAD "spec:\n  traits: [a]\n", RES_ADMIN, "6:11",
	    "'traits' must be a mapping");
	T_BAD(USER_HEAD "spec:\n  traits:\n    t: {a: b}\n", RES_ADMIN, "7:8",
	    "'t' must be a value or a list of them");
}

/* Under head, n lines "<pre><i><post>\n", as the document text. */
static char *
many(const char *head, const char *pre, const char *post, int n)
{
	char	*text;
	size_t	 len = strlen(head) + (size_t)n * 300 + 64, off;
	int	 i;

	if ((text = malloc(len)) == NULL)
		return (NULL);
	off = (size_t)snprintf(text, len, "%s", head);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, len - off, "%s%d%s\n",
		    pre, i, post);
	return (text);
}

/*
 * What mcpgatectl create takes is bounded tighter than what the state
 * directory holds: count(admin) is fine, one more is refused there with
 * its line and column, and the state directory still takes count(state).
 */
static void
test_too_many(void)
{
	static const struct {
		const char	*head;
		const char	*pre, *post;
		int		 admin, state;
		const char	*where;		/* of the admin + 1st item */
		const char	*phrase;
	} t[] = {
		{ ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools:\n",
		    "        - t", "", RES_ADMIN_MAXTOOLS, RES_MAXLIST,
		    "265:11", "more than 256 values in 'tools', the most" },
		{ USER_HEAD "spec:\n  roles:\n", "    - r", "",
		    RES_ADMIN_MAXROLES, RES_MAXLIST, "71:7",
		    "more than 64 values in 'roles', the most" },
		{ ROLE_HEAD "spec:\n  allow:\n    app_labels:\n",
		    "      l", ": '*'", RES_ADMIN_MAXLABELS, RES_MAXMAP, "40:7",
		    "more than 32 labels, the most" },
		{ ROLE_HEAD "spec:\n  allow:\n    app_labels:\n      env:\n",
		    "        - v", "", RES_ADMIN_MAXLABELVALS, RES_MAXLIST,
		    "73:11", "more than 64 values in 'app_labels', the most" },
		{ USER_HEAD "spec:\n  traits:\n", "    t", ": v",
		    RES_ADMIN_MAXTRAITS, RES_MAXMAP, "23:5",
		    "more than 16 traits, the most" },
		{ USER_HEAD "spec:\n  traits:\n    team:\n",
		    "      - v", "", RES_ADMIN_MAXTRAITVALS, RES_MAXLIST,
		    "72:9", "more than 64 values in 'team', the most" },
	};
	char	*text;
	size_t	 i;
	int	 r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if ((text = many(t[i].head, t[i].pre, t[i].post, t[i].state)) == NULL)
			T_SKIP("out of memory");
		free(text);
		text = many(t[i].head, t[i].pre, t[i].post, t[i].admin);
		r = parse(text, RES_ADMIN);
		free(text);
		T_ASSERTF(r == 0, "%d items refused:%s", t[i].admin,
		    all_errors());
		text = many(t[i].head, t[i].pre, t[i].post, t[i].admin + 1);
		r = parse(text, RES_ADMIN);
		free(text);
		T_ASSERTF(r == -1 && errs.n == 1 && find_error(t[i].where,
		    t[i].phrase) != -1, "%d items: %d,%s", t[i].admin + 1, r,
		    all_errors());
		/* The state directory, written by the gateway, takes more. */
		if (t[i].state > t[i].admin) {
			text = many(t[i].head, t[i].pre, t[i].post, t[i].state);
			r = parse(text, RES_STATE);
			free(text);
			T_ASSERTF(r == 0, "state: %d items refused:%s",
			    t[i].state, all_errors());
		}
		text = many(t[i].head, t[i].pre, t[i].post, t[i].state + 1);
		r = parse(text, RES_STATE);
		free(text);
		T_ASSERTF(r == -1 && errs.n == 1, "state: %d items: %d,%s",
		    t[i].state + 1, r, all_errors());
	}
}

/* A trait value's length, and the size of a whole user or role. */
static void
test_too_large(void)
{
	char	*text;
	size_t	 len = 1024 * 1024, off;
	int	 i, r;

	if ((text = malloc(len)) == NULL)
		T_SKIP("out of memory");
	/* 256 bytes is a trait value, 257 is too long. */
	snprintf(text, len, USER_HEAD "spec:\n  traits:\n    team: %0256d\n",
	    0);
	T_ASSERTF(parse(text, RES_ADMIN) == 0, "%s", all_errors());
	snprintf(text, len, USER_HEAD "spec:\n  traits:\n    team: %0257d\n",
	    0);
	r = parse(text, RES_ADMIN);
	T_ASSERTF(r == -1 && find_error("7:11", "a value of 'team' is longer "
	    "than 256 bytes") != -1, "%s", all_errors());

	/* 16 traits of 64 values of 200 bytes: 200 KiB, over 16 KiB. */
	off = (size_t)snprintf(text, len, USER_HEAD "spec:\n  traits:\n");
	for (i = 0; i < RES_ADMIN_MAXTRAITS * RES_ADMIN_MAXTRAITVALS; i++) {
		if (i % RES_ADMIN_MAXTRAITVALS == 0)
			off += (size_t)snprintf(text + off, len - off,
			    "    t%d:\n", i / RES_ADMIN_MAXTRAITVALS);
		off += (size_t)snprintf(text + off, len - off,
		    "      - %0200d\n", i);
	}
	r = parse(text, RES_ADMIN);
	/* Said where the value that went over stands. */
	T_ASSERTF(r == -1 && errs.n == 1 && find_error("90:9", "user 'u' "
	    "holds more than 16 KiB of names, values and patterns") != -1,
	    "%s", all_errors());
	/* The state directory takes it as the gateway wrote it. */
	T_ASSERTF(parse(text, RES_STATE) == 0, "%s", all_errors());

	/* A role: 256 tools of 300 bytes, over 64 KiB. */
	off = (size_t)snprintf(text, len, ROLE_HEAD "spec:\n  allow:\n"
	    "    mcp:\n      tools:\n");
	for (i = 0; i < RES_ADMIN_MAXTOOLS; i++)
		off += (size_t)snprintf(text + off, len - off,
		    "        - t%0300d\n", i);
	r = parse(text, RES_ADMIN);
	free(text);
	T_ASSERTF(r == -1 && errs.n == 1 && find_error("226:11", "role 'r' "
	    "holds more than 64 KiB") != -1, "%s", all_errors());
}

static void
test_wrong_types(void)
{
	T_BAD("kind: role\nversion: v1\nmetadata: r\n", RES_ADMIN, "3:11",
	    "'metadata' must be a mapping");
	T_BAD(ROLE_HEAD "spec: [a]\n", RES_ADMIN, "5:7",
	    "'spec' must be a mapping");
	T_BAD(USER_HEAD "spec: roles\n", RES_ADMIN, "5:7",
	    "'spec' must be a mapping");
	T_BAD(TOKEN_HEAD "spec: app\n", RES_STATE, "5:7",
	    "'spec' must be a mapping");
	T_BAD(ROLE_HEAD "spec:\n  allow: everything\n", RES_ADMIN, "6:10",
	    "'allow' must be a mapping");
	T_BAD(ROLE_HEAD "spec:\n  deny: [a]\n", RES_ADMIN, "6:9",
	    "'deny' must be a mapping");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels: [a]\n", RES_ADMIN,
	    "7:17", "'app_labels' must be a mapping");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp: tools\n", RES_ADMIN,
	    "7:10", "'mcp' must be a mapping");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: {a: b}\n",
	    RES_ADMIN, "8:14", "'tools' must be a value or a list of them");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: [[a]]\n",
	    RES_ADMIN, "8:15", "'tools' must be a single value, not a list");
	T_BAD(USER_HEAD "spec:\n  roles: {a: b}\n", RES_ADMIN, "6:10",
	    "'roles' must be a value or a list of them");
	T_BAD(ROLE_HEAD "  description: [a]\n", RES_ADMIN, "5:16",
	    "'description' must be a single value, not a list");
	T_BAD(ROLE_HEAD "  description: ''\n", RES_ADMIN, "5:16",
	    "'description' needs a value");
	T_BAD(USER_HEAD "status: locked\n", RES_STATE, "5:9",
	    "'status' must be a mapping");
	T_BAD(USER_HEAD "credentials: [a]\n", RES_STATE, "5:14",
	    "'credentials' must be a mapping");
	T_BAD(USER_HEAD "status:\n  locked: yes\n", RES_STATE, "6:11",
	    "'locked' must be true or false");
	T_BAD(USER_HEAD "status:\n  locked: [true]\n", RES_STATE, "6:11",
	    "'locked' must be a single value, not a list");
	T_BAD(USER_HEAD "status:\n  created: 1h\n", RES_STATE, "6:12",
	    "'created' must be a time such as 2026-11-26T17:00:00Z");
	T_BAD(USER_HEAD "status:\n  created: 2026-11-26\n", RES_STATE,
	    "6:12", "'created' must be a time such as");
	T_BAD(USER_HEAD "status:\n  created: 2026-13-01T00:00:00Z\n",
	    RES_STATE, "6:12", "'created' must be a time such as");
	T_BAD(USER_HEAD "status:\n  generation: 0123456789ABCDEF\n",
	    RES_STATE, "6:15", "'generation' must be 16 lowercase hex digits");
	T_BAD(USER_HEAD "status:\n  generation: 0123456789abcde\n",
	    RES_SNAPSHOT, "6:15", "'generation' must be 16 lowercase hex");
	T_BAD(USER_HEAD "status:\n  generation: 0123456789abcdef0\n",
	    RES_STATE, "6:15", "'generation' must be 16 lowercase hex");
	T_BAD(USER_HEAD "status:\n  generation: 0123456789abcdeg\n",
	    RES_STATE, "6:15", "'generation' must be 16 lowercase hex");
	T_BAD(USER_HEAD "status:\n  generation:\n", RES_STATE, "6:14",
	    "'generation' must be 16 lowercase hex");
	T_BAD(USER_HEAD "status:\n  created: 2026-11-26T17:00:00+01:00\n",
	    RES_SNAPSHOT, "6:12", "'created' must be a time such as");
	T_BAD(USER_HEAD "status:\n  created: tomorrow\n", RES_SNAPSHOT,
	    "6:12", "'created' must be a time such as");
	T_BAD(USER_HEAD "credentials:\n  invite: abc\n", RES_STATE, "6:11",
	    "'invite' must be 64 hex digits");
	T_BAD(USER_HEAD "credentials:\n  invite: "
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"
	    "\n", RES_STATE, "6:11", "'invite' must be 64 hex digits");
	T_BAD(USER_HEAD "credentials:\n  invite: " HASH64 "0\n", RES_STATE,
	    "6:11", "'invite' must be 64 hex digits");
	T_BAD(USER_HEAD "credentials:\n  invite_expires: 3d\n", RES_STATE,
	    "6:19", "'invite_expires' must be a time");
	T_BAD(USER_HEAD "credentials:\n  password: hunter2\n", RES_STATE,
	    "6:13", "'password' is not an Argon2id hash");
	T_BAD(USER_HEAD "credentials:\n  password: \"$argon2i$v=19$x\"\n",
	    RES_STATE, "6:13", "'password' is not an Argon2id hash");
	T_BAD(TOKEN_HEAD "spec:\n  type: bot\n  expires: "
	    "2026-01-01T00:00:00Z\n  hash: " HASH64 "\n", RES_STATE, "6:9",
	    "token type must be app");
	T_BAD(TOKEN_HEAD "spec:\n  type: app\n  expires: "
	    "2026-01-01T00:00:00Z\n  hash: abc\n", RES_STATE, "8:9",
	    "'hash' must be 64 hex digits");
	T_BAD(TOKEN_HEAD "spec:\n  type: app\n  expires: soon\n  hash: "
	    HASH64 "\n", RES_STATE, "7:12", "'expires' must be a time");
	T_BAD(TOKEN_HEAD "spec:\n  type: app\n  created: 1d\n  expires: "
	    "2026-01-01T00:00:00Z\n  hash: " HASH64 "\n", RES_STATE, "7:12",
	    "'created' must be a time");
}

static void
test_nul_byte(void)
{
	static const char	 text[] = ROLE_HEAD
	    "  description: \"a\\0b\"\n";
	static const char	 raw[] = ROLE_HEAD "  description: a\0b\n";

	T_BAD(text, RES_ADMIN, "5:16", "'description' contains a NUL byte");
	T_BAD(USER_HEAD "spec:\n  traits:\n    t: \"x\\0\"\n", RES_ADMIN,
	    "7:8", "'t' contains a NUL byte");
	/* A raw NUL in the input is not YAML. */
	T_ASSERT(parse_len(raw, sizeof(raw) - 1, RES_ADMIN) == -1);
	T_ASSERT(rs.n == 0 && errs.n == 1);
	T_ASSERTF(strstr(errs.msg[0], "YAML syntax error") != NULL, "%s",
	    all_errors());
}

static void
test_description_length(void)
{
	char	 text[2048], big[1100];

	memset(big, 'd', 1024);
	big[1024] = '\0';
	snprintf(text, sizeof(text), ROLE_HEAD "  description: %s\n", big);
	T_GOOD(text, RES_ADMIN);
	T_ASSERT(strlen(rs.v[0].u.role.description) == 1024);
	T_ROUNDTRIP(RES_ADMIN);
	snprintf(text, sizeof(text), ROLE_HEAD "  description: %sd\n", big);
	T_BAD(text, RES_ADMIN, "5:16", "'description' is longer than 1024 "
	    "characters");
	snprintf(text, sizeof(text), TOKEN_HEAD "spec:\n  type: "
	    "application-token\n");
	T_BAD_SOME(text, RES_STATE, "6:9", "'type' is longer than 15 "
	    "characters");
}

static void
test_several_errors(void)
{
	/* One document, three problems: all three, in order. */
	T_ASSERT(parse("kind: role\n"
	    "version: v1\n"
	    "metadata:\n"
	    "  name: .r\n"
	    "spec:\n"
	    "  allow:\n"
	    "    mcp:\n"
	    "      tools: ['^a', b, b]\n"
	    "  other: 1\n", RES_ADMIN) == -1);
	T_ASSERT(rs.n == 0 && rs.v == NULL);
	T_ASSERTF(errs.n == 4, "want 4 errors:%s", all_errors());
	T_ASSERT(find_error("4:9", "name '.r'") == 0);
	T_ASSERT(find_error("8:15", "'^a' must end with $") == 1);
	T_ASSERT(find_error("8:24", "'b' is listed twice") == 2);
	T_ASSERT(find_error("9:3", "unknown key 'other'") == 3);

	/* Three documents, the middle one good: both others reported. */
	T_ASSERT(parse("kind: group\nversion: v1\n"
	    "---\n" ROLE_HEAD
	    "---\n" USER_HEAD "spec:\n  roles: [a, a]\n", RES_ADMIN) == -1);
	T_ASSERT(rs.n == 0 && rs.v == NULL);
	T_ASSERTF(errs.n == 2, "want 2 errors:%s", all_errors());
	T_ASSERT(find_error("1:7", "kind 'group'") == 0);
	T_ASSERT(find_error("14:14", "'a' is listed twice in 'roles'") == 1);

	/* A good document followed by a bad one: nothing comes back. */
	T_ASSERT(parse(resource_presets, RES_ADMIN) == 0 && rs.n == 3);
	T_ASSERT(parse(ROLE_HEAD "---\n" ROLE_HEAD "  bad: 1\n",
	    RES_ADMIN) == -1);
	T_ASSERT(rs.n == 0 && rs.v == NULL);
	T_ASSERT(errs.n == 1 && find_error("10:3", "'bad'") == 0);
}

/* At most RES_MAXDOCS documents in one stream. */
static void
test_document_limit(void)
{
	static const char	 doc[] =
	    "--- {kind: role, version: v1, metadata: {name: r}}\n";
	char			*text;
	size_t			 i, len = (RES_MAXDOCS + 1) * (sizeof(doc) - 1);
	int			 r;

	if ((text = malloc(len + 1)) == NULL)
		T_SKIP("out of memory");
	for (i = 0; i <= RES_MAXDOCS; i++)
		memcpy(text + i * (sizeof(doc) - 1), doc, sizeof(doc) - 1);
	text[len] = '\0';
	r = parse_len(text, len - (sizeof(doc) - 1), RES_ADMIN);
	if (r != 0 || rs.n != RES_MAXDOCS) {
		free(text);
		T_ASSERTF(0, "%d documents refused:%s", RES_MAXDOCS,
		    all_errors());
	}
	T_ASSERT(rs.v[RES_MAXDOCS - 1].line == RES_MAXDOCS);
	r = parse_len(text, len, RES_ADMIN);
	free(text);
	T_ASSERT(r == -1 && rs.n == 0 && rs.v == NULL);
	T_ASSERTF(errs.n == 1 && find_error("100001:1", "more than 100000 "
	    "YAML documents") == 0, "%s", all_errors());
}

static void
test_error_cap(void)
{
	char	 text[8192];
	size_t	 off;
	int	 i;

	/* 40 unknown keys: 32 messages, 8 dropped. */
	off = (size_t)snprintf(text, sizeof(text), ROLE_HEAD);
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "x%d: 1\n", i);
	T_ASSERT(parse(text, RES_ADMIN) == -1);
	T_ASSERT(rs.n == 0 && rs.v == NULL);
	T_ASSERTF(errs.n == CONF_MAXERRORS && errs.dropped == 40 -
	    CONF_MAXERRORS, "n %d dropped %d", errs.n, errs.dropped);
	T_ASSERT(find_error("5:1", "unknown key 'x0'") == 0);
	T_ASSERT(find_error("36:1", "unknown key 'x31'") == 31);

	/* A new parse starts again from no error. */
	T_GOOD(ROLE_HEAD, RES_ADMIN);
}

/* --- writing and reading back ------------------------------------------- */

static void
test_state_roundtrip(void)
{
	char	 both[2048];

	snprintf(both, sizeof(both), "%s---\n%s---\n%s", state_user,
	    state_token, full_role);
	T_GOOD(both, RES_STATE);
	T_ASSERT(rs.n == 3);
	T_ROUNDTRIP(RES_STATE);

	/* The user's file holds all, the secrets as they were read. */
	T_ASSERT(write_back(0, RES_STATE) == 0);
	T_ASSERTF(strstr(out, "status:\n") != NULL, "%s", out);
	T_ASSERTF(strstr(out, "  locked: true\n") != NULL, "%s", out);
	T_ASSERTF(strstr(out, "  created: \"2026-01-02T03:04:05Z\"\n") !=
	    NULL, "%s", out);
	T_ASSERTF(strstr(out, "  generation: \"" GEN16 "\"\n") != NULL, "%s",
	    out);
	T_ASSERTF(strstr(out, "credentials:\n") != NULL, "%s", out);
	T_ASSERTF(strstr(out, PWHASH) != NULL, "%s", out);
	T_ASSERTF(strstr(out, HASH64) != NULL, "%s", out);
	T_ASSERTF(strstr(out, "  invite_expires: \"2026-03-04T05:06:07Z\"\n")
	    != NULL, "%s", out);
	T_ASSERT(back.v[0].u.user.locked == 1);
	T_ASSERT(back.v[0].u.user.created == T_CREATED);
	T_ASSERT(strcmp(back.v[0].u.user.password, PWHASH) == 0);

	/* The token's too. */
	T_ASSERT(write_back(1, RES_STATE) == 0);
	T_ASSERTF(strstr(out, "kind: token\n") != NULL, "%s", out);
	T_ASSERTF(strstr(out, "  hash: \"" HASH64 "\"\n") != NULL, "%s", out);
	T_ASSERT(back.v[0].u.token.expires == T_TOKEXPIRES);
	T_ASSERT(strcmp(back.v[0].u.token.hash, HASH64) == 0);

	/* A user with a password and no invite, one with neither. */
	T_GOOD(USER_HEAD "credentials:\n  password: \"" PWHASH "\"\n",
	    RES_STATE);
	T_ROUNDTRIP(RES_STATE);
	T_ASSERTF(strstr(out, "invite") == NULL, "%s", out);
	T_GOOD(USER_HEAD "credentials:\n  invite: " HASH64 "\n"
	    "  invite_expires: 2026-03-04T05:06:07Z\n", RES_STATE);
	T_ROUNDTRIP(RES_STATE);
	T_ASSERTF(strstr(out, "password") == NULL, "%s", out);
	T_GOOD(USER_HEAD, RES_STATE);
	T_ROUNDTRIP(RES_STATE);
	T_ASSERTF(strstr(out, "credentials") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "  locked: false\n") != NULL, "%s", out);

	/* A time before 1970 survives. */
	T_GOOD(USER_HEAD "status:\n  created: 1969-07-20T20:17:40Z\n",
	    RES_STATE);
	T_ROUNDTRIP(RES_STATE);
	T_ASSERTF(strstr(out, "1969-07-20T20:17:40Z") != NULL, "%s", out);

	/* Written twice, the same text: the writer is deterministic. */
	{
		char	*first;

		T_GOOD(state_user, RES_STATE);
		T_ASSERT(write_back(0, RES_STATE) == 0);
		first = out;
		out = NULL;
		if (write_back(0, RES_STATE) != 0 || strcmp(first, out) != 0) {
			free(first);
			T_ASSERTF(0, "two writes differ");
		}
		free(first);
	}
}

static void
test_admin_output(void)
{
	const struct user	*u;

	T_GOOD(state_user, RES_STATE);
	T_ASSERT(write_back(0, RES_ADMIN) == 0);
	T_ASSERTF(back.n == 1, "%s\n%s", list_errors(&back_errs), out);
	T_ASSERTF(strstr(out, "status") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "credentials") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "argon2id") == NULL, "%s", out);
	T_ASSERTF(strstr(out, HASH64) == NULL, "%s", out);
	T_ASSERTF(strstr(out, "locked") == NULL, "%s", out);
	T_ASSERT(res_diff(&rs.v[0], &back.v[0], RES_ADMIN) == NULL);
	u = &back.v[0].u.user;
	T_ASSERT(u->locked == 0 && u->created == 0);
	T_ASSERT(u->generation[0] == '\0');
	T_ASSERT(u->password[0] == '\0' && u->invite[0] == '\0');
	T_ASSERT(u->invite_expires == 0);

	/* Roles are the same in every mode. */
	T_GOOD(full_role, RES_ADMIN);
	T_ROUNDTRIP(RES_ADMIN);
	T_ASSERTF(strncmp(out, "kind: role\nversion: v1\nmetadata:\n"
	    "  name: \"dev\"\n  description: \"Developers\"\nspec:\n",
	    strlen("kind: role\nversion: v1\nmetadata:\n  name: \"dev\"\n"
	    "  description: \"Developers\"\nspec:\n")) == 0, "%s", out);
	T_ROUNDTRIP(RES_STATE);
	T_ROUNDTRIP(RES_SNAPSHOT);
}

static void
test_snapshot_output(void)
{
	const struct user	*u;

	T_GOOD(state_user, RES_STATE);
	T_ASSERT(write_back(0, RES_SNAPSHOT) == 0);
	T_ASSERTF(back.n == 1, "%s\n%s", list_errors(&back_errs), out);
	T_ASSERTF(strstr(out, "status:\n  locked: true\n") != NULL, "%s",
	    out);
	T_ASSERTF(strstr(out, "credentials") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "argon2id") == NULL, "%s", out);
	T_ASSERTF(strstr(out, HASH64) == NULL, "%s", out);
	T_ASSERTF(strstr(out, "invite") == NULL, "%s", out);
	T_ASSERT(res_diff(&rs.v[0], &back.v[0], RES_SNAPSHOT) == NULL);
	u = &back.v[0].u.user;
	T_ASSERT(u->locked == 1 && u->created == T_CREATED);
	T_ASSERT(strcmp(u->generation, GEN16) == 0);
	T_ASSERT(u->password[0] == '\0' && u->invite[0] == '\0');

	/* What store_snapshot() sends: one stream of them. */
	{
		char	 stream[4096];
		char	*y1, *y2;
		size_t	 l1, l2;

		T_GOOD(resource_presets, RES_ADMIN);
		T_ASSERT(rs.n == 3);
		y1 = resource_yaml(&rs.v[0], RES_SNAPSHOT, &l1);
		y2 = resource_yaml(&rs.v[2], RES_SNAPSHOT, &l2);
		snprintf(stream, sizeof(stream), "---\n%s---\n%s",
		    y1 != NULL ? y1 : "", y2 != NULL ? y2 : "");
		free(y1);
		free(y2);
		T_GOOD(stream, RES_SNAPSHOT);
		T_ASSERT(rs.n == 2);
		T_ASSERT(strcmp(rs.v[0].u.role.name, "access") == 0);
		T_ASSERT(strcmp(rs.v[1].u.role.name, "auditor") == 0);
		T_ASSERT(rs.v[0].line == 2 && rs.v[1].line > 2);
	}
}

static void
test_empty_spec(void)
{
	T_GOOD(ROLE_HEAD "spec: {}\n", RES_ADMIN);
	T_ROUNDTRIP(RES_ADMIN);
	T_ASSERTF(strstr(out, "spec: {}\n") != NULL, "%s", out);
	T_GOOD(ROLE_HEAD, RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
	T_ASSERTF(strstr(out, "spec: {}\n") != NULL, "%s", out);
	T_GOOD(ROLE_HEAD "spec:\n  allow:\n  deny: {}\n", RES_ADMIN);
	T_ROUNDTRIP(RES_SNAPSHOT);
	T_ASSERTF(strstr(out, "spec: {}\n") != NULL, "%s", out);
	T_GOOD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n    mcp:\n",
	    RES_ADMIN);
	T_ROUNDTRIP(RES_ADMIN);
	/* Only a deny, only labels. */
	T_GOOD(ROLE_HEAD "spec:\n  deny:\n    app_labels: {env: prod}\n",
	    RES_ADMIN);
	T_ROUNDTRIP(RES_ADMIN);
	T_ASSERTF(strstr(out, "allow") == NULL, "%s", out);
	/* A user with no roles: "roles: []". */
	T_GOOD(USER_HEAD, RES_ADMIN);
	T_ROUNDTRIP(RES_ADMIN);
	T_ASSERTF(strstr(out, "  roles: []\n") != NULL, "%s", out);
	T_GOOD(USER_HEAD "spec:\n  traits:\n    none: []\n", RES_ADMIN);
	T_ROUNDTRIP(RES_ADMIN);
	T_ASSERT(back.v[0].u.user.ntraits == 1);
}

static void
test_string_roundtrip(void)
{
	/* Quotes, backslashes, control characters, UTF-8 of 2, 3, 4 bytes. */
	static const char	 text[] =
	    "kind: role\n"
	    "version: v1\n"
	    "metadata:\n"
	    "  name: r\n"
	    "  description: \"He said \\\"hi\\\" \\\\ back\\nslash\\ttab "
	    "\\r\\e\\b \xc3\xa9t\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 "
	    "\xf0\x9f\x98\x80 \\u00a0 '#: - [x] {y} &a *b !c |d >e %f @g`\"\n"
	    "spec:\n"
	    "  allow:\n"
	    "    app_labels:\n"
	    "      \"k\\\"ey\": \"v\\\\al\"\n"
	    "      \"line\\nbreak\": [\"tab\\there\", \" lead\", \"trail \"]\n"
	    "      \"\xc3\xbc\": \"\xe2\x82\xac\"\n"
	    "    mcp:\n"
	    "      tools: [\"a\\\"b\", 'c\\d', \"e\\nf\","
	    " \"\xc3\xbcn\xc3\xaf\", \"x: y\", \"# no comment\", \"---\","
	    " \"...\", \"null\", \"~\", \"true\"]\n";
	static const char	 user[] =
	    USER_HEAD
	    "  description: |\n"
	    "    two lines,\n"
	    "      one indented\\n\n"
	    "spec:\n"
	    "  traits:\n"
	    "    t: [\"\\\"\", \"\\\\\", \"\\n\", \"\\t\", \" \", \"\\u2603\","
	    " \"\\U0001F600\"]\n";

	T_GOOD(text, RES_ADMIN);
	T_ASSERT(rs.v[0].u.role.allow.nlabels == 3);
	T_ASSERT(strcmp(rs.v[0].u.role.allow.labels[0].key, "k\"ey") == 0);
	T_ASSERT(strcmp(rs.v[0].u.role.allow.labels[0].values.v[0],
	    "v\\al") == 0);
	T_ASSERT(rs.v[0].u.role.allow.tools.n == 11);
	T_ASSERT(strcmp(rs.v[0].u.role.allow.tools.v[1], "c\\d") == 0);
	T_ASSERT(strcmp(rs.v[0].u.role.allow.tools.v[2], "e\nf") == 0);
	T_ASSERT(strstr(rs.v[0].u.role.description, "\"hi\" \\ back\nslash"
	    "\ttab \r\x1b\b \xc3\xa9t\xc3\xa9") != NULL);
	T_ROUNDTRIP(RES_ADMIN);
	T_ASSERTF(strstr(out, "\"He said \\\"hi\\\" \\\\ back\\nslash") !=
	    NULL, "%s", out);
	T_ROUNDTRIP(RES_STATE);
	T_ROUNDTRIP(RES_SNAPSHOT);

	T_GOOD(user, RES_ADMIN);
	T_ASSERT(strcmp(rs.v[0].u.user.description,
	    "two lines,\n  one indented\\n\n") == 0);
	T_ASSERT(rs.v[0].u.user.traits[0].values.n == 7);
	T_ROUNDTRIP(RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
}

/*
 * What libyaml's emitter writes reads back the same: strings YAML would
 * take for something else ("yes", "null", "123", "0x1F", "1e3", "~"),
 * quotes, colons, comment and list marks, leading and trailing spaces,
 * newlines, non-ASCII, a regular expression, a label key longer than a
 * simple key may be, a description longer than a line.
 */
static void
test_emitter_roundtrip(void)
{
	static const char	 odd[] =
	    "[\"yes\", \"no\", \"null\", \"123\", \"0x1F\", \"1e3\", \"~\","
	    " \"true\", \" lead\", \"trail \", \"a: b\", \"#c\", \"- d\","
	    " \"'q'\", \"\\\"dq\\\"\", \"line\\nbreak\", \"{x}\","
	    " \"\xc3\xa9t\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\", \"[y]\"]";
	char		 text[8192], key[256], desc[1001];
	size_t		 i;

	memset(key, 'k', sizeof(key));
	memcpy(key, "^(", 2);
	memcpy(key + 200, ")$", 3);
	for (i = 0; i < sizeof(desc) - 1; i++)
		desc[i] = i % 7 == 6 ? ' ' : 'a' + i % 26;
	desc[sizeof(desc) - 1] = '\0';
	snprintf(text, sizeof(text), ROLE_HEAD
	    "  description: \"%s\"\n"
	    "spec:\n"
	    "  allow:\n"
	    "    app_labels:\n"
	    "      \"yes\": %s\n"
	    "      \"123\": [\"^(a|b)+:[0-9]{1,3}$\", \"null\"]\n"
	    "      \"%s\": \"^x y$\"\n"
	    "    mcp:\n"
	    "      tools: [\"^get_[a-z]+$\", \"no\", \"a:b\", \" *\"]\n"
	    "  deny:\n"
	    "    mcp:\n"
	    "      tools: [\"^(rm|del).*$\"]\n"
	    "---\n" USER_HEAD
	    "  description: \" yes: no\\n- 123\\t\xc3\xbc\"\n"
	    "spec:\n"
	    "  roles: [r, \"123\", \"null\"]\n"
	    "  traits:\n"
	    "    mcp_tools: %s\n"
	    "    logins: [\"yes\", \"123\", \"null\"]\n"
	    "status:\n"
	    "  locked: true\n"
	    "  created: 2026-01-02T03:04:05Z\n"
	    "  generation: \"" GEN16 "\"\n"
	    "credentials:\n"
	    "  password: \"" PWHASH "\"\n", desc, odd, key, odd);
	T_GOOD(text, RES_STATE);
	T_ASSERT(rs.n == 2);
	T_ASSERT(strcmp(rs.v[0].u.role.allow.labels[0].key, "yes") == 0);
	T_ASSERT(strcmp(rs.v[0].u.role.allow.labels[1].key, "123") == 0);
	T_ASSERT(strlen(rs.v[0].u.role.allow.labels[2].key) == 202);
	T_ASSERT(rs.v[0].u.role.allow.labels[0].values.n == 19);
	T_ASSERT(strcmp(rs.v[1].u.user.traits[0].values.v[15],
	    "line\nbreak") == 0);
	T_ASSERT(strcmp(rs.v[1].u.user.roles.v[2], "null") == 0);
	T_ROUNDTRIP(RES_STATE);
	T_ROUNDTRIP(RES_SNAPSHOT);
	T_ROUNDTRIP(RES_ADMIN);
	/* What mcpgatectl get prints: every string of the user quoted. */
	T_ASSERTF(strstr(out, "  roles: [\"r\", \"123\", \"null\"]\n") !=
	    NULL, "%s", out);
	T_ASSERTF(strstr(out, "\"line\\nbreak\"") != NULL, "%s", out);
	T_ASSERTF(strstr(out, "status") == NULL &&
	    strstr(out, "argon2id") == NULL, "%s", out);
}

/* --- the helpers --------------------------------------------------------- */

static void
test_name_ok(void)
{
	static const char	*good[] = {
		"a", "A", "0", "a.b", "a_b", "a-b", "a@b", "_a", "@a", "a.",
		"a-", "a..b", "user@example.org", "ROLE_1",
	};
	static const char	*bad[] = {
		"", ".", "..", ".a", "-a", "a/b", "/", "a b", " a", "a\t",
		"a:b", "a*", "a+b", "a,b", "a\\b", "\xc3\xa9", "a\n", "a'",
		"a\"", "$a", "a%b",
	};
	char	 name[RES_NAMELEN + 2];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_ASSERTF(resource_name_ok(good[i]), "'%s' refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_ASSERTF(!resource_name_ok(bad[i]), "'%s' accepted", bad[i]);
	memset(name, 'a', sizeof(name));
	name[RES_NAMELEN - 1] = '\0';
	T_ASSERT(resource_name_ok(name));
	name[RES_NAMELEN - 1] = 'a';
	name[RES_NAMELEN] = '\0';
	T_ASSERT(!resource_name_ok(name));
	name[0] = '.';
	name[RES_NAMELEN - 1] = '\0';
	T_ASSERT(!resource_name_ok(name));
}

static void
test_pattern_ok(void)
{
	static const char	*good[] = {
		"*", "a", "read_*", "?", "[a-z]*", "$", "a^", "a$", "^$",
		"^a$", "^[a-z]+_file$", "^(read|write)_.*$",
		"{{internal.mcp_tools}}", "{{ internal.mcp_tools }}",
		"{{internal.a}}", "{{internal.0}}", "{{internal._}}",
		"{not a trait}}", "x{{internal.a}}",
	};
	static const char	*bad[] = {
		"", "^", "^a", "^a$x", "^(a$", "^a[$", "^a{1$",
		"{{external.x}}", "{{internal.X}}", "{{internal.}}",
		"{{internal.mcp-tools}}", "{{internal.a}} ", "{{internal.a}",
		"{{internal.a}}}", "{{ internal.a}}", "{{internal.a }}",
		"{{", "{{}}", "{{INTERNAL.a}}",
	};
	char	 p[RES_VALUELEN + 80], err[256];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		T_ASSERTF(pattern_ok(good[i], err, sizeof(err)),
		    "'%s' refused: %s", good[i], err);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 'z', sizeof(err));
		T_ASSERTF(!pattern_ok(bad[i], err, sizeof(err)),
		    "'%s' accepted", bad[i]);
		T_ASSERTF(memchr(err, '\0', sizeof(err)) != NULL &&
		    err[0] != '\0', "'%s': no message", bad[i]);
	}

	T_ASSERT(!pattern_ok("", err, sizeof(err)));
	T_ASSERT(strcmp(err, "a pattern must be 1 to 1024 characters") == 0);
	T_ASSERT(!pattern_ok("^ab", err, sizeof(err)));
	T_ASSERT(strcmp(err, "regular expression '^ab' must end with $ "
	    "(patterns are anchored)") == 0);
	T_ASSERT(!pattern_ok("{{x}}", err, sizeof(err)));
	T_ASSERT(strcmp(err, "'{{x}}' is not a trait: write "
	    "{{internal.NAME}}, for example {{internal.mcp_tools}}") == 0);
	T_ASSERT(!pattern_ok("^(a$", err, sizeof(err)));
	T_ASSERTF(strncmp(err, "regular expression '^(a$': ", 27) == 0 &&
	    strlen(err) > 27, "%s", err);

	/* A trait name of 63 characters, and one of 64. */
	snprintf(p, sizeof(p), "{{internal.%063d}}", 7);
	T_ASSERTF(pattern_ok(p, err, sizeof(err)), "%s", err);
	snprintf(p, sizeof(p), "{{ internal.%063d }}", 7);
	T_ASSERTF(pattern_ok(p, err, sizeof(err)), "%s", err);
	snprintf(p, sizeof(p), "{{internal.%064d}}", 7);
	T_ASSERT(!pattern_ok(p, err, sizeof(err)));

	/* 1024 characters, and 1025. */
	memset(p, 'x', RES_VALUELEN);
	p[RES_VALUELEN] = '\0';
	T_ASSERT(pattern_ok(p, err, sizeof(err)));
	p[0] = '^';
	p[RES_VALUELEN - 1] = '$';
	T_ASSERTF(pattern_ok(p, err, sizeof(err)), "%s", err);
	p[RES_VALUELEN] = 'x';
	p[RES_VALUELEN + 1] = '\0';
	T_ASSERT(!pattern_ok(p, err, sizeof(err)));

	/* A short buffer gets a terminated, truncated message. */
	memset(err, 'z', sizeof(err));
	T_ASSERT(!pattern_ok("^abc", err, 8));
	T_ASSERT(strcmp(err, "regular") == 0 && err[8] == 'z');
	memset(err, 'z', sizeof(err));
	T_ASSERT(!pattern_ok("{{y}}", err, 1));
	T_ASSERT(err[0] == '\0' && err[1] == 'z');
}

static void
test_strlist(void)
{
	struct strlist	 l;
	char		 s[16];
	int		 i;

	memset(&l, 0, sizeof(l));
	T_ASSERT(!strlist_has(&l, "a"));
	strlcpy(s, "first", sizeof(s));
	T_ASSERT(strlist_add(&l, s) == 0);
	s[0] = 'F';
	T_ASSERT(strlist_has(&l, "first") && !strlist_has(&l, "First"));
	T_ASSERT(strlist_add(&l, "") == 0 && strlist_has(&l, ""));
	for (i = 2; i < RES_MAXLIST; i++) {
		snprintf(s, sizeof(s), "v%d", i);
		if (strlist_add(&l, s) != 0)
			break;
	}
	if (l.n != RES_MAXLIST) {
		strlist_free(&l);
		T_ASSERTF(0, "stopped at %d", i);
	}
	i = strlist_add(&l, "one too many");
	if (i != -1 || l.n != RES_MAXLIST ||
	    strlist_has(&l, "one too many")) {
		strlist_free(&l);
		T_ASSERTF(0, "the %dth value was taken", RES_MAXLIST + 1);
	}
	i = strcmp(l.v[RES_MAXLIST - 1], "v255");
	strlist_free(&l);
	T_ASSERT(i == 0);
	T_ASSERT(l.n == 0 && l.v == NULL);
	/* Freed twice, or never filled: harmless. */
	strlist_free(&l);
	T_ASSERT(strlist_add(&l, "again") == 0 && l.n == 1);
	strlist_free(&l);
}

/* The writer's buffer: a hard cap, and once failed, failed for good. */
static void
test_buf(void)
{
	struct buf	 b;
	char		*s;
	size_t		 len = 99;

	buf_init(&b, 0);
	s = buf_release(&b, &len);
	T_ASSERT(s != NULL && s[0] == '\0' && len == 0);
	free(s);

	buf_init(&b, 0);
	T_ASSERT(buf_puts(&b, "kind: ") == 0);
	T_ASSERT(buf_printf(&b, "%s %d", "role", 7) == 0);
	T_ASSERT(buf_add(&b, "xyz", 2) == 0);
	T_ASSERT(b.len == 14 && strcmp(b.data, "kind: role 7xy") == 0);
	s = buf_release(&b, &len);
	T_ASSERT(s != NULL && len == 14 && strcmp(s, "kind: role 7xy") == 0);
	T_ASSERT(b.data == NULL && b.len == 0);
	free(s);

	/* Exactly the cap fits; one byte more fails, and stays failed. */
	buf_init(&b, 8);
	T_ASSERT(buf_puts(&b, "12345678") == 0);
	T_ASSERT(buf_puts(&b, "9") == -1 && b.failed);
	T_ASSERT(buf_puts(&b, "") == -1);
	T_ASSERT(b.len == 8 && strcmp(b.data, "12345678") == 0);
	T_ASSERT(buf_release(&b, &len) == NULL);
	T_ASSERT(b.data == NULL);

	/* Growth past the first allocation keeps every byte. */
	buf_init(&b, 0);
	for (len = 0; len < 1000; len++)
		if (buf_printf(&b, "%03zu", len) == -1)
			break;
	if (len != 1000 || b.len != 3000 || strncmp(b.data + 2997, "999",
	    3) != 0 || b.data[3000] != '\0') {
		size_t	 got = b.len;

		buf_free(&b);
		T_ASSERTF(0, "growth: %zu appends, %zu bytes", len, got);
	}
	buf_free(&b);
	T_ASSERT(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void
test_kind_name(void)
{
	T_ASSERT(strcmp(resource_kind_name(RES_ROLE), "role") == 0);
	T_ASSERT(strcmp(resource_kind_name(RES_USER), "user") == 0);
	T_ASSERT(strcmp(resource_kind_name(RES_TOKEN), "token") == 0);
}

static void
test_clear(void)
{
	struct resource	 r;

	T_GOOD(state_user, RES_STATE);
	T_ASSERT(rs.n == 1);
	r = rs.v[0];
	memset(&rs.v[0], 0, sizeof(rs.v[0]));
	resource_clear(&r);
	T_ASSERT(r.u.user.password[0] == '\0' && r.u.user.roles.v == NULL);
	T_ASSERT(r.u.user.traits == NULL && r.u.user.description == NULL);
	resources_free(&rs);
	T_ASSERT(rs.n == 0 && rs.v == NULL);
	resources_free(&rs);
}

/* --- apps ---------------------------------------------------------------- */

/* Eight lines; more mcp keys go on line 9, column 5. */
#define APP_HEAD	"kind: app\nversion: v1\nmetadata:\n  name: a\n"
#define APP_MCP		APP_HEAD "spec:\n  mcp:\n    command: /bin/true\n" \
			"    run_as_host_user: nobody\n"

/* The issue's example, as a resource. */
static const char full_app[] =
    "kind: app\n"
    "version: v1\n"
    "metadata:\n"
    "  name: everything\n"
    "  description: \"The reference test server\"\n"
    "  labels: {env: dev, team: platform}\n"
    "spec:\n"
    "  uri: mcp+stdio://\n"
    "  mcp:\n"
    "    command: /usr/bin/node\n"
    "    args: [\"/opt/mcp/everything/dist/index.js\", \"stdio\", \"\", "
    "stdio]\n"
    "    run_as_host_user: mcp-everything\n"
    "    env: {LOG_LEVEL: info, EMPTY: \"\", PATH: /opt/node/bin}\n"
    "    cwd: /var/lib/mcp-everything\n"
    "    init_timeout: 1500ms\n"
    "    sandbox:\n"
    "      network: none\n"
    "      read_only_paths: [/usr, /opt/mcp, /etc]\n"
    "      writable_paths: [/var/lib/mcp-everything]\n"
    "      memory_max: 512MiB\n"
    "      tasks_max: 64\n";

static void
test_app_good(void)
{
	const struct app_res	*a;

	T_GOOD(full_app, RES_ADMIN);
	T_ASSERT(rs.n == 1 && rs.v[0].kind == RES_APP);
	a = &rs.v[0].u.app;
	T_ASSERT(strcmp(a->name, "everything") == 0);
	T_ASSERT(strcmp(a->description, "The reference test server") == 0);
	T_ASSERT(a->nlabels == 2 && strcmp(a->labels[1].key, "team") == 0 &&
	    strcmp(a->labels[1].values.v[0], "platform") == 0);
	T_ASSERT(strcmp(a->uri, "mcp+stdio://") == 0);
	T_ASSERT(strcmp(a->command, "/usr/bin/node") == 0);
	/* In order, repeats and "" kept. */
	T_ASSERT(a->args.n == 4 && strcmp(a->args.v[1], "stdio") == 0 &&
	    a->args.v[2][0] == '\0' && strcmp(a->args.v[3], "stdio") == 0);
	T_ASSERT(strcmp(a->run_as, "mcp-everything") == 0);
	T_ASSERT(a->nenv == 3 && strcmp(a->env[1].key, "EMPTY") == 0 &&
	    a->env[1].values.v[0][0] == '\0');
	T_ASSERT(strcmp(a->cwd, "/var/lib/mcp-everything") == 0);
	T_ASSERT(a->init_timeout == 1500);
	T_ASSERT(a->sandbox.network == APP_NET_NONE);
	T_ASSERT(a->sandbox.read_only.n == 3 && a->sandbox.writable.n == 1);
	T_ASSERT(a->sandbox.memory_max == 512ULL * 1024 * 1024);
	T_ASSERT(a->sandbox.tasks_max == 64 && a->sandbox.restricted);
	T_ASSERT(a->from_config == 0);
	T_ASSERT(strcmp(resource_name(&rs.v[0]), "everything") == 0);
	T_ROUNDTRIP(RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(full_app, RES_STATE);
	T_ROUNDTRIP(RES_STATE);
}

static void
test_app_defaults(void)
{
	const struct app_res	*a;

	T_GOOD(APP_MCP, RES_ADMIN);
	a = &rs.v[0].u.app;
	T_ASSERT(strcmp(a->uri, RES_APP_URI_STDIO) == 0);
	T_ASSERT(a->init_timeout == RES_APP_INIT_TIMEOUT);
	T_ASSERT(a->sandbox.network == APP_NET_HOST && !a->sandbox.restricted);
	T_ASSERT(a->sandbox.memory_max == 0 && a->sandbox.tasks_max == 0);
	T_ASSERT(a->cwd == NULL && a->nenv == 0 && a->args.n == 0);
	T_ASSERT(a->description == NULL && a->nlabels == 0);
	T_ROUNDTRIP(RES_ADMIN);
	/* "uri:" with nothing is stdio too. */
	T_GOOD(APP_HEAD "spec:\n  uri:\n  mcp:\n    command: /bin/true\n"
	    "    run_as_host_user: nobody\n", RES_ADMIN);
	T_ASSERT(strcmp(rs.v[0].u.app.uri, RES_APP_URI_STDIO) == 0);
}

/* mcpd's copy: what users see, never how the server runs. */
static void
test_app_snapshot(void)
{
	T_GOOD(full_app, RES_STATE);
	T_ASSERT(write_back(0, RES_SNAPSHOT) == 0);
	T_ASSERTF(back.n == 1, "%s\n%s", list_errors(&back_errs), out);
	T_ASSERTF(strstr(out, "mcp+stdio://") != NULL, "%s", out);
	T_ASSERTF(strstr(out, "platform") != NULL, "%s", out);
	T_ASSERTF(strstr(out, "mcp:") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "node") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "index.js") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "LOG_LEVEL") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "/var/lib") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "mcp-everything") == NULL, "%s", out);
	T_ASSERTF(strstr(out, "/opt") == NULL, "%s", out);
	T_ASSERT(back.v[0].u.app.command == NULL);
	T_ASSERT(back.v[0].u.app.run_as[0] == '\0');
	T_ASSERT(back.v[0].u.app.nlabels == 2);
	/* A snapshot that carries mcp is refused. */
	T_BAD(APP_MCP, RES_SNAPSHOT, "7:5", "'mcp' is the parent's alone");
	/* An app without mcp is only mcpd's. */
	T_GOOD(APP_HEAD "spec:\n  uri: mcp+stdio://\n", RES_SNAPSHOT);
	T_BAD(APP_HEAD "spec:\n  uri: mcp+stdio://\n", RES_ADMIN, "6:3",
	    "app 'a' needs 'mcp' with a command and run_as_host_user");
	T_BAD(APP_HEAD "spec:\n  uri: mcp+stdio://\n", RES_STATE, "6:3",
	    "needs 'mcp'");
}

static void
test_app_bad(void)
{
	static const struct {
		const char	*text;
		const char	*where;
		const char	*phrase;
	} t[] = {
		{ "kind: app\nversion: v1\nmetadata:\n  name: A\nspec: {}\n",
		    "4:9", "must be lowercase letters, digits and '-'" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: -a\nspec: {}\n",
		    "4:9", "not starting with '-'" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: a.b\nspec: {}\n",
		    "4:9", "lowercase letters" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: mcpgate-demo\n"
		    "spec: {}\n", "4:9", "name of the built-in demo server" },
		{ "kind: app\nversion: v1\nmetadata:\n  description: d\n"
		    "spec: {}\n", "4:3", "an app needs a name" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: a\n",
		    "1:1", "missing 'spec'" },
		{ APP_HEAD "spec:\n  mcp:\n    command: /bin/true\n"
		    "    run_as_host_user: nobody\n  uri: https://x/mcp\n",
		    "9:8", "needs the transport in its scheme: mcp+http(s):// "
		    "for Streamable HTTP, mcp+sse+http(s):// for SSE" },
		{ APP_HEAD "spec:\n  mcp:\n    command: /bin/true\n"
		    "    run_as_host_user: nobody\n  uri: ftp://x\n",
		    "9:8", "is not one this gateway takes" },
		{ APP_HEAD "spec:\n  mcp:\n    command: bin/true\n"
		    "    run_as_host_user: nobody\n",
		    "7:14", "'command' must be an absolute path" },
		{ APP_HEAD "spec:\n  mcp:\n    command: /bin/../bin/true\n"
		    "    run_as_host_user: nobody\n",
		    "7:14", "without '.' or '..'" },
		{ APP_HEAD "spec:\n  mcp:\n    command: /bin/true\n"
		    "    run_as_host_user: root\n",
		    "8:23", "may not be root" },
		{ APP_HEAD "spec:\n  mcp:\n    command: /bin/true\n"
		    "    run_as_host_user: \"a b\"\n",
		    "8:23", "not a valid user name" },
		{ APP_HEAD "spec:\n  mcp:\n    command: /bin/true\n",
		    "7:5", "'mcp' needs run_as_host_user" },
		{ APP_HEAD "spec:\n  mcp:\n    run_as_host_user: nobody\n",
		    "7:5", "'mcp' needs a command" },
		{ APP_HEAD "spec:\n  mcp:\n", "6:7", "'mcp' needs command" },
		{ APP_MCP "    env: {HOME: /tmp}\n", "9:11",
		    "'env' may not set HOME" },
		{ APP_MCP "    env: {USER: x}\n", "9:11",
		    "'env' may not set USER" },
		{ APP_MCP "    env: {1X: x}\n", "9:11",
		    "variable '1X' of 'env' must be letters" },
		{ APP_MCP "    env: {A-B: x}\n", "9:11",
		    "variable 'A-B' of 'env'" },
		{ APP_MCP "    env: {A: }\n", "9:14", "'A' in 'env' needs a "
		    "value (\"\" for an empty one)" },
		{ APP_MCP "    env: {A: [x]}\n", "9:14",
		    "'A' must be a single value" },
		{ APP_MCP "    env: {A: x, A: y}\n", "9:17",
		    "'A' appears twice in 'env'" },
		{ APP_MCP "    env: [A]\n", "9:10", "'env' must be a mapping" },
		{ APP_MCP "    cwd: tmp\n", "9:10",
		    "'cwd' must be an absolute path" },
		{ APP_MCP "    init_timeout: 99ms\n", "9:19",
		    "'init_timeout' must be between 100ms and 3600s" },
		{ APP_MCP "    init_timeout: 61m\n", "9:19",
		    "'init_timeout' must be between" },
		{ APP_MCP "    init_timeout: soon\n", "9:19",
		    "'init_timeout' must be a duration" },
		{ APP_MCP "    args: x\n", "9:11", "'args' must be a list" },
		{ APP_MCP "    args: [x, ~]\n", "9:15",
		    "a value of 'args' is null" },
		{ APP_MCP "    args: [[x]]\n", "9:12",
		    "'args' must be a single value" },
		{ APP_MCP "    shell: /bin/sh\n", "9:5",
		    "unknown key 'shell' in 'mcp'" },
		{ APP_MCP "    command: /bin/false\n", "9:5",
		    "duplicate key 'command'" },
		{ APP_MCP "    sandbox: {network: bridge}\n", "9:24",
		    "'network' must be none or host" },
		{ APP_MCP "    sandbox: {read_only_paths: [usr]}\n", "9:33",
		    "'usr' in 'read_only_paths' must be an absolute path" },
		{ APP_MCP "    sandbox: {writable_paths: [/a/./b]}\n", "9:32",
		    "without '.' or '..'" },
		{ APP_MCP "    sandbox: {writable_paths: [/a, /a]}\n", "9:36",
		    "'/a' is listed twice" },
		{ APP_MCP "    sandbox: {memory_max: 1023KiB}\n", "9:27",
		    "'memory_max' must be between 1MiB and 1024GiB" },
		{ APP_MCP "    sandbox: {memory_max: lots}\n", "9:27",
		    "'memory_max' must be a size" },
		{ APP_MCP "    sandbox: {tasks_max: 0}\n", "9:26",
		    "'tasks_max' must be a whole number from 1 to 1000000" },
		{ APP_MCP "    sandbox: {tasks_max: 1000001}\n", "9:26",
		    "'tasks_max' must be a whole number" },
		{ APP_MCP "    sandbox: {cpu: 1}\n", "9:15",
		    "unknown key 'cpu' in 'sandbox'" },
		{ APP_MCP "    sandbox: [x]\n", "9:14",
		    "'sandbox' must be a mapping" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: a\n"
		    "  labels: {env: [a, b]}\n" "spec:\n  mcp:\n"
		    "    command: /bin/true\n    run_as_host_user: nobody\n",
		    "5:17", "'env' must be a single value" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: a\n"
		    "  labels: {env: \"\"}\n" "spec:\n  mcp:\n"
		    "    command: /bin/true\n    run_as_host_user: nobody\n",
		    "5:17", "'env' in 'labels' needs a value" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: a\n"
		    "  labels: {'*': x}\n" "spec:\n  mcp:\n"
		    "    command: /bin/true\n    run_as_host_user: nobody\n",
		    "5:12", "label '*' must be at most 63 letters" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: a\n"
		    "  uri: mcp+stdio://\n" "spec:\n  mcp:\n"
		    "    command: /bin/true\n    run_as_host_user: nobody\n",
		    "5:3", "unknown key 'uri' in an app's metadata" },
		{ APP_MCP "  labels: {a: b}\n", "9:3",
		    "unknown key 'labels' in an app's spec" },
		{ APP_MCP "status: {locked: true}\n", "9:9",
		    "an app has no status or credentials" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_BAD(t[i].text, RES_ADMIN, t[i].where, t[i].phrase);
		if (t_failed_now)
			return;
	}
}

/* Each bound of an app, at the limit and one past it. */
static void
test_app_bounds(void)
{
	static const struct {
		const char	*head;
		const char	*pre, *post;
		int		 admin;
		const char	*where;
		const char	*phrase;
	} t[] = {
		{ APP_MCP "    args:\n", "      - a", "", RES_ADMIN_MAXARGS,
		    "266:9", "more than 256 values in 'args', the most an "
		    "app" },
		{ APP_MCP "    env:\n", "      V", ": x", RES_ADMIN_MAXENV,
		    "74:7", "more than 64 entries in 'env', the most an app" },
		{ APP_MCP "    sandbox:\n      read_only_paths:\n",
		    "        - /p", "", RES_ADMIN_MAXPATHS, "75:11",
		    "more than 64 values in 'read_only_paths', the most" },
		{ APP_MCP "    sandbox:\n      writable_paths:\n",
		    "        - /p", "", RES_ADMIN_MAXPATHS, "75:11",
		    "more than 64 values in 'writable_paths'" },
		{ "kind: app\nversion: v1\nmetadata:\n  name: a\n  labels:\n",
		    "    l", ": v", RES_ADMIN_MAXLABELS, "38:5",
		    "more than 32 entries in 'labels', the most an app" },
	};
	char	*text, *full;
	size_t	 i, len;
	int	 r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		text = many(t[i].head, t[i].pre, t[i].post, t[i].admin);
		if (text == NULL)
			T_SKIP("out of memory");
		/* Labels come before the spec. */
		len = strlen(text) + 128;
		if ((full = malloc(len)) == NULL)
			T_SKIP("out of memory");
		snprintf(full, len, "%s%s", text, i == 4 ? "spec:\n  mcp:\n"
		    "    command: /bin/true\n    run_as_host_user: x\n" : "");
		free(text);
		r = parse(full, RES_ADMIN);
		free(full);
		T_ASSERTF(r == 0, "%d items refused:%s", t[i].admin,
		    all_errors());
		text = many(t[i].head, t[i].pre, t[i].post, t[i].admin + 1);
		len = strlen(text) + 128;
		if ((full = malloc(len)) == NULL)
			T_SKIP("out of memory");
		snprintf(full, len, "%s%s", text, i == 4 ? "spec:\n  mcp:\n"
		    "    command: /bin/true\n    run_as_host_user: x\n" : "");
		free(text);
		r = parse(full, RES_ADMIN);
		free(full);
		T_ASSERTF(r == -1 && find_error(t[i].where, t[i].phrase) != -1,
		    "%d items: %d,%s", t[i].admin + 1, r, all_errors());
	}
}

/* The lengths of one value, and the size of the whole app. */
static void
test_app_too_large(void)
{
	char	*text;
	size_t	 len = 1024 * 1024, off;
	int	 i, r;

	if ((text = malloc(len)) == NULL)
		T_SKIP("out of memory");
	/* An argument of 1024 bytes, then 1025. */
	snprintf(text, len, APP_MCP "    args: [%01024d]\n", 0);
	T_ASSERTF(parse(text, RES_ADMIN) == 0, "%s", all_errors());
	snprintf(text, len, APP_MCP "    args: [%01025d]\n", 0);
	T_ASSERTF(parse(text, RES_ADMIN) == -1 && find_error("9:12",
	    "longer than 1024 bytes") != -1, "%s", all_errors());
	/* A label value of 256 bytes, then 257. */
	snprintf(text, len, APP_HEAD "  labels: {env: %0256d}\n"
	    "spec:\n  mcp:\n    command: /bin/true\n"
	    "    run_as_host_user: nobody\n", 0);
	T_ASSERTF(parse(text, RES_ADMIN) == 0, "%s", all_errors());
	snprintf(text, len, APP_HEAD "  labels: {env: %0257d}\n"
	    "spec:\n  mcp:\n    command: /bin/true\n"
	    "    run_as_host_user: nobody\n", 0);
	T_ASSERTF(parse(text, RES_ADMIN) == -1 && find_error("5:17",
	    "'env' in 'labels' is longer than 256 bytes") != -1, "%s",
	    all_errors());
	/* A command of 1025 bytes. */
	off = (size_t)snprintf(text, len, APP_HEAD "spec:\n  mcp:\n"
	    "    run_as_host_user: nobody\n    command: /");
	memset(text + off, 'c', 1024);
	snprintf(text + off + 1024, len - off - 1024, "\n");
	T_ASSERTF(parse(text, RES_ADMIN) == -1 && find_error("8:14",
	    "'command' is longer than 1024 characters") != -1, "%s",
	    all_errors());
	/* 256 arguments of 300 bytes: over 64 KiB. */
	off = (size_t)snprintf(text, len, APP_MCP "    args:\n");
	for (i = 0; i < RES_ADMIN_MAXARGS; i++)
		off += (size_t)snprintf(text + off, len - off,
		    "      - a%0300d\n", i);
	r = parse(text, RES_ADMIN);
	T_ASSERTF(r == -1 && errs.n == 1 && find_error("227:9", "app 'a' "
	    "holds more than 64 KiB") != -1, "%s", all_errors());
	/* The state directory takes what the gateway wrote. */
	T_ASSERTF(parse(text, RES_STATE) == 0, "%s", all_errors());
	free(text);
}

/* The lengths of names, and the ends of every range, each way. */
static void
test_app_limits(void)
{
	char	 text[4096], n63[64], n64[65], path[1100];

	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'a', 64);
	n64[64] = '\0';
	/* The app's name. */
	snprintf(text, sizeof(text), "kind: app\nversion: v1\nmetadata:\n"
	    "  name: %s\nspec:\n  mcp: {command: /bin/true, "
	    "run_as_host_user: x}\n", n63);
	T_GOOD(text, RES_ADMIN);
	snprintf(text, sizeof(text), "kind: app\nversion: v1\nmetadata:\n"
	    "  name: %s\nspec:\n  mcp: {command: /bin/true, "
	    "run_as_host_user: x}\n", n64);
	T_BAD(text, RES_ADMIN, "4:9", "'name' is longer than 63 characters");
	/* A label's key, an env variable's name. */
	snprintf(text, sizeof(text), APP_HEAD "  labels: {%s: v}\n"
	    "spec:\n  mcp: {command: /bin/true, run_as_host_user: x}\n", n63);
	T_GOOD(text, RES_ADMIN);
	snprintf(text, sizeof(text), APP_HEAD "  labels: {%s: v}\n"
	    "spec:\n  mcp: {command: /bin/true, run_as_host_user: x}\n", n64);
	T_BAD(text, RES_ADMIN, "5:12", "must be at most 63 letters");
	snprintf(text, sizeof(text), APP_MCP "    env: {%s: v}\n", n63);
	T_GOOD(text, RES_ADMIN);
	snprintf(text, sizeof(text), APP_MCP "    env: {%s: v}\n", n64);
	T_BAD(text, RES_ADMIN, "9:11", "at most 63 of them");
	/* run_as_host_user: 32 characters, as useradd allows. */
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  mcp: {command: "
	    "/bin/true, run_as_host_user: %.32s}\n", n63);
	T_GOOD(text, RES_ADMIN);
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  mcp: {command: "
	    "/bin/true, run_as_host_user: %.33s}\n", n63);
	T_BAD(text, RES_ADMIN, "6:47", "not a valid user name");
	/* A path of 1024 bytes, then 1025. */
	path[0] = '/';
	memset(path + 1, 'p', 1023);
	path[1024] = '\0';
	snprintf(text, sizeof(text), APP_MCP "    sandbox: "
	    "{read_only_paths: [%s]}\n", path);
	T_GOOD(text, RES_ADMIN);
	snprintf(text, sizeof(text), APP_MCP "    sandbox: "
	    "{read_only_paths: [%sp]}\n", path);
	T_BAD(text, RES_ADMIN, "9:33", "longer than 1024 characters");
	/* The ends of each range are in it. */
	T_GOOD(APP_MCP "    init_timeout: 100ms\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.init_timeout == 100);
	T_GOOD(APP_MCP "    init_timeout: 1h\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.init_timeout == 3600 * 1000);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(APP_MCP "    sandbox: {memory_max: 1MiB, tasks_max: 1}\n",
	    RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(APP_MCP "    sandbox: {memory_max: 1TiB, tasks_max: 1000000}\n",
	    RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.sandbox.memory_max == 1ULL << 40);
	T_ROUNDTRIP(RES_STATE);
	T_BAD(APP_MCP "    sandbox: {memory_max: 1025GiB}\n", RES_ADMIN,
	    "9:27", "'memory_max' must be between");
	/* A size and a duration that are not whole units come back. */
	T_GOOD(APP_MCP "    init_timeout: 1500ms\n    sandbox: {memory_max: "
	    "1048577}\n", RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
	T_ROUNDTRIP(RES_ADMIN);
}

/* Apps mix with roles and users in one stream; mode rules hold. */
static void
test_app_in_stream(void)
{
	T_GOOD(ROLE_HEAD "spec: {}\n---\n" APP_MCP "---\n" USER_HEAD
	    "spec: {roles: [r]}\n", RES_ADMIN);
	T_ASSERT(rs.n == 3 && rs.v[1].kind == RES_APP);
	T_ASSERT(strcmp(resource_kind_name(RES_APP), "app") == 0);
	T_BAD("kind: gadget\nversion: v1\nmetadata: {name: a}\n", RES_ADMIN,
	    "1:7", "(role, user or app)");
	T_BAD(APP_HEAD "spec: {}\n", RES_ADMIN, "5:7", "needs 'mcp'");
	T_BAD("kind: app\nversion: v2\nmetadata:\n  name: a\nspec: {}\n",
	    RES_ADMIN, "2:10", "unsupported version");
}

static void
test_app_clear(void)
{
	struct resource	 r;

	T_GOOD(full_app, RES_STATE);
	r = rs.v[0];
	memset(&rs.v[0], 0, sizeof(rs.v[0]));
	resource_clear(&r);
	T_ASSERT(r.u.app.command == NULL && r.u.app.args.v == NULL);
	T_ASSERT(r.u.app.env == NULL && r.u.app.labels == NULL);
	T_ASSERT(app_name_ok("a-1") && !app_name_ok("-a"));
	T_ASSERT(!app_name_ok("mcpgate-demo") && !app_name_ok("A"));
	T_ASSERT(!app_name_ok("") && !app_name_ok("a_b"));
}

/* --- HTTP and SSE apps --------------------------------------------------- */

#define HTTP_HEAD	APP_HEAD "spec:\n  uri: mcp+https://h.example/mcp\n"
#define HDRS		HTTP_HEAD "  rewrite:\n    headers: "

/* The issue's example, as a resource. */
static const char http_app[] =
    "kind: app\n"
    "version: v1\n"
    "metadata:\n"
    "  name: tickets\n"
    "  description: \"Ticket system\"\n"
    "  labels: {env: prod}\n"
    "spec:\n"
    "  uri: mcp+https://tickets.internal.example:8443/mcp\n"
    "  tls:\n"
    "    ca_file: /etc/mcpgate/tickets-ca.pem\n"
    "    insecure_skip_verify: false\n"
    "  rewrite:\n"
    "    jwt_claims: roles-and-traits\n"
    "    headers:\n"
    "    - \"Authorization: Bearer {{internal.jwt}}\"\n"
    "    - \"X-Mcpgate-User: {{internal.user}}\"\n"
    "    - \"X-Team: {{external.team}}\"\n"
    "    - \"X-Api-Key: s3cret-key\"\n"
    "  timeout: 60s\n";

static void
test_app_http_good(void)
{
	const struct app_res	*a;
	const struct app_remote	*r;

	T_GOOD(http_app, RES_ADMIN);
	a = &rs.v[0].u.app;
	r = &a->remote;
	T_ASSERT(a->transport == APP_HTTP);
	T_ASSERT(strcmp(a->uri, "mcp+https://tickets.internal.example:8443/"
	    "mcp") == 0);
	T_ASSERT(r->tls && r->port == 8443);
	T_ASSERT(strcmp(r->host, "tickets.internal.example") == 0);
	T_ASSERT(strcmp(r->path, "/mcp") == 0);
	T_ASSERT(strcmp(r->url, "https://tickets.internal.example:8443/mcp") ==
	    0);
	T_ASSERT(strcmp(r->ca_file, "/etc/mcpgate/tickets-ca.pem") == 0);
	T_ASSERT(!r->insecure && r->jwt_claims == APP_JWT_ROLES_TRAITS);
	T_ASSERT(r->headers.n == 4 && strcmp(r->headers.v[2],
	    "X-Team: {{external.team}}") == 0);
	T_ASSERT(r->timeout == 60000);
	T_ASSERT(a->command == NULL && a->run_as[0] == '\0');
	T_ROUNDTRIP(RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
	/* What get prints holds all of it. */
	T_ASSERT(write_back(0, RES_ADMIN) == 0);
	T_ASSERTF(strstr(out, "ca_file: \"/etc/mcpgate/tickets-ca.pem\"") !=
	    NULL && strstr(out, "insecure_skip_verify: false") != NULL &&
	    strstr(out, "jwt_claims: roles-and-traits") != NULL &&
	    strstr(out, "\"X-Api-Key: s3cret-key\"") != NULL &&
	    strstr(out, "timeout: 60s") != NULL && strstr(out, "mcp:") ==
	    NULL, "%s", out);
	/* The defaults, and SSE. */
	T_GOOD(APP_HEAD "spec:\n  uri: mcp+sse+http://127.0.0.1:3001/sse\n",
	    RES_ADMIN);
	a = &rs.v[0].u.app;
	T_ASSERT(a->transport == APP_SSE && !a->remote.tls);
	T_ASSERT(a->remote.timeout == APP_TIMEOUT_DEF);
	T_ASSERT(a->remote.jwt_claims == APP_JWT_ROLES_TRAITS);
	T_ASSERT(a->remote.headers.n == 0 && a->remote.ca_file == NULL);
	T_ASSERT(a->init_timeout == 0);
	T_ROUNDTRIP(RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
	T_ASSERT(write_back(0, RES_ADMIN) == 0);
	T_ASSERTF(strstr(out, "tls") == NULL, "%s", out);
	/* Each jwt_claims. */
	T_GOOD(HTTP_HEAD "  rewrite: {jwt_claims: roles}\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.remote.jwt_claims == APP_JWT_ROLES);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(HTTP_HEAD "  rewrite: {jwt_claims: traits}\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.remote.jwt_claims == APP_JWT_TRAITS);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(HTTP_HEAD "  rewrite: {jwt_claims: none}\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.remote.jwt_claims == APP_JWT_NONE);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(HTTP_HEAD "  tls: {insecure_skip_verify: true}\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.remote.insecure);
	T_ROUNDTRIP(RES_STATE);
	/* Empty tls and rewrite are nothing. */
	T_GOOD(HTTP_HEAD "  tls:\n  rewrite:\n", RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
}

/* mcpd's copy: the uri that says the type, nothing of how it is reached. */
static void
test_app_http_snapshot(void)
{
	T_GOOD(http_app, RES_STATE);
	T_ASSERT(write_back(0, RES_SNAPSHOT) == 0);
	T_ASSERTF(back.n == 1, "%s\n%s", list_errors(&back_errs), out);
	T_ASSERTF(strstr(out, "mcp+https://tickets.internal.example:8443/mcp")
	    != NULL, "%s", out);
	T_ASSERTF(strstr(out, "tls") == NULL && strstr(out, "ca_file") ==
	    NULL && strstr(out, "rewrite") == NULL && strstr(out,
	    "Authorization") == NULL && strstr(out, "s3cret") == NULL &&
	    strstr(out, "timeout") == NULL, "%s", out);
	T_ASSERT(back.v[0].u.app.transport == APP_HTTP);
	T_ASSERT(back.v[0].u.app.remote.headers.n == 0);
	T_BAD(HTTP_HEAD "  tls: {insecure_skip_verify: true}\n", RES_SNAPSHOT,
	    "7:8", "'tls' is the parent's alone");
	T_BAD(HTTP_HEAD "  rewrite: {jwt_claims: none}\n", RES_SNAPSHOT,
	    "7:12", "'rewrite' is the parent's alone");
	T_BAD(HTTP_HEAD "  timeout: 5s\n", RES_SNAPSHOT, "7:12",
	    "'timeout' is the parent's alone");
	T_GOOD(APP_HEAD "spec:\n  uri: mcp+sse+https://h/sse\n", RES_SNAPSHOT);
	T_ASSERT(rs.v[0].u.app.transport == APP_SSE);
	T_ROUNDTRIP(RES_SNAPSHOT);
}

/* Each form of uri, and what it gives. */
static void
test_app_uri_forms(void)
{
	static const struct {
		const char	*uri;
		int		 transport, tls;
		const char	*host;
		int		 port;
		const char	*path, *url;
	} t[] = {
		{ "mcp+http://h", APP_HTTP, 0, "h", 80, "/", "http://h/" },
		{ "mcp+https://H.Example.ORG/mcp", APP_HTTP, 1,
		    "h.example.org", 443, "/mcp", "https://h.example.org/mcp" },
		{ "mcp+sse+http://127.0.0.1:3001/sse", APP_SSE, 0,
		    "127.0.0.1", 3001, "/sse", "http://127.0.0.1:3001/sse" },
		{ "mcp+sse+https://[::1]:8443/sse?x=1&y=%2F", APP_SSE, 1,
		    "::1", 8443, "/sse?x=1&y=%2F",
		    "https://[::1]:8443/sse?x=1&y=%2F" },
		{ "mcp+https://[FE80::1]/", APP_HTTP, 1, "fe80::1", 443, "/",
		    "https://[fe80::1]/" },
		{ "mcp+https://[::ffff:1.2.3.4]/", APP_HTTP, 1,
		    "::ffff:1.2.3.4", 443, "/", "https://[::ffff:1.2.3.4]/" },
		{ "mcp+https://h:443/", APP_HTTP, 1, "h", 443, "/",
		    "https://h:443/" },
		{ "mcp+http://h?q=1", APP_HTTP, 0, "h", 80, "/?q=1",
		    "http://h/?q=1" },
		{ "mcp+http://h:1/a/b;c=d/@:!$&'()*+,~._-", APP_HTTP, 0, "h",
		    1, "/a/b;c=d/@:!$&'()*+,~._-",
		    "http://h:1/a/b;c=d/@:!$&'()*+,~._-" },
		{ "mcp+http://h:65535/x?a?b/c", APP_HTTP, 0, "h", 65535,
		    "/x?a?b/c", "http://h:65535/x?a?b/c" },
		{ "mcp+http://0.0.0.0/", APP_HTTP, 0, "0.0.0.0", 80, "/",
		    "http://0.0.0.0/" },
		{ "mcp+http://1a.example.123a/", APP_HTTP, 0,
		    "1a.example.123a", 80, "/", "http://1a.example.123a/" },
		{ "mcp+http://a-b.c--d.e/", APP_HTTP, 0, "a-b.c--d.e", 80, "/",
		    "http://a-b.c--d.e/" },
	};
	char		 text[2048];
	size_t		 i;
	const struct app_res *a;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: \"%s\"\n",
		    t[i].uri);
		T_GOOD(text, RES_ADMIN);
		a = &rs.v[0].u.app;
		T_ASSERTF(a->transport == t[i].transport &&
		    a->remote.tls == t[i].tls &&
		    strcmp(a->remote.host, t[i].host) == 0 &&
		    a->remote.port == t[i].port &&
		    strcmp(a->remote.path, t[i].path) == 0 &&
		    strcmp(a->remote.url, t[i].url) == 0 &&
		    strcmp(a->uri, t[i].uri) == 0, "%s: %d %d %s %d %s %s",
		    t[i].uri, a->transport, a->remote.tls, a->remote.host,
		    a->remote.port, a->remote.path, a->remote.url);
		T_ROUNDTRIP(RES_STATE);
	}
}

/* Each mistake in a uri, named. */
static void
test_app_uri_bad(void)
{
	static const struct {
		const char	*uri;
		const char	*phrase;
	} t[] = {
		{ "mcp+ftp://h/", "is not one this gateway takes "
		    "(mcp+stdio://, mcp+http://, mcp+https://, "
		    "mcp+sse+http:// or mcp+sse+https://)" },
		{ "mcp+stdio://x", "is not one this gateway takes" },
		{ "MCP+HTTPS://h/", "is not one this gateway takes" },
		{ "mcp+https//h/", "is not one this gateway takes" },
		{ "http://h/mcp", "needs the transport in its scheme" },
		{ "https://h/mcp", "needs the transport in its scheme" },
		{ "mcp+https://user:pw@h/", "holds user information "
		    "(user:password@): credentials belong in rewrite.headers" },
		{ "mcp+https://@h/", "holds user information" },
		{ "mcp+https://h/a@b", NULL },
		{ "mcp+https:///mcp", "has no host" },
		{ "mcp+https://", "has no host" },
		{ "mcp+https://?x", "has no host" },
		{ "mcp+https://:8443/", "has no host" },
		{ "mcp+https://::1/", "has no host" },
		{ "mcp+https://h:0/", "the port must be a number from 1 to "
		    "65535" },
		{ "mcp+https://h:65536/", "the port must be" },
		{ "mcp+https://h:99999/", "the port must be" },
		{ "mcp+https://h:123456/", "the port must be" },
		{ "mcp+https://h:/", "the port must be" },
		{ "mcp+https://h:08443/", "the port must be" },
		{ "mcp+https://h:x/", "the port must be" },
		{ "mcp+https://h:-1/", "the port must be" },
		{ "mcp+https://h:1:2/", "the port must be" },
		{ "mcp+https://h/mcp#top", "has a fragment (#...), which is "
		    "never sent to a server" },
		{ "mcp+https://h#", "has a fragment" },
		{ "mcp+https://h/\\x01", "holds a space or a control character "
		    "(byte 15): percent-encode it" },
		{ "mcp+https://h/a\\tb", "a space or a control character "
		    "(byte 16)" },
		{ "mcp+https://h/\\x7f", "a control character" },
		{ "mcp+https://h/\\u00e9", "holds a byte that is not ASCII "
		    "(byte 15)" },
		{ "mcp+https://h/a<b", "'<' is not allowed in a path or query: "
		    "percent-encode it" },
		{ "mcp+https://h/a\\\\b", "'\\' is not allowed" },
		{ "mcp+https://h/{x}", "'{' is not allowed" },
		{ "mcp+https://h/a|b", "'|' is not allowed" },
		{ "mcp+https://h/a\\\"b", "'\"' is not allowed" },
		{ "mcp+https://h/%zz", "a '%' must start two hex digits" },
		{ "mcp+https://h/%4", "a '%' must start two hex digits" },
		{ "mcp+https://h/%", "a '%' must start two hex digits" },
		{ "mcp+https://-h/", "host '-h' is not a DNS name" },
		{ "mcp+https://h-/", "host 'h-' is not a DNS name" },
		{ "mcp+https://a.-b/", "is not a DNS name" },
		{ "mcp+https://h_x/", "host 'h_x' is not a DNS name" },
		{ "mcp+https://h%41/", "is not a DNS name" },
		{ "mcp+https://a..b/", "host 'a..b' has an empty label (a '.' "
		    "too many)" },
		{ "mcp+https://.a/", "has an empty label" },
		{ "mcp+https://h./", "host 'h.' has an empty label (a '.' at "
		    "its end)" },
		{ "mcp+https://256.1.1.1/", "host '256.1.1.1' is not an IPv4 "
		    "address" },
		{ "mcp+https://1.2.3/", "is not an IPv4 address" },
		{ "mcp+https://01.2.3.4/", "is not an IPv4 address" },
		{ "mcp+https://example.123/", "is not an IPv4 address" },
		{ "mcp+https://[::1/", "an IPv6 address opened with '[' needs "
		    "its ']'" },
		{ "mcp+https://[::g]/", "'::g' is not an IPv6 address" },
		{ "mcp+https://[]/", "'' is not an IPv6 address" },
		{ "mcp+https://[1.2.3.4]/", "is not an IPv6 address" },
		{ "mcp+https://[fe80::1%25eth0]/", "is not an IPv6 address" },
		{ "mcp+https://[::1]x/", "'x' after the host" },
		{ "mcp+https://h]/", "an IPv6 address goes in brackets" },
		{ "mcp+https://h[::1]/", "an IPv6 address goes in brackets" },
	};
	char	 text[2048];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: \"%s\"\n",
		    t[i].uri);
		if (t[i].phrase == NULL) {
			/* '@' in a path is no user information. */
			T_GOOD(text, RES_ADMIN);
			continue;
		}
		T_BAD(text, RES_ADMIN, "6:8", t[i].phrase);
		if (t_failed_now)
			return;
	}
}

/* The lengths of a uri: its labels, its name, the whole. */
static void
test_app_uri_lengths(void)
{
	char	 text[4096], l63[64], l64[65], uri[1100];
	size_t	 n;

	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: mcp+http://%s/\n",
	    l63);
	T_GOOD(text, RES_ADMIN);
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: mcp+http://%s/\n",
	    l64);
	T_BAD(text, RES_ADMIN, "6:8", "a label of host '" "aaaa");
	T_ASSERT(strstr(errs.msg[0], "is longer than 63 bytes") != NULL);
	/* 253 bytes of name, then 254. */
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: mcp+http://"
	    "%s.%s.%s.%.61s/\n", l63, l63, l63, l63);
	T_GOOD(text, RES_ADMIN);
	T_ASSERT(strlen(rs.v[0].u.app.remote.host) == 253);
	T_ROUNDTRIP(RES_STATE);
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: mcp+http://"
	    "%s.%s.%s.%.62s/\n", l63, l63, l63, l63);
	T_BAD(text, RES_ADMIN, "6:8", "the host name is longer than 253 "
	    "bytes");
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: mcp+http://"
	    "%s.%s.%s.%s.%s/\n", l63, l63, l63, l63, l63);
	T_BAD(text, RES_ADMIN, "6:8", "the host name is longer than 253");
	/* A uri of 1024 bytes, then 1025. */
	n = (size_t)snprintf(uri, sizeof(uri), "mcp+http://h/");
	memset(uri + n, 'p', 1024 - n);
	uri[1024] = '\0';
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: %s\n", uri);
	T_GOOD(text, RES_ADMIN);
	T_ASSERT(strlen(rs.v[0].u.app.remote.path) == 1024 - 12);
	T_ROUNDTRIP(RES_STATE);
	snprintf(text, sizeof(text), APP_HEAD "spec:\n  uri: %sp\n", uri);
	T_BAD(text, RES_ADMIN, "6:8", "is longer than 1024 bytes");
}

/* What goes with which uri, and the keys of tls, rewrite and timeout. */
static void
test_app_http_bad(void)
{
	static const struct {
		const char	*text;
		const char	*where;
		const char	*phrase;
	} t[] = {
		{ HTTP_HEAD "  mcp:\n    command: /bin/true\n"
		    "    run_as_host_user: nobody\n", "8:5",
		    "an HTTP app has no mcp: block, it runs nowhere: its "
		    "server is at https://h.example/mcp" },
		{ APP_HEAD "spec:\n  uri: mcp+sse+http://h/sse\n  mcp: {}\n",
		    "7:8", "an HTTP app has no mcp: block" },
		{ APP_HEAD "spec:\n  uri: mcp+http://h/\n  tls: "
		    "{insecure_skip_verify: false}\n", "7:8", "'tls' is for an "
		    "https server: uri mcp+http://h/ is plain http" },
		{ APP_HEAD "spec:\n  tls: {ca_file: /ca.pem}\n  uri: "
		    "mcp+sse+http://h/\n", "6:8", "'tls' is for an https "
		    "server" },
		{ APP_MCP "  tls: {insecure_skip_verify: true}\n", "9:8",
		    "'tls' is for HTTP and SSE apps: app 'a' is a stdio server "
		    "(uri mcp+stdio://)" },
		{ APP_MCP "  rewrite: {jwt_claims: none}\n", "9:12",
		    "'rewrite' is for HTTP and SSE apps" },
		{ APP_MCP "  timeout: 5s\n", "9:12",
		    "'timeout' is for HTTP and SSE apps" },
		{ APP_MCP "  uri: mcp+stdio://\n  timeout: 5s\n", "10:12",
		    "'timeout' is for HTTP and SSE apps" },
		{ HTTP_HEAD "  tls: {ca_file: ca.pem}\n", "7:18",
		    "'ca_file' must be an absolute path" },
		{ HTTP_HEAD "  tls: {ca_file: /a/../ca.pem}\n", "7:18",
		    "without '.' or '..'" },
		{ HTTP_HEAD "  tls: {insecure_skip_verify: maybe}\n", "7:31",
		    "'insecure_skip_verify' must be true or false" },
		{ HTTP_HEAD "  tls: {verify: false}\n", "7:9",
		    "unknown key 'verify' in 'tls' (expected ca_file or "
		    "insecure_skip_verify)" },
		{ HTTP_HEAD "  tls: [a]\n", "7:8", "'tls' must be a mapping" },
		{ HTTP_HEAD "  tls: {ca_file: /a, ca_file: /b}\n", "7:22",
		    "duplicate key 'ca_file'" },
		{ HTTP_HEAD "  rewrite: {jwt_claims: all}\n", "7:25",
		    "'jwt_claims' must be roles-and-traits, roles, traits or "
		    "none, not 'all'" },
		{ HTTP_HEAD "  rewrite: {jwt_claims: [roles]}\n", "7:25",
		    "'jwt_claims' must be a single value" },
		{ HTTP_HEAD "  rewrite: {header: []}\n", "7:13",
		    "unknown key 'header' in 'rewrite' (expected jwt_claims or "
		    "headers)" },
		{ HTTP_HEAD "  rewrite: x\n", "7:12",
		    "'rewrite' must be a mapping" },
		{ HDRS "\"X-A: b\"\n", "8:14",
		    "'headers' must be a list of \"Name: value\" templates" },
		{ HDRS "{X-A: b}\n", "8:14",
		    "'headers' must be a list" },
		{ HDRS "[[a]]\n", "8:15",
		    "'headers' must be a single value" },
		{ HDRS "[\"\"]\n", "8:15",
		    "a header of 'headers' is empty" },
		{ HDRS "[~]\n", "8:15",
		    "a header of 'headers' is empty" },
		{ HDRS "[\"Host: x\"]\n", "8:15",
		    "header Host is one the gateway sets itself" },
		{ HDRS "[\"mcp-session-id: x\"]\n",
		    "8:15", "header mcp-session-id is one the gateway sets" },
		{ HDRS "[\"X-A: {{internal.jwt\"]\n",
		    "8:15", "header X-A: '{{internal.jwt' opens a placeholder "
		    "with '{{' that no '}}' closes" },
		{ HDRS "[\"X-A: {{internal.pw}}\"]\n",
		    "8:15", "header X-A: '{{internal.pw}}' is not a "
		    "placeholder" },
		{ HDRS "[\"X-A: a\\rb\"]\n",
		    "8:15", "control character 0x0d" },
		{ HDRS "[\"X-A\"]\n", "8:15",
		    "has no ':'" },
		{ HDRS "[\"X-A: a\", \"x-a: b\"]\n",
		    "8:25", "header x-a is given twice (names are the same "
		    "whatever their case)" },
		{ HTTP_HEAD "  timeout: 999ms\n", "7:12",
		    "'timeout' must be between 1000ms and 3600s" },
		{ HTTP_HEAD "  timeout: 61m\n", "7:12",
		    "'timeout' must be between" },
		{ HTTP_HEAD "  timeout: 0\n", "7:12", "'timeout'" },
		{ HTTP_HEAD "  timeout: soon\n", "7:12",
		    "'timeout' must be a duration" },
		{ HTTP_HEAD "  uri: mcp+http://h/\n", "7:3",
		    "duplicate key 'uri'" },
		{ HTTP_HEAD "  command: /bin/true\n", "7:3",
		    "unknown key 'command' in an app's spec (expected uri, "
		    "tls, rewrite, timeout or mcp)" },
		{ APP_HEAD "spec:\n  uri: mcp+http://h/\n  mcp:\n", "7:7",
		    "an HTTP app has no mcp: block" },
		{ APP_HEAD "spec:\n  mcp: {command: x}\n  uri: mcp+http://h/\n",
		    "6:8", "an HTTP app has no mcp: block" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_BAD(t[i].text, RES_ADMIN, t[i].where, t[i].phrase);
		if (t_failed_now)
			return;
	}
}

/* rewrite.headers: APP_HEADERS_MAX of APP_HEADER_MAX bytes, one more. */
static void
test_app_http_bounds(void)
{
	char	*text, hdr[APP_HEADER_MAX + 2];
	size_t	 len = 128 * 1024, off;
	int	 i;

	if ((text = malloc(len)) == NULL)
		T_SKIP("out of memory");
	off = (size_t)snprintf(text, len, HTTP_HEAD "  rewrite:\n"
	    "    headers:\n");
	for (i = 0; i < APP_HEADERS_MAX; i++)
		off += (size_t)snprintf(text + off, len - off,
		    "    - \"X-H%d: {{external.t%d}}\"\n", i, i);
	T_ASSERTF(parse(text, RES_ADMIN) == 0, "%s", all_errors());
	T_ASSERT(rs.v[0].u.app.remote.headers.n == APP_HEADERS_MAX);
	T_ROUNDTRIP(RES_STATE);
	snprintf(text + off, len - off, "    - \"X-Over: x\"\n");
	T_ASSERTF(parse(text, RES_ADMIN) == -1 && errs.n == 1 &&
	    find_error("41:7", "more than 32 headers in 'headers'") != -1,
	    "%s", all_errors());
	/* The state directory holds no more. */
	T_ASSERT(parse(text, RES_STATE) == -1);
	/* One header of 1024 bytes, then 1025. */
	memcpy(hdr, "X-Big: ", 7);
	memset(hdr + 7, 'v', APP_HEADER_MAX - 7);
	hdr[APP_HEADER_MAX] = '\0';
	snprintf(text, len, HDRS "[\"%s\"]\n",
	    hdr);
	T_ASSERTF(parse(text, RES_ADMIN) == 0, "%s", all_errors());
	T_ROUNDTRIP(RES_STATE);
	hdr[APP_HEADER_MAX] = 'v';
	hdr[APP_HEADER_MAX + 1] = '\0';
	snprintf(text, len, HDRS "[\"%s\"]\n",
	    hdr);
	T_ASSERTF(parse(text, RES_ADMIN) == -1 && find_error("8:15",
	    "a header of 'headers' is longer than 1024 bytes") != -1, "%s",
	    all_errors());
	/* The ends of timeout. */
	T_GOOD(HTTP_HEAD "  timeout: 1s\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.remote.timeout == 1000);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(HTTP_HEAD "  timeout: 1h\n", RES_ADMIN);
	T_ASSERT(rs.v[0].u.app.remote.timeout == 3600 * 1000);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(HTTP_HEAD "  timeout: 1500ms\n", RES_ADMIN);
	T_ROUNDTRIP(RES_STATE);
	T_ROUNDTRIP(RES_ADMIN);
	free(text);
}

/* What an HTTP app holds is freed, and its templates zeroed first. */
static void
test_app_http_clear(void)
{
	struct resource	 r;

	T_GOOD(http_app, RES_STATE);
	r = rs.v[0];
	memset(&rs.v[0], 0, sizeof(rs.v[0]));
	resource_clear(&r);
	T_ASSERT(r.u.app.remote.url == NULL && r.u.app.remote.path == NULL);
	T_ASSERT(r.u.app.remote.ca_file == NULL);
	T_ASSERT(r.u.app.remote.headers.v == NULL);
}

/*
 * --- problems found while writing these tests ----------------------------
 *
 * Each test below failed against the code it was written for; those that
 * pass now guard the fix.
 */

/*
 * "metadata:" with nothing, and a token's "spec:" with nothing, were
 * refused without any message of their own: resource_parse() then said
 * "out of memory", with no line.
 */
static void
test_null_metadata_message(void)
{
	T_BAD("kind: role\nversion: v1\nmetadata:\n", RES_ADMIN, "3:10",
	    "metadata");
	T_ASSERTF(strstr(errs.msg[0], "out of memory") == NULL, "%s",
	    errs.msg[0]);
}

static void
test_null_token_spec_message(void)
{
	T_BAD(TOKEN_HEAD "spec:\n", RES_STATE, "5:6", "spec");
	T_ASSERTF(strstr(errs.msg[0], "out of memory") == NULL, "%s",
	    errs.msg[0]);
}

/*
 * libyaml's reader errors (control characters, bad UTF-8) set
 * problem_offset, not problem_mark: ydoc_parse_stream() reported them at
 * 1:1 whatever the line.
 */
static void
test_reader_error_position(void)
{
	T_BAD(ROLE_HEAD "  description: a\x7f" "b\n", RES_ADMIN, "5:17",
	    "YAML syntax error: control characters are not allowed");
	T_BAD(ROLE_HEAD "  description: a\xff" "b\n", RES_ADMIN, "5:17",
	    "YAML syntax error: invalid leading UTF-8 octet");
	/* Columns count characters, as libyaml's marks do. */
	T_BAD(ROLE_HEAD "  description: \xc3\xa9\xe4\xb8\xad\x7f\n",
	    RES_ADMIN, "5:18", "YAML syntax error: control characters");
	T_BAD(ROLE_HEAD "  description: \xc3\xa9\xe4\xb8\xad: x\n",
	    RES_ADMIN, "5:18", "YAML syntax error: mapping values");
	T_BAD("kind: role\r\nversion: v1\r\nmetadata:\r\n  name: r\r\n"
	    "  description: a\x7f\r\n", RES_ADMIN, "5:17",
	    "YAML syntax error: control characters");
}

/*
 * A lone CR ends a line for libyaml; ydoc_syntax_error() counts only LF
 * when it turns a reader error's offset into a line.
 */
static void
test_reader_error_position_cr(void)
{
	T_BAD("kind: role\rversion: v1\rmetadata:\r  name: r\r"
	    "  description: a: b\r", RES_ADMIN, "5:17",
	    "YAML syntax error: mapping values");
	T_BAD("kind: role\rversion: v1\rmetadata:\r  name: r\r"
	    "  description: a\x7f\r", RES_ADMIN, "5:17",
	    "YAML syntax error: control characters");
}

/*
 * The writer emitted jansson's JSON string, which leaves DEL, the C1
 * controls and U+FFFE/U+FFFF unescaped: libyaml's reader refuses them
 * raw, so the file written did not parse back.
 */
static void
test_roundtrip_control_characters(void)
{
	static const char	*esc[] = {
		"\\x7f", "\\x80", "\\x9f", "\\ufffe", "\\uffff",
	};
	char	 text[256];
	size_t	 i;

	for (i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		snprintf(text, sizeof(text), ROLE_HEAD "  description: "
		    "\"a%sb\"\n", esc[i]);
		T_GOOD(text, RES_ADMIN);
		T_ASSERTF(write_back(0, RES_ADMIN) == 0, "\"a%sb\" written "
		    "does not parse back:%s\n%s", esc[i],
		    list_errors(&back_errs), out);
		T_ASSERT(res_diff(&rs.v[0], &back.v[0], RES_ADMIN) == NULL);
	}
}

/*
 * NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR were written raw too, and
 * YAML reads them as line breaks inside a quoted scalar: folded to a
 * space, or with the blanks around them dropped.
 */
static void
test_roundtrip_line_separators(void)
{
	static const char	*esc[] = {
		"a\\x85b", "a \\u2028 b", "a \\u2029 b", "a \\x85 b",
	};
	char		 text[256];
	const char	*d;
	size_t		 i;

	for (i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		snprintf(text, sizeof(text), ROLE_HEAD "  description: "
		    "\"%s\"\n", esc[i]);
		T_GOOD(text, RES_ADMIN);
		T_ASSERT(write_back(0, RES_ADMIN) == 0 && back.n == 1);
		d = back.v[0].u.role.description;
		T_ASSERTF(strcmp(rs.v[0].u.role.description, d) == 0,
		    "\"%s\" came back as \"%s\" (%zu bytes, %zu before)",
		    esc[i], d, strlen(d),
		    strlen(rs.v[0].u.role.description));
	}
}

/*
 * Years 0000 to 0999 are read, but put_time() wrote them with "%Y",
 * without leading zeros ("999-01-01T00:00:00Z"), which is refused; and
 * 9999-12-31T23:59:60Z, read as the next second, was written as year
 * 10000, then as 9999-12-31T23:59:59Z, a second earlier than was read.
 * A time is either refused, with its place, or kept.
 */
static void
test_roundtrip_years(void)
{
	T_GOOD(USER_HEAD "status:\n  created: 0999-01-01T00:00:00Z\n",
	    RES_STATE);
	T_ROUNDTRIP(RES_STATE);
	T_GOOD(TOKEN_HEAD "spec:\n  type: app\n  created: "
	    "0001-01-01T00:00:00Z\n  expires: 2026-01-01T00:00:00Z\n  hash: "
	    HASH64 "\n", RES_STATE);
	T_ROUNDTRIP(RES_STATE);
	if (parse(USER_HEAD "status:\n  created: 9999-12-31T23:59:60Z\n",
	    RES_STATE) == -1) {
		T_ASSERTF(errs.n == 1 && find_error("6:12", "'created'") == 0,
		    "%s", all_errors());
		return;
	}
	T_ROUNDTRIP(RES_STATE);
}

/*
 * A time is kept to the second: 1.5 s before 1970 is -2 s, the second
 * it falls in, as 1.5 s after is 1 s.  get_time() divided towards zero
 * and made it -1 s, half a second after the time written.
 */
static void
test_time_before_1970_fraction(void)
{
	T_GOOD(USER_HEAD "status:\n  created: 1970-01-01T00:00:01.5Z\n",
	    RES_STATE);
	T_ASSERT(rs.v[0].u.user.created == 1);
	T_GOOD(USER_HEAD "status:\n  created: 1969-12-31T23:59:58.5Z\n",
	    RES_STATE);
	T_ASSERTF(rs.v[0].u.user.created == -2, "created %lld",
	    (long long)rs.v[0].u.user.created);
}

/*
 * Values with a NUL byte were refused, keys were not: a key was read up
 * to its NUL, so "spec\0x" was taken as spec and "env\0x" as the label
 * env.
 */
static void
test_nul_in_key(void)
{
	T_BAD(ROLE_HEAD "\"spec\\0x\": {}\n", RES_ADMIN, "5:1", "NUL");
	T_BAD(ROLE_HEAD "spec:\n  allow:\n    app_labels:\n"
	    "      \"env\\0x\": '*'\n", RES_ADMIN, "8:7", "NUL");
	T_BAD(USER_HEAD "spec:\n  traits:\n    \"t\\0x\": v\n", RES_ADMIN,
	    "7:5", "NUL");
}

/*
 * A snapshot parse takes a token, hash and all; the writer leaves the
 * hash out of a snapshot, and the parser refuses a token without one.
 * Either a snapshot holds no token, or what is written is read back.
 */
static void
test_token_in_snapshot(void)
{
	if (parse(state_token, RES_SNAPSHOT) == -1)
		return;
	T_ASSERT(rs.n == 1);
	T_ASSERTF(write_back(0, RES_SNAPSHOT) == 0, "a token read in "
	    "RES_SNAPSHOT mode, written in it, does not parse back:%s\n%s",
	    list_errors(&back_errs), out);
}

/* A token's status and credentials are neither read nor refused. */
static void
test_token_status_credentials(void)
{
	T_BAD_SOME(TOKEN_HEAD "status: [anything]\nspec:\n  type: app\n"
	    "  expires: 2026-01-01T00:00:00Z\n  hash: " HASH64 "\n",
	    RES_STATE, "5:9", "status");
	T_BAD_SOME(TOKEN_HEAD "credentials: {password: x}\nspec:\n"
	    "  type: app\n  expires: 2026-01-01T00:00:00Z\n  hash: " HASH64
	    "\n", RES_STATE, "5:14", "credentials");
}

/*
 * sscanf() stops at the first character outside [a-z0-9_] and does not
 * report whether "}}" matched, and a space in its format matches any
 * run of white space: the length check alone lets these through.
 */
static void
test_trait_pattern_strict(void)
{
	static const char	*bad[] = {
		"{{internal.abc}x", "{{internal.ab!!", "{{internal.x  }}",
		"{{\tinternal.x }}", "{{ internal.x }x", "{{\ninternal.x }}",
		"{{ internal.x\t}}", "{{internal.a.b}}", "{{internal.a-b}}",
	};
	char	 err[256];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_ASSERTF(!pattern_ok(bad[i], err, sizeof(err)),
		    "'%s' accepted as a trait", bad[i]);
}

/*
 * After a duplicate allow, deny, roles, traits or mcp.tools, every
 * unknown key that follows is called a duplicate.
 */
static void
test_unknown_after_duplicate(void)
{
	T_BAD_SOME(ROLE_HEAD "spec:\n  allow: {}\n  allow: {}\n  foo: 1\n",
	    RES_ADMIN, "8:3", "unknown key 'foo' in a role's spec");
	T_BAD_SOME(USER_HEAD "spec:\n  roles: a\n  roles: b\n  foo: 1\n",
	    RES_ADMIN, "8:3", "unknown key 'foo' in a user's spec");
	T_BAD_SOME(ROLE_HEAD "spec:\n  allow:\n    mcp:\n      tools: a\n"
	    "      tools: b\n      foo: c\n", RES_ADMIN, "10:7",
	    "unknown key 'foo' in 'mcp'");
}

/*
 * Everywhere else a key given twice is an error; in status, credentials
 * and a token's spec the last one wins in silence.  And a name that was
 * empty does not count as given.
 */
static void
test_duplicate_state_keys(void)
{
	T_BAD(USER_HEAD "status:\n  locked: true\n  locked: false\n",
	    RES_STATE, "7:3", "'locked'");
	T_BAD(USER_HEAD "credentials:\n  password: \"" PWHASH "\"\n"
	    "  password: \"$argon2id$other\"\n", RES_STATE, "7:3",
	    "'password'");
	T_BAD(TOKEN_HEAD "spec:\n  type: app\n  expires: "
	    "2026-01-01T00:00:00Z\n  expires: 2027-01-01T00:00:00Z\n"
	    "  hash: " HASH64 "\n", RES_STATE, "8:3", "'expires'");
	T_BAD_SOME("kind: role\nversion: v1\nmetadata:\n  name: ''\n"
	    "  name: r\n", RES_ADMIN, "5:3", "duplicate key 'name'");
}

/* A value that is not a string is one problem: one message. */
static void
test_one_error_per_value(void)
{
	T_BAD(USER_HEAD "credentials:\n  password: [a]\n", RES_STATE,
	    "6:13", "'password' must be a single value, not a list");
	T_BAD(TOKEN_HEAD "spec:\n  type: {a: b}\n", RES_STATE, "6:9",
	    "'type' must be a single value, not a mapping");
	T_BAD(TOKEN_HEAD "spec:\n  type: application-token\n", RES_STATE, "6:9",
	    "'type' is longer than 15 characters");
	T_BAD(USER_HEAD "status:\n  generation: [" GEN16 "]\n", RES_STATE,
	    "6:15", "'generation' must be a single value, not a list");
}

/*
 * put_str() takes the length of a UTF-8 sequence from its first byte and
 * copies that many: a string that ends inside a sequence is read past its
 * NUL.  The parser only hands over valid UTF-8, but resource_yaml() takes
 * any resource; it must never read past the end of a string.
 */
static int
child_writer_truncated_utf8(void)
{
	struct resource	 r;
	char		*y;
	size_t		 len;
	int		 ok;

	memset(&r, 0, sizeof(r));
	r.kind = RES_ROLE;
	strlcpy(r.u.role.name, "r", sizeof(r.u.role.name));
	if ((r.u.role.description = strdup("ab\xe4")) == NULL)
		return (3);
	if ((y = resource_yaml(&r, RES_STATE, &len)) == NULL) {
		resource_clear(&r);
		return (0);
	}
	ok = strlen(y) == len && strstr(y, "\n  description: \"ab") != NULL;
	free(y);
	resource_clear(&r);
	return (ok ? 0 : 2);
}

static void
test_writer_truncated_utf8(void)
{
	int	 r;

	r = t_in_child(child_writer_truncated_utf8);
	T_ASSERTF(r == 0, r == 2 ? "resource_yaml() of \"ab\\xe4\" wrote "
	    "what lay past the string" : "resource_yaml() of \"ab\\xe4\" "
	    "ended with status %d", r);
}

/*
 * regcomp() builds its automaton with every bounded repetition written
 * out: 17 characters, "^(a{1000}){1000}$", took some 200 MB and
 * "^(a{32767}){32767}$" more than 14 GB, in whichever process checks
 * the pattern (the parent for mcpgatectl create and at start, mcpd for
 * every snapshot).  glibc also takes "{,n}" for "{0,n}":
 * "^(a{,100}){,100}$" takes 350 MB and "^(a{,300}){,300}$" 10 GB.
 * Checking one pattern must stay cheap, whether it is taken or refused.
 */
static const char	*regex_cost_pattern;

static int
child_regex_cost(void)
{
	struct rlimit	 rl;
	struct rusage	 ru;
	char		 err[256];

	rl.rlim_cur = rl.rlim_max = 1024UL * 1024 * 1024;
	if (setrlimit(RLIMIT_AS, &rl) == -1)
		return (3);
	alarm(20);
	(void)pattern_ok(regex_cost_pattern, err, sizeof(err));
	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return (3);
	/* ru_maxrss is in kilobytes. */
	return (ru.ru_maxrss < 64 * 1024 ? 0 : 2);
}

static void
test_regex_cost(void)
{
	static const char	*pat[] = {
		"^(a{1000}){1000}$", "^(a{,100}){,100}$",
		"^((a{,30}){,30}){,30}$", "^(a{0,1000}){0,1000}$",
	};
	size_t			 i;
	int			 r;

#ifdef MCPGATE_SANITIZE
	T_SKIP("ASan's shadow memory hides the cost; see the plain build");
#endif
	for (i = 0; i < sizeof(pat) / sizeof(pat[0]); i++) {
		regex_cost_pattern = pat[i];
		r = t_in_child(child_regex_cost);
		T_ASSERTF(r == 0, r == 2 ? "checking \"%s\" took more than "
		    "64 MB" : "checking \"%s\" ended with status %d", pat[i],
		    r);
	}
}

int
main(void)
{
	t_suite = "resource";
	T_RUN(test_good_role);
	T_RUN(test_preset_roles);
	T_RUN(test_good_user);
	T_RUN(test_good_state);
	T_RUN(test_many_documents);
	T_RUN(test_scalar_styles);
	T_RUN(test_syntax_errors);
	T_RUN(test_not_a_mapping);
	T_RUN(test_missing);
	T_RUN(test_version_and_kind);
	T_RUN(test_modes);
	T_RUN(test_unknown_keys);
	T_RUN(test_duplicate_keys);
	T_RUN(test_bad_names);
	T_RUN(test_bad_patterns);
	T_RUN(test_duplicate_values);
	T_RUN(test_label_without_value);
	T_RUN(test_trait_names);
	T_RUN(test_too_many);
	T_RUN(test_too_large);
	T_RUN(test_wrong_types);
	T_RUN(test_nul_byte);
	T_RUN(test_description_length);
	T_RUN(test_several_errors);
	T_RUN(test_document_limit);
	T_RUN(test_error_cap);
	T_RUN(test_state_roundtrip);
	T_RUN(test_admin_output);
	T_RUN(test_snapshot_output);
	T_RUN(test_empty_spec);
	T_RUN(test_string_roundtrip);
	T_RUN(test_emitter_roundtrip);
	T_RUN(test_name_ok);
	T_RUN(test_pattern_ok);
	T_RUN(test_strlist);
	T_RUN(test_buf);
	T_RUN(test_kind_name);
	T_RUN(test_clear);
	T_RUN(test_null_metadata_message);
	T_RUN(test_null_token_spec_message);
	T_RUN(test_reader_error_position);
	T_RUN(test_reader_error_position_cr);
	T_RUN(test_roundtrip_control_characters);
	T_RUN(test_roundtrip_line_separators);
	T_RUN(test_roundtrip_years);
	T_RUN(test_time_before_1970_fraction);
	T_RUN(test_nul_in_key);
	T_RUN(test_token_in_snapshot);
	T_RUN(test_token_status_credentials);
	T_RUN(test_trait_pattern_strict);
	T_RUN(test_unknown_after_duplicate);
	T_RUN(test_duplicate_state_keys);
	T_RUN(test_one_error_per_value);
	T_RUN(test_writer_truncated_utf8);
	T_RUN(test_regex_cost);
	T_RUN(test_app_good);
	T_RUN(test_app_defaults);
	T_RUN(test_app_snapshot);
	T_RUN(test_app_bad);
	T_RUN(test_app_bounds);
	T_RUN(test_app_too_large);
	T_RUN(test_app_limits);
	T_RUN(test_app_in_stream);
	T_RUN(test_app_clear);
	T_RUN(test_app_http_good);
	T_RUN(test_app_http_snapshot);
	T_RUN(test_app_uri_forms);
	T_RUN(test_app_uri_bad);
	T_RUN(test_app_uri_lengths);
	T_RUN(test_app_http_bad);
	T_RUN(test_app_http_bounds);
	T_RUN(test_app_http_clear);
	resources_free(&rs);
	resources_free(&back);
	free(out);
	return (t_done());
}
