/*
 * Roles, users, tokens and apps: YAML in, C structures out, and back.
 * Every problem is reported with the file, line and column, and parsing
 * goes on so that one run shows them all.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <yaml.h>

#include "buf.h"
#include "headertpl.h"
#include "pattern.h"
#include "resource.h"
#include "util.h"

#define TIME_MIN	(-62167219200LL)	/* 0000-01-01T00:00:00Z */
#define TIME_MAX	253402300799LL		/* 9999-12-31T23:59:59Z */

/*
 * The preset roles, as an administrator would have written them; the
 * gateway creates those missing at every start.
 */
const char resource_presets[] =
    "kind: role\n"
    "version: v1\n"
    "metadata:\n"
    "  name: access\n"
    "  description: All MCP servers, the tools named in the user's "
    "mcp_tools trait\n"
    "spec:\n"
    "  allow:\n"
    "    app_labels: {'*': '*'}\n"
    "    mcp:\n"
    "      tools: ['{{internal.mcp_tools}}']\n"
    "---\n"
    "kind: role\n"
    "version: v1\n"
    "metadata:\n"
    "  name: mcp-user\n"
    "  description: All MCP servers and all their tools\n"
    "spec:\n"
    "  allow:\n"
    "    app_labels: {'*': '*'}\n"
    "    mcp:\n"
    "      tools: ['*']\n"
    "---\n"
    "kind: role\n"
    "version: v1\n"
    "metadata:\n"
    "  name: auditor\n"
    "  description: For those who read the audit log; no MCP server or "
    "tool\n"
    "spec: {}\n";

struct parse_ctx {
	int			 mode;
	struct resources	*out;
};

/*
 * The bounds of a resource that mcpgatectl create takes: wide enough for
 * any real role or user, narrow enough that every record and snapshot
 * of it stays small.  What the state directory and the snapshot hold was
 * written by the gateway itself and is read within the wider limits of
 * resource.h, so that nothing it once wrote can stop it from starting.
 * The parse is single-threaded: the bounds of the document being read
 * live here.
 */
static struct {
	int		 admin;		/* RES_ADMIN: these bounds apply */
	const char	*what;		/* "user 'x'", "role 'x'" */
	char		 whatbuf[RES_NAMELEN + 16];
	size_t		 bytes;		/* of names, values and patterns */
	size_t		 maxbytes;
	int		 over;		/* said once */
} bound;

/* Count the bytes of one string of the document; -1 once over. */
static int
bound_add(struct ydoc *y, yaml_node_t *n, size_t len)
{
	if (!bound.admin)
		return (0);
	bound.bytes += len;
	if (bound.bytes <= bound.maxbytes)
		return (0);
	if (!bound.over++)
		ydoc_error(y, n, "%s holds more than %zu KiB of names, values "
		    "and patterns, the most a resource may hold", bound.what,
		    bound.maxbytes / 1024);
	return (-1);
}

/* The most values a list may hold: the admin bound, or the state's. */
static size_t
bound_list(size_t admin_max)
{
	return (bound.admin ? admin_max : RES_MAXLIST);
}

/* Names of roles, users and tokens: what a file name and a CN can hold. */
int
resource_name_ok(const char *s)
{
	size_t	 n;

	if (s[0] == '\0' || s[0] == '.' || s[0] == '-')
		return (0);
	for (n = 0; s[n] != '\0'; n++)
		if (!name_char((unsigned char)s[n], NAME_PUNCT "@"))
			return (0);
	return (n < RES_NAMELEN);
}

static int
trait_name_ok(const char *s)
{
	size_t	 n;

	for (n = 0; s[n] != '\0'; n++)
		if (!islower((unsigned char)s[n]) &&
		    !isdigit((unsigned char)s[n]) && s[n] != '_')
			return (0);
	return (n > 0 && n < RES_NAMELEN);
}

int
strlist_add(struct strlist *l, const char *s)
{
	char	**nv;

	if (l->n == RES_MAXLIST)
		return (-1);
	if ((nv = reallocarray(l->v, l->n + 1, sizeof(*l->v))) == NULL)
		return (-1);
	l->v = nv;
	if ((l->v[l->n] = strdup(s)) == NULL)
		return (-1);
	l->n++;
	return (0);
}

/* The list as a JSON array of strings. */
json_t *
strlist_json(const struct strlist *l)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return (a);
}

/* A user's traits as a JSON object of arrays. */
json_t *
traits_json(const struct user *u)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < u->ntraits; i++)
		json_object_set_new(o, u->traits[i].key,
		    strlist_json(&u->traits[i].values));
	return (o);
}

void
strlist_free(struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
strlist_has(const struct strlist *l, const char *s)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return (1);
	return (0);
}

static void
keyed_free(struct keyed_list *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		strlist_free(&v[i].values);
	}
	free(v);
}

static void
role_rules_free(struct role_rules *r)
{
	keyed_free(r->labels, r->nlabels);
	strlist_free(&r->tools);
	memset(r, 0, sizeof(*r));
}

/* What an app holds, freed; the app is zeroed. */
void
app_res_free(struct app_res *a)
{
	size_t	 i;

	free(a->description);
	keyed_free(a->labels, a->nlabels);
	free(a->uri);
	free(a->command);
	strlist_free(&a->args);
	keyed_free(a->env, a->nenv);
	free(a->cwd);
	strlist_free(&a->sandbox.read_only);
	strlist_free(&a->sandbox.writable);
	free(a->remote.path);
	free(a->remote.url);
	free(a->remote.ca_file);
	/* A template may hold a literal secret, an API key. */
	for (i = 0; i < a->remote.headers.n; i++)
		explicit_bzero(a->remote.headers.v[i],
		    strlen(a->remote.headers.v[i]));
	strlist_free(&a->remote.headers);
	explicit_bzero(a, sizeof(*a));
}

void
resource_clear(struct resource *res)
{
	switch (res->kind) {
	case RES_ROLE:
		free(res->u.role.description);
		role_rules_free(&res->u.role.allow);
		role_rules_free(&res->u.role.deny);
		break;
	case RES_USER:
		free(res->u.user.description);
		strlist_free(&res->u.user.roles);
		keyed_free(res->u.user.traits, res->u.user.ntraits);
		break;
	case RES_TOKEN:
		break;
	case RES_APP:
		app_res_free(&res->u.app);
		break;
	}
	explicit_bzero(res, sizeof(*res));
}

void
resources_free(struct resources *rs)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++)
		resource_clear(&rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->n = rs->cap = 0;
}

/*
 * Append res, which the list takes (res is cleared), growing the array
 * by half again when full: appending many thousands stays linear.
 */
int
resources_add(struct resources *rs, struct resource *res)
{
	struct resource	*nv;
	size_t		 cap;

	if (rs->n == rs->cap) {
		cap = rs->cap < 16 ? 16 : rs->cap + rs->cap / 2;
		if ((nv = reallocarray(rs->v, cap, sizeof(*nv))) == NULL)
			return (-1);
		rs->v = nv;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *res;
	memset(res, 0, sizeof(*res));
	return (0);
}

const char *
resource_kind_name(enum res_kind kind)
{
	switch (kind) {
	case RES_ROLE:
		return ("role");
	case RES_USER:
		return ("user");
	case RES_APP:
		return ("app");
	default:
		return ("token");
	}
}

const char *
resource_name(const struct resource *r)
{
	switch (r->kind) {
	case RES_ROLE:
		return (r->u.role.name);
	case RES_USER:
		return (r->u.user.name);
	case RES_APP:
		return (r->u.app.name);
	default:
		return (r->u.token.name);
	}
}

/* --- reading ------------------------------------------------------------- */

/* A key that is not a plain name is reported. */
static int
key_bad(struct ydoc *y, yaml_node_t *kn)
{
	if (kn->type != YAML_SCALAR_NODE) {
		ydoc_error(y, kn, "a key must be a name");
		return (1);
	}
	if (strlen((const char *)kn->data.scalar.value) !=
	    kn->data.scalar.length) {
		ydoc_error(y, kn, "a key contains a NUL byte");
		return (1);
	}
	return (0);
}

/* The pairs of a mapping, keys checked to be names. */
#define MAP_FOREACH(y, map, pair, kn, vn)				\
	for ((pair) = (map)->data.mapping.pairs.start;			\
	    (pair) < (map)->data.mapping.pairs.top; (pair)++)		\
		if (((kn) = ydoc_node((y), (pair)->key)) == NULL ||	\
		    ((vn) = ydoc_node((y), (pair)->value)) == NULL)	\
			continue;					\
		else if (key_bad((y), (kn)))				\
			continue;					\
		else

static const char *
key_of(yaml_node_t *kn)
{
	return ((const char *)kn->data.scalar.value);
}

/*
 * Which of the known keys kn is, or -1 with the error reported: an unknown
 * key names what was expected, a key seen before says so.
 */
static int
key_index(struct ydoc *y, yaml_node_t *kn, const char *const *known,
    uint32_t *seen, const char *where)
{
	char	 expected[256] = "";
	int	 i;

	for (i = 0; known[i] != NULL; i++) {
		if (strcmp(known[i], key_of(kn)) != 0)
			continue;
		if (*seen & (1U << i)) {
			ydoc_error(y, kn, "duplicate key '%s' in %s",
			    key_of(kn), where);
			return (-1);
		}
		*seen |= 1U << i;
		return (i);
	}
	for (i = 0; known[i] != NULL; i++) {
		if (i > 0)
			strlcat(expected, known[i + 1] == NULL ? " or " : ", ",
			    sizeof(expected));
		strlcat(expected, known[i], sizeof(expected));
	}
	ydoc_error(y, kn, "unknown key '%s' in %s (expected %s)", key_of(kn),
	    where, expected);
	return (-1);
}

static int
want_map(struct ydoc *y, yaml_node_t *n, const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return (1);
	if (!ydoc_is_null(n))
		ydoc_error(y, n, "'%s' must be a mapping", what);
	return (0);
}

/* A string of at most max-1 bytes, not empty. */
static int
get_string(struct ydoc *y, yaml_node_t *n, const char *what, char *buf,
    size_t max)
{
	const char	*v;

	if ((v = ydoc_scalar(y, n, what)) == NULL)
		return (-1);
	if (v[0] == '\0' || ydoc_is_null(n)) {
		ydoc_error(y, n, "'%s' needs a value", what);
		return (-1);
	}
	if (strlen(v) >= max) {
		ydoc_error(y, n, "'%s' is longer than %zu characters", what,
		    max - 1);
		return (-1);
	}
	strlcpy(buf, v, max);
	return (0);
}

static char *
get_text(struct ydoc *y, yaml_node_t *n, const char *what)
{
	char	 buf[RES_VALUELEN + 1];
	char	*s;

	if (get_string(y, n, what, buf, sizeof(buf)) == -1)
		return (NULL);
	if ((s = strdup(buf)) == NULL)
		ydoc_error(y, n, "out of memory");
	return (s);
}

static int
get_bool(struct ydoc *y, yaml_node_t *n, const char *what, int *v)
{
	const char	*s;

	if ((s = ydoc_scalar(y, n, what)) == NULL)
		return (-1);
	if (strcmp(s, "true") == 0)
		*v = 1;
	else if (strcmp(s, "false") == 0)
		*v = 0;
	else {
		ydoc_error(y, n, "'%s' must be true or false", what);
		return (-1);
	}
	return (0);
}

/* A point in time, RFC 3339 in UTC, to the second. */
static int
get_time(struct ydoc *y, yaml_node_t *n, const char *what, int64_t *secs)
{
	const char	*s;
	uint64_t	 ms;
	int64_t		 us;

	if ((s = ydoc_scalar(y, n, what)) == NULL)
		return (-1);
	if (parse_duration(s, &ms) == 0 || parse_time(s, 0, &us) == -1 ||
	    strchr(s, 'T') == NULL) {
		ydoc_error(y, n, "'%s' must be a time such as "
		    "2026-11-26T17:00:00Z", what);
		return (-1);
	}
	/* Whole seconds, rounded down also before 1970. */
	*secs = us / 1000000 - (us % 1000000 < 0);
	if (*secs > TIME_MAX) {
		ydoc_error(y, n, "'%s' is after 9999-12-31T23:59:59Z", what);
		return (-1);
	}
	return (0);
}

static int
get_hash(struct ydoc *y, yaml_node_t *n, const char *what, char *buf)
{
	unsigned char	 raw[RES_HASHLEN / 2];
	const char	*s;

	if ((s = ydoc_scalar(y, n, what)) == NULL)
		return (-1);
	if (hex_decode(s, raw, sizeof(raw)) == -1) {
		ydoc_error(y, n, "'%s' must be 64 hex digits", what);
		return (-1);
	}
	strlcpy(buf, s, RES_HASHLEN + 1);
	return (0);
}

static int	 app_path_ok(const char *);

enum list_check {
	LIST_ANY,
	LIST_NAMES,
	LIST_PATTERNS,
	LIST_PATHS,
};

/*
 * One value or a list of at most max of them, each checked and of at
 * most maxlen bytes, none repeated.
 */
static int
get_list(struct ydoc *y, yaml_node_t *n, const char *what,
    enum list_check check, size_t max, size_t maxlen, struct strlist *l)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	char			 buf[RES_VALUELEN + 1], err[256];
	int			 ret = 0, single = n->type == YAML_SCALAR_NODE;

	if (n->type == YAML_MAPPING_NODE) {
		ydoc_error(y, n, "'%s' must be a value or a list of them",
		    what);
		return (-1);
	}
	if (single && ydoc_is_null(n))
		return (0);
	for (it = single ? NULL : n->data.sequence.items.start;
	    single || it < n->data.sequence.items.top; it++) {
		item = single ? n : ydoc_node(y, *it);
		if (item == NULL)
			break;
		if (l->n == max) {
			ydoc_error(y, item, "more than %zu values in '%s'%s",
			    max, what, bound.admin ? ", the most a resource "
			    "may have" : "");
			return (-1);
		}
		if (get_string(y, item, what, buf, sizeof(buf)) == -1)
			ret = -1;
		else if (strlen(buf) > maxlen) {
			ydoc_error(y, item, "a value of '%s' is longer than %zu "
			    "bytes", what, maxlen);
			ret = -1;
		} else if (bound_add(y, item, strlen(buf)) == -1)
			return (-1);
		else if (check == LIST_NAMES && !resource_name_ok(buf)) {
			ydoc_error(y, item, "'%s' is not a valid name in "
			    "'%s'", buf, what);
			ret = -1;
		} else if (check == LIST_PATTERNS &&
		    !pattern_ok(buf, err, sizeof(err))) {
			ydoc_error(y, item, "%s", err);
			ret = -1;
		} else if (check == LIST_PATHS && !app_path_ok(buf)) {
			ydoc_error(y, item, "'%s' in '%s' must be an absolute "
			    "path without '.' or '..'", buf, what);
			ret = -1;
		} else if (strlist_has(l, buf)) {
			ydoc_error(y, item, "'%s' is listed twice in '%s'",
			    buf, what);
			ret = -1;
		} else if (strlist_add(l, buf) == -1) {
			ydoc_error(y, item, "more than %d values in '%s'",
			    RES_MAXLIST, what);
			return (-1);
		}
		if (single)
			break;
	}
	return (ret);
}

/* How a map of keys to lists reads: a role's app_labels, a user's traits. */
struct keyed_map {
	const char	*name;		/* of the map */
	const char	*noun;		/* of one key */
	int		(*key_ok)(struct ydoc *, yaml_node_t *, const char *);
	int		 kind;		/* of the lists, for get_list() */
	int		 by_key;	/* errors in a list name its key */
	int		 need_value;	/* a list may not be empty */
	size_t		 admin_keys;	/* the bounds of mcpgatectl create */
	size_t		 admin_values;
	size_t		 admin_len;
};

/* A label key is a pattern; says why not when it is not. */
static int
label_key_ok(struct ydoc *y, yaml_node_t *kn, const char *key)
{
	char	 err[256];

	if (pattern_ok(key, err, sizeof(err)))
		return (1);
	ydoc_error(y, kn, "label %s", err);
	return (0);
}

static int
trait_key_ok(struct ydoc *y, yaml_node_t *kn, const char *key)
{
	if (trait_name_ok(key))
		return (1);
	ydoc_error(y, kn, "trait '%s' must be lowercase letters, digits and _",
	    key);
	return (0);
}

static const struct keyed_map labels_map = {
	"app_labels", "label", label_key_ok, LIST_PATTERNS, 0, 1,
	RES_ADMIN_MAXLABELS, RES_ADMIN_MAXLABELVALS, RES_VALUELEN
};
static const struct keyed_map traits_map = {
	"traits", "trait", trait_key_ok, LIST_ANY, 1, 0,
	RES_ADMIN_MAXTRAITS, RES_ADMIN_MAXTRAITVALS, RES_ADMIN_TRAITLEN
};

/* Append the entries of map, read as m says, to *vp, of *np entries. */
static int
parse_keyed(struct ydoc *y, yaml_node_t *map, const struct keyed_map *m,
    struct keyed_list **vp, size_t *np)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	struct keyed_list	*nv, *e;
	size_t			 i;
	int			 ret = 0;

	if (!want_map(y, map, m->name))
		return (ydoc_is_null(map) ? 0 : -1);
	MAP_FOREACH(y, map, pair, kn, vn) {
		if (!m->key_ok(y, kn, key_of(kn))) {
			ret = -1;
			continue;
		}
		for (i = 0; i < *np; i++)
			if (strcmp((*vp)[i].key, key_of(kn)) == 0)
				break;
		if (i < *np) {
			ydoc_error(y, kn, "%s '%s' appears twice", m->noun,
			    key_of(kn));
			ret = -1;
			continue;
		}
		if (*np == (bound.admin ? m->admin_keys : RES_MAXMAP)) {
			ydoc_error(y, kn, "more than %zu %ss%s", bound.admin ?
			    m->admin_keys : RES_MAXMAP, m->noun, bound.admin ?
			    ", the most a resource may have" : "");
			return (-1);
		}
		if (bound_add(y, kn, strlen(key_of(kn))) == -1)
			return (-1);
		if ((nv = reallocarray(*vp, *np + 1, sizeof(*nv))) == NULL)
			return (-1);
		*vp = nv;
		e = &nv[*np];
		memset(e, 0, sizeof(*e));
		if ((e->key = strdup(key_of(kn))) == NULL)
			return (-1);
		(*np)++;
		if (get_list(y, vn, m->by_key ? key_of(kn) : m->name, m->kind,
		    bound_list(m->admin_values), bound.admin ? m->admin_len :
		    RES_VALUELEN, &e->values) == -1)
			ret = -1;
		else if (m->need_value && e->values.n == 0) {
			ydoc_error(y, vn, "%s '%s' needs a value, or '*'",
			    m->noun, key_of(kn));
			ret = -1;
		}
	}
	return (ret);
}

static int
parse_rules(struct ydoc *y, yaml_node_t *map, const char *what,
    struct role_rules *r)
{
	static const char *const keys[] = { "app_labels", "mcp", NULL };
	static const char *const mcp_keys[] = { "tools", NULL };
	yaml_node_pair_t	*pair, *mpair;
	yaml_node_t		*kn, *vn, *mkn, *mvn;
	uint32_t		 seen = 0, mseen;
	char			 where[16];
	int			 ret = 0;

	if (!want_map(y, map, what))
		return (ydoc_is_null(map) ? 0 : -1);
	snprintf(where, sizeof(where), "'%s'", what);
	MAP_FOREACH(y, map, pair, kn, vn) {
		switch (key_index(y, kn, keys, &seen, where)) {
		case 0:
			if (parse_keyed(y, vn, &labels_map, &r->labels,
			    &r->nlabels) == -1)
				ret = -1;
			break;
		case 1:
			if (!want_map(y, vn, "mcp")) {
				if (!ydoc_is_null(vn))
					ret = -1;
				break;
			}
			mseen = 0;
			MAP_FOREACH(y, vn, mpair, mkn, mvn) {
				if (key_index(y, mkn, mcp_keys, &mseen,
				    "'mcp'") == -1 || get_list(y, mvn, "tools",
				    LIST_PATTERNS, bound_list(RES_ADMIN_MAXTOOLS),
				    RES_VALUELEN, &r->tools) == -1)
					ret = -1;
			}
			break;
		default:
			ret = -1;
		}
	}
	return (ret);
}

static int
parse_role_spec(struct ydoc *y, yaml_node_t *spec, struct role *role)
{
	static const char *const keys[] = { "allow", "deny", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	uint32_t		 seen = 0;
	int			 ret = 0, i;

	if (!want_map(y, spec, "spec"))
		return (ydoc_is_null(spec) ? 0 : -1);
	MAP_FOREACH(y, spec, pair, kn, vn) {
		if ((i = key_index(y, kn, keys, &seen, "a role's spec")) ==
		    -1 || parse_rules(y, vn, keys[i], i == 0 ? &role->allow :
		    &role->deny) == -1)
			ret = -1;
	}
	return (ret);
}

static int
parse_user_spec(struct ydoc *y, yaml_node_t *spec, struct user *u)
{
	static const char *const keys[] = { "roles", "traits", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	uint32_t		 seen = 0;
	int			 ret = 0;

	if (!want_map(y, spec, "spec"))
		return (ydoc_is_null(spec) ? 0 : -1);
	MAP_FOREACH(y, spec, pair, kn, vn) {
		switch (key_index(y, kn, keys, &seen, "a user's spec")) {
		case 0:
			if (get_list(y, vn, "roles", LIST_NAMES,
			    bound_list(RES_ADMIN_MAXROLES), RES_VALUELEN,
			    &u->roles) == -1)
				ret = -1;
			break;
		case 1:
			if (parse_keyed(y, vn, &traits_map, &u->traits,
			    &u->ntraits) == -1)
				ret = -1;
			break;
		default:
			ret = -1;
		}
	}
	return (ret);
}

static int
parse_user_status(struct ydoc *y, yaml_node_t *map, struct user *u)
{
	static const char *const keys[] = { "created", "generation",
	    "locked", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	const char		*g;
	uint32_t		 seen = 0;
	int			 ret = 0;

	if (!want_map(y, map, "status"))
		return (ydoc_is_null(map) ? 0 : -1);
	MAP_FOREACH(y, map, pair, kn, vn) {
		switch (key_index(y, kn, keys, &seen, "status")) {
		case 0:
			ret |= get_time(y, vn, "created", &u->created);
			break;
		case 1:
			if ((g = ydoc_scalar(y, vn, "generation")) == NULL)
				ret = -1;
			else if (strlen(g) != RES_GENLEN ||
			    strspn(g, "0123456789abcdef") != RES_GENLEN) {
				ydoc_error(y, vn, "'generation' must be %d "
				    "lowercase hex digits", RES_GENLEN);
				ret = -1;
			} else
				strlcpy(u->generation, g,
				    sizeof(u->generation));
			break;
		case 2:
			ret |= get_bool(y, vn, "locked", &u->locked);
			break;
		default:
			ret = -1;
		}
	}
	return (ret);
}

static int
parse_user_credentials(struct ydoc *y, yaml_node_t *map, struct user *u)
{
	static const char *const keys[] = { "password", "invite",
	    "invite_expires", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	uint32_t		 seen = 0;
	int			 ret = 0;

	if (!want_map(y, map, "credentials"))
		return (ydoc_is_null(map) ? 0 : -1);
	MAP_FOREACH(y, map, pair, kn, vn) {
		switch (key_index(y, kn, keys, &seen, "credentials")) {
		case 0:
			if (get_string(y, vn, "password", u->password,
			    sizeof(u->password)) == -1)
				ret = -1;
			else if (strncmp(u->password, "$argon2id$", 10) != 0) {
				ydoc_error(y, vn, "'password' is not an "
				    "Argon2id hash");
				ret = -1;
			}
			break;
		case 1:
			ret |= get_hash(y, vn, "invite", u->invite);
			break;
		case 2:
			ret |= get_time(y, vn, "invite_expires",
			    &u->invite_expires);
			break;
		default:
			ret = -1;
		}
	}
	return (ret);
}

static int
parse_token_spec(struct ydoc *y, yaml_node_t *spec, struct token *t)
{
	static const char *const keys[] = { "type", "created", "expires",
	    "hash", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	uint32_t		 seen = 0;
	int			 ret = 0;

	if (!want_map(y, spec, "spec")) {
		if (ydoc_is_null(spec))
			ydoc_error(y, spec, "a token needs type, expires "
			    "and hash in its spec");
		return (-1);
	}
	MAP_FOREACH(y, spec, pair, kn, vn) {
		switch (key_index(y, kn, keys, &seen, "a token's spec")) {
		case 0:
			if (get_string(y, vn, "type", t->type,
			    sizeof(t->type)) == -1)
				ret = -1;
			else if (strcmp(t->type, "app") != 0) {
				ydoc_error(y, vn, "token type must be app");
				ret = -1;
			}
			break;
		case 1:
			ret |= get_time(y, vn, "created", &t->created);
			break;
		case 2:
			ret |= get_time(y, vn, "expires", &t->expires);
			break;
		case 3:
			ret |= get_hash(y, vn, "hash", t->hash);
			break;
		default:
			ret = -1;
		}
	}
	if (ret == 0 && (t->type[0] == '\0' || t->hash[0] == '\0' ||
	    t->expires == 0)) {
		ydoc_error(y, spec, "a token needs type, expires and hash "
		    "in its spec");
		ret = -1;
	}
	return (ret);
}

static int
parse_metadata(struct ydoc *y, yaml_node_t *map, char *name,
    char **description)
{
	static const char *const keys[] = { "name", "description", NULL };
	static const char *const name_only[] = { "name", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	uint32_t		 seen = 0;
	int			 ret = 0;

	if (!want_map(y, map, "metadata")) {
		if (ydoc_is_null(map))
			ydoc_error(y, map, "metadata needs a name");
		return (-1);
	}
	MAP_FOREACH(y, map, pair, kn, vn) {
		switch (key_index(y, kn, description != NULL ? keys :
		    name_only, &seen, "metadata")) {
		case 0:
			if (get_string(y, vn, "name", name, RES_NAMELEN) ==
			    -1)
				ret = -1;
			else if (!resource_name_ok(name)) {
				ydoc_error(y, vn, "name '%s' must be letters, "
				    "digits, '.', '_', '-' or '@', not "
				    "starting with '.' or '-'", name);
				ret = -1;
			}
			break;
		case 1:
			if ((*description = get_text(y, vn,
			    "description")) == NULL)
				ret = -1;
			break;
		default:
			ret = -1;
		}
	}
	if (!(seen & 1) && ret == 0) {
		ydoc_error(y, map, "metadata needs a name");
		ret = -1;
	}
	return (ret);
}

/* --- apps ---------------------------------------------------------------- */

/*
 * An app is read from two shapes that share every field: a resource
 * (metadata: name, description, labels; spec: uri, tls, rewrite,
 * timeout, mcp) and an entry of app_service.apps in mcpgated.conf, which
 * holds the same eight keys flat.  app_field() reads one of them,
 * wherever it stands; app_finish() checks that they fit together, once
 * all are read, as the uri says what the others may be.
 */
static const char *const app_meta_keys[] = { "name", "description",
    "labels", NULL };
static const char *const app_spec_keys[] = { "uri", "tls", "rewrite",
    "timeout", "mcp", NULL };
static const char *const app_flat_keys[] = { "name", "description",
    "labels", "uri", "tls", "rewrite", "timeout", "mcp", NULL };

/* Where the keys that depend on the uri were, for app_finish(). */
struct app_nodes {
	yaml_node_t	*tls;
	yaml_node_t	*rewrite;
	yaml_node_t	*timeout;
	yaml_node_t	*mcp;
};

/* The variables a server's environment takes from its user, not env. */
static const char *const app_env_reserved[] = { "HOME", "USER", "LOGNAME",
    NULL };

/* An app's name: [a-z0-9-], not starting with '-', not the demo's. */
int
app_name_ok(const char *s)
{
	size_t	 n;

	if (s[0] == '-' || s[0] == '\0')
		return (0);
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return (s[n] == '\0' && n < RES_NAMELEN &&
	    strcmp(s, RES_APP_DEMO) != 0);
}

/* Absolute, and no "." or ".." component: what Landlock opens is plain. */
static int
app_path_ok(const char *s)
{
	const char	*p;
	size_t		 n;

	if (s[0] != '/')
		return (0);
	for (p = s; *p != '\0'; p += n) {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return (0);
	}
	return (1);
}

static int
app_label_key_ok(struct ydoc *y, yaml_node_t *kn, const char *key)
{
	size_t	 i;

	for (i = 0; key[i] != '\0'; i++)
		if (!name_char((unsigned char)key[i], NAME_PUNCT "/"))
			break;
	if (key[i] == '\0' && i > 0 && i < RES_NAMELEN)
		return (1);
	ydoc_error(y, kn, "label '%s' must be at most %d letters, digits, "
	    "'.', '_', '-' or '/'", key, RES_NAMELEN - 1);
	return (0);
}

static int
app_env_key_ok(struct ydoc *y, yaml_node_t *kn, const char *key)
{
	size_t	 i;

	for (i = 0; app_env_reserved[i] != NULL; i++) {
		if (strcmp(key, app_env_reserved[i]) == 0) {
			ydoc_error(y, kn, "'env' may not set %s: the gateway "
			    "sets it from run_as_host_user", key);
			return (0);
		}
	}
	for (i = 0; key[i] != '\0'; i++)
		if (!(isalpha((unsigned char)key[i]) || key[i] == '_' ||
		    (i > 0 && isdigit((unsigned char)key[i]))))
			break;
	if (key[i] == '\0' && i > 0 && i < RES_NAMELEN &&
	    isascii((unsigned char)key[0]))
		return (1);
	ydoc_error(y, kn, "variable '%s' of 'env' must be letters, digits "
	    "and '_', not starting with a digit, at most %d of them", key,
	    RES_NAMELEN - 1);
	return (0);
}

/*
 * A mapping of names to one string each: an app's labels (values not
 * empty) or its env (values may be "").
 */
static int
parse_string_map(struct ydoc *y, yaml_node_t *map, const char *what,
    int env, size_t admin_keys, size_t maxlen, struct keyed_list **vp,
    size_t *np)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	struct keyed_list	*nv, *e;
	const char		*v;
	size_t			 i, max = bound.admin ? admin_keys : RES_MAXMAP;
	int			 ret = 0;

	if (!want_map(y, map, what))
		return (ydoc_is_null(map) ? 0 : -1);
	MAP_FOREACH(y, map, pair, kn, vn) {
		if (!(env ? app_env_key_ok(y, kn, key_of(kn)) :
		    app_label_key_ok(y, kn, key_of(kn)))) {
			ret = -1;
			continue;
		}
		for (i = 0; i < *np; i++)
			if (strcmp((*vp)[i].key, key_of(kn)) == 0)
				break;
		if (i < *np) {
			ydoc_error(y, kn, "'%s' appears twice in '%s'",
			    key_of(kn), what);
			ret = -1;
			continue;
		}
		if (*np == max) {
			ydoc_error(y, kn, "more than %zu entries in '%s'%s",
			    max, what, bound.admin ? ", the most an app may "
			    "have" : "");
			return (-1);
		}
		if ((v = ydoc_scalar(y, vn, key_of(kn))) == NULL) {
			ret = -1;
			continue;
		}
		if (ydoc_is_null(vn) || (!env && v[0] == '\0')) {
			ydoc_error(y, vn, "'%s' in '%s' needs a value%s",
			    key_of(kn), what, env ? " (\"\" for an empty one)" :
			    "");
			ret = -1;
			continue;
		}
		if (strlen(v) > maxlen) {
			ydoc_error(y, vn, "'%s' in '%s' is longer than %zu "
			    "bytes", key_of(kn), what, maxlen);
			ret = -1;
			continue;
		}
		if (bound_add(y, kn, strlen(key_of(kn)) + strlen(v)) == -1)
			return (-1);
		if ((nv = reallocarray(*vp, *np + 1, sizeof(*nv))) == NULL)
			return (-1);
		*vp = nv;
		e = &nv[*np];
		memset(e, 0, sizeof(*e));
		if ((e->key = strdup(key_of(kn))) == NULL)
			return (-1);
		(*np)++;
		if (strlist_add(&e->values, v) == -1)
			return (-1);
	}
	return (ret);
}

/* An absolute path, of at most RES_VALUELEN bytes. */
static char *
get_path(struct ydoc *y, yaml_node_t *n, const char *what)
{
	char	*s;

	if ((s = get_text(y, n, what)) == NULL)
		return (NULL);
	if (!app_path_ok(s)) {
		ydoc_error(y, n, "'%s' must be an absolute path without '.' "
		    "or '..': %s", what, s);
		free(s);
		return (NULL);
	}
	if (bound_add(y, n, strlen(s)) == -1) {
		free(s);
		return (NULL);
	}
	return (s);
}

/* A server's arguments: a list, in order, repeats and "" allowed. */
static int
get_args(struct ydoc *y, yaml_node_t *n, struct strlist *l)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*v;
	size_t			 max = bound_list(RES_ADMIN_MAXARGS);
	int			 ret = 0;

	if (ydoc_is_null(n))
		return (0);
	if (n->type != YAML_SEQUENCE_NODE) {
		ydoc_error(y, n, "'args' must be a list of strings");
		return (-1);
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((item = ydoc_node(y, *it)) == NULL)
			break;
		if (l->n == max) {
			ydoc_error(y, item, "more than %zu values in 'args'%s",
			    max, bound.admin ? ", the most an app may have" :
			    "");
			return (-1);
		}
		if ((v = ydoc_scalar(y, item, "args")) == NULL) {
			ret = -1;
			continue;
		}
		if (ydoc_is_null(item)) {
			ydoc_error(y, item, "a value of 'args' is null (\"\" "
			    "for an empty one)");
			ret = -1;
		} else if (strlen(v) > RES_VALUELEN) {
			ydoc_error(y, item, "a value of 'args' is longer than "
			    "%d bytes", RES_VALUELEN);
			ret = -1;
		} else if (bound_add(y, item, strlen(v)) == -1)
			return (-1);
		else if (strlist_add(l, v) == -1)
			return (-1);
	}
	return (ret);
}

static int
get_duration(struct ydoc *y, yaml_node_t *n, const char *what,
    uint64_t min, uint64_t max, uint64_t *ms)
{
	const char	*s;

	if ((s = ydoc_scalar(y, n, what)) == NULL)
		return (-1);
	if (parse_duration(s, ms) == -1) {
		ydoc_error(y, n, "'%s' must be a duration such as 10s or 2m, "
		    "not '%s'", what, s);
		return (-1);
	}
	if (*ms < min || *ms > max) {
		ydoc_error(y, n, "'%s' must be between %llums and %llus",
		    what, (unsigned long long)min,
		    (unsigned long long)(max / 1000));
		return (-1);
	}
	return (0);
}

static int
get_size(struct ydoc *y, yaml_node_t *n, const char *what, uint64_t min,
    uint64_t max, uint64_t *v)
{
	const char	*s;
	char		 lim1[32], lim2[32];

	if ((s = ydoc_scalar(y, n, what)) == NULL)
		return (-1);
	if (parse_size(s, v) == -1) {
		ydoc_error(y, n, "'%s' must be a size such as 512MiB, not "
		    "'%s'", what, s);
		return (-1);
	}
	if (*v < min || *v > max) {
		fmt_size(min, lim1, sizeof(lim1));
		fmt_size(max, lim2, sizeof(lim2));
		ydoc_error(y, n, "'%s' must be between %s and %s", what, lim1,
		    lim2);
		return (-1);
	}
	return (0);
}

static int
get_uint(struct ydoc *y, yaml_node_t *n, const char *what, uint64_t min,
    uint64_t max, uint64_t *v)
{
	const char	*s;
	char		*ep;

	if ((s = ydoc_scalar(y, n, what)) == NULL)
		return (-1);
	errno = 0;
	*v = strtoull(s, &ep, 10);
	if (!isdigit((unsigned char)s[0]) || *ep != '\0' || errno != 0 ||
	    *v < min || *v > max) {
		ydoc_error(y, n, "'%s' must be a whole number from %llu to "
		    "%llu, not '%s'", what, (unsigned long long)min,
		    (unsigned long long)max, s);
		return (-1);
	}
	return (0);
}

static int
parse_app_sandbox(struct ydoc *y, yaml_node_t *map, struct app_sandbox *sb)
{
	static const char *const keys[] = { "network", "read_only_paths",
	    "writable_paths", "memory_max", "tasks_max", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	const char		*v;
	uint32_t		 seen = 0;
	int			 ret = 0, i;

	if (!want_map(y, map, "sandbox"))
		return (ydoc_is_null(map) ? 0 : -1);
	MAP_FOREACH(y, map, pair, kn, vn) {
		switch ((i = key_index(y, kn, keys, &seen, "'sandbox'"))) {
		case 0:
			if ((v = ydoc_scalar(y, vn, "network")) == NULL)
				ret = -1;
			else if (strcmp(v, "host") == 0)
				sb->network = APP_NET_HOST;
			else if (strcmp(v, "none") == 0)
				sb->network = APP_NET_NONE;
			else {
				ydoc_error(y, vn, "'network' must be none or "
				    "host, not '%s'", v);
				ret = -1;
			}
			break;
		case 1:
		case 2:
			if (get_list(y, vn, keys[i], LIST_PATHS,
			    bound_list(RES_ADMIN_MAXPATHS), RES_VALUELEN,
			    i == 1 ? &sb->read_only :
			    &sb->writable) == -1)
				ret = -1;
			break;
		case 3:
			ret |= get_size(y, vn, "memory_max",
			    RES_APP_MEMORY_MIN, RES_APP_MEMORY_MAX,
			    &sb->memory_max);
			break;
		case 4:
			ret |= get_uint(y, vn, "tasks_max", 1,
			    RES_APP_TASKS_MAX, &sb->tasks_max);
			break;
		default:
			ret = -1;
		}
	}
	sb->restricted = sb->read_only.n > 0 || sb->writable.n > 0;
	return (ret);
}

static int
parse_app_mcp(struct ydoc *y, yaml_node_t *map, struct app_res *a)
{
	static const char *const keys[] = { "command", "args",
	    "run_as_host_user", "env", "cwd", "init_timeout", "sandbox",
	    NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	const char		*v;
	uint32_t		 seen = 0;
	size_t			 n;
	int			 ret = 0;

	if (!want_map(y, map, "mcp")) {
		if (ydoc_is_null(map))
			ydoc_error(y, map, "'mcp' needs command and "
			    "run_as_host_user");
		return (-1);
	}
	MAP_FOREACH(y, map, pair, kn, vn) {
		switch (key_index(y, kn, keys, &seen, "'mcp'")) {
		case 0:
			if ((a->command = get_path(y, vn, "command")) == NULL)
				ret = -1;
			break;
		case 1:
			ret |= get_args(y, vn, &a->args);
			break;
		case 2:
			if ((v = ydoc_scalar(y, vn, "run_as_host_user")) ==
			    NULL) {
				ret = -1;
				break;
			}
			for (n = 0; v[n] != '\0'; n++)
				if (!name_char((unsigned char)v[n],
				    NAME_PUNCT))
					break;
			if (v[n] != '\0' || n == 0 || v[0] == '-' ||
			    n > 32 || ydoc_is_null(vn)) {
				ydoc_error(y, vn, "'run_as_host_user' is not a "
				    "valid user name: %s", v);
				ret = -1;
			} else if (strcmp(v, "root") == 0) {
				ydoc_error(y, vn, "'run_as_host_user' may not "
				    "be root: give the server a user of its "
				    "own");
				ret = -1;
			} else
				strlcpy(a->run_as, v, sizeof(a->run_as));
			break;
		case 3:
			ret |= parse_string_map(y, vn, "env", 1,
			    RES_ADMIN_MAXENV, RES_VALUELEN, &a->env, &a->nenv);
			break;
		case 4:
			if ((a->cwd = get_path(y, vn, "cwd")) == NULL)
				ret = -1;
			break;
		case 5:
			ret |= get_duration(y, vn, "init_timeout",
			    RES_APP_INIT_MIN, RES_APP_INIT_MAX,
			    &a->init_timeout);
			break;
		case 6:
			ret |= parse_app_sandbox(y, vn, &a->sandbox);
			break;
		default:
			ret = -1;
		}
	}
	if (ret == 0 && (a->command == NULL || a->run_as[0] == '\0')) {
		ydoc_error(y, map, "'mcp' needs %s", a->command == NULL ?
		    "a command (an absolute path)" : "run_as_host_user, the "
		    "host user the server runs as");
		ret = -1;
	}
	return (ret);
}

/* The uri schemes of HTTP and SSE apps. */
static const struct {
	const char	*prefix;
	int		 transport;	/* enum app_transport */
	int		 tls;
} app_schemes[] = {
	{ "mcp+http://",	APP_HTTP,	0 },
	{ "mcp+https://",	APP_HTTP,	1 },
	{ "mcp+sse+http://",	APP_SSE,	0 },
	{ "mcp+sse+https://",	APP_SSE,	1 },
};

#define APP_URI_MAX	1024
#define APP_URI_FORMS	RES_APP_URI_STDIO ", mcp+http://, mcp+https://, " \
			"mcp+sse+http:// or mcp+sse+https://"

static int
app_uri_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
app_uri_err(char *err, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * A host given by name: LDH labels (letters, digits and '-', not at
 * either end) of 1 to 63 bytes, 253 in all.  A name whose last label is
 * all digits is an IPv4 address, or nothing.
 */
static int
app_host_ok(const char *uri, const char *h, char *err, size_t len)
{
	struct in_addr	 a4;
	const char	*l;
	size_t		 n, i;
	int		 digits = 0;

	if (strlen(h) > 253)
		return (app_uri_err(err, len, "uri '%.100s': the host name is "
		    "longer than 253 bytes", uri));
	for (l = h; ; l += n + 1) {
		n = strcspn(l, ".");
		if (n == 0)
			return (app_uri_err(err, len, "uri '%.100s': host '%s' "
			    "has an empty label (a '.' %s)", uri, h,
			    l[0] == '\0' ? "at its end" : "too many"));
		if (n > 63)
			return (app_uri_err(err, len, "uri '%.100s': a label "
			    "of host '%.100s' is longer than 63 bytes", uri,
			    h));
		digits = 1;
		for (i = 0; i < n; i++) {
			if (!isdigit((unsigned char)l[i]))
				digits = 0;
			if (isalnum((unsigned char)l[i]) ||
			    (l[i] == '-' && i > 0 && i < n - 1))
				continue;
			return (app_uri_err(err, len, "uri '%.100s': host '%s' "
			    "is not a DNS name (letters, digits and '-' "
			    "between dots, no '-' at either end of a label) "
			    "nor an address", uri, h));
		}
		if (l[n] == '\0')
			break;
	}
	if (digits && inet_pton(AF_INET, h, &a4) != 1)
		return (app_uri_err(err, len, "uri '%.100s': host '%s' is not "
		    "an IPv4 address (four numbers from 0 to 255)", uri, h));
	return (0);
}

/*
 * The uri of an HTTP or SSE app into a's transport and remote: scheme,
 * host (a DNS name, an IPv4 address, an IPv6 address in brackets), an
 * optional port, the path from '/' with any query; no user information
 * (credentials belong in headers), no fragment.  The host is kept in
 * lowercase.  -1 with the reason in err.
 */
static int
app_uri_parse(const char *s, struct app_res *a, char *err, size_t len)
{
	struct in6_addr	 a6;
	const char	*auth, *p, *e, *q;
	char		 host[256], portstr[8] = "";
	size_t		 i, n, hlen;
	unsigned long	 port;
	int		 k, v6 = 0;

	n = strlen(s);
	if (n > APP_URI_MAX)
		return (app_uri_err(err, len, "uri '%.64s...' is longer than "
		    "%d bytes", s, APP_URI_MAX));
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return (app_uri_err(err, len, "uri holds a space or a "
			    "control character (byte %zu): percent-encode it",
			    i + 1));
		if ((unsigned char)s[i] >= 0x80)
			return (app_uri_err(err, len, "uri holds a byte that "
			    "is not ASCII (byte %zu): percent-encode it",
			    i + 1));
	}
	for (k = 0; k < (int)(sizeof(app_schemes) / sizeof(app_schemes[0]));
	    k++)
		if (strncmp(s, app_schemes[k].prefix,
		    strlen(app_schemes[k].prefix)) == 0)
			break;
	if (k == (int)(sizeof(app_schemes) / sizeof(app_schemes[0]))) {
		if (strncmp(s, "http://", 7) == 0 ||
		    strncmp(s, "https://", 8) == 0)
			return (app_uri_err(err, len, "uri '%.100s' needs the "
			    "transport in its scheme: mcp+http(s):// for "
			    "Streamable HTTP, mcp+sse+http(s):// for SSE", s));
		return (app_uri_err(err, len, "uri '%.100s' is not one this "
		    "gateway takes (" APP_URI_FORMS ")", s));
	}
	auth = s + strlen(app_schemes[k].prefix);
	n = strcspn(auth, "/?#");
	e = auth + n;
	if (memchr(auth, '@', n) != NULL)
		return (app_uri_err(err, len, "uri '%.100s' holds user "
		    "information (user:password@): credentials belong in "
		    "rewrite.headers", s));
	if (n == 0 || auth[0] == ':')
		return (app_uri_err(err, len, "uri '%.100s' has no host", s));
	if (auth[0] == '[') {
		if ((q = memchr(auth, ']', n)) == NULL)
			return (app_uri_err(err, len, "uri '%.100s': an IPv6 "
			    "address opened with '[' needs its ']'", s));
		hlen = (size_t)(q - auth - 1);
		if (hlen >= sizeof(host))
			return (app_uri_err(err, len, "uri '%.100s': the IPv6 "
			    "address is too long", s));
		memcpy(host, auth + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return (app_uri_err(err, len, "uri '%.100s': '%s' is "
			    "not an IPv6 address", s, host));
		p = q + 1;
		v6 = 1;
	} else {
		hlen = strcspn(auth, ":/?#");
		if (hlen >= sizeof(host))
			return (app_uri_err(err, len, "uri '%.100s': the host "
			    "name is longer than 253 bytes", s));
		memcpy(host, auth, hlen);
		host[hlen] = '\0';
		if (strchr(host, '[') != NULL || strchr(host, ']') != NULL)
			return (app_uri_err(err, len, "uri '%.100s': an IPv6 "
			    "address goes in brackets, alone", s));
		if (app_host_ok(s, host, err, len) == -1)
			return (-1);
		p = auth + hlen;
	}
	for (i = 0; host[i] != '\0'; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	port = app_schemes[k].tls ? 443 : 80;
	if (p < e) {
		if (*p != ':')
			return (app_uri_err(err, len, "uri '%.100s': '%c' "
			    "after the host, where a ':' and a port may stand",
			    s, *p));
		p++;
		n = (size_t)(e - p);
		if (n == 0 || n > 5 || strspn(p, "0123456789") < n ||
		    p[0] == '0' || (port = strtoul(p, NULL, 10)) > 65535)
			return (app_uri_err(err, len, "uri '%.100s': the port "
			    "must be a number from 1 to 65535", s));
		snprintf(portstr, sizeof(portstr), ":%lu", port);
	}
	/* The path and query: RFC 3986 pchar, '/' and '?'. */
	for (q = e; *q != '\0'; q++) {
		if (isalnum((unsigned char)*q) ||
		    strchr("-._~!$&'()*+,;=:@/?", *q) != NULL)
			continue;
		if (*q == '%' && isxdigit((unsigned char)q[1]) &&
		    isxdigit((unsigned char)q[2])) {
			q += 2;
			continue;
		}
		if (*q == '#')
			return (app_uri_err(err, len, "uri '%.100s' has a "
			    "fragment (#...), which is never sent to a server",
			    s));
		if (*q == '%')
			return (app_uri_err(err, len, "uri '%.100s': a '%%' "
			    "must start two hex digits", s));
		return (app_uri_err(err, len, "uri '%.100s': '%c' is not "
		    "allowed in a path or query: percent-encode it", s, *q));
	}
	a->transport = app_schemes[k].transport;
	a->remote.tls = app_schemes[k].tls;
	strlcpy(a->remote.host, host, sizeof(a->remote.host));
	a->remote.port = (uint16_t)port;
	if (asprintf(&a->remote.path, "%s%s", *e == '/' ? "" : "/", e) ==
	    -1) {
		a->remote.path = NULL;
		return (app_uri_err(err, len, "out of memory"));
	}
	if (asprintf(&a->remote.url, "%s://%s%s%s%s%s",
	    a->remote.tls ? "https" : "http", v6 ? "[" : "", host,
	    v6 ? "]" : "", portstr, a->remote.path) == -1) {
		a->remote.url = NULL;
		return (app_uri_err(err, len, "out of memory"));
	}
	return (0);
}

static int
app_uri(struct ydoc *y, yaml_node_t *vn, struct app_res *a)
{
	const char	*v;
	char		 err[512];

	if ((v = ydoc_scalar(y, vn, "uri")) == NULL)
		return (-1);
	if (ydoc_is_null(vn) || strcmp(v, RES_APP_URI_STDIO) == 0) {
		a->transport = APP_STDIO;
		return (0);
	}
	if (app_uri_parse(v, a, err, sizeof(err)) == -1) {
		ydoc_error(y, vn, "%s", err);
		return (-1);
	}
	if ((a->uri = strdup(v)) == NULL) {
		ydoc_error(y, vn, "out of memory");
		return (-1);
	}
	return (bound_add(y, vn, strlen(v)));
}

/* tls: how an https app's server is verified. */
static int
parse_app_tls(struct ydoc *y, yaml_node_t *map, struct app_res *a)
{
	static const char *const keys[] = { "ca_file",
	    "insecure_skip_verify", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	uint32_t		 seen = 0;
	int			 ret = 0;

	if (!want_map(y, map, "tls"))
		return (ydoc_is_null(map) ? 0 : -1);
	MAP_FOREACH(y, map, pair, kn, vn) {
		switch (key_index(y, kn, keys, &seen, "'tls'")) {
		case 0:
			if ((a->remote.ca_file = get_path(y, vn,
			    "ca_file")) == NULL)
				ret = -1;
			break;
		case 1:
			ret |= get_bool(y, vn, "insecure_skip_verify",
			    &a->remote.insecure);
			break;
		default:
			ret = -1;
		}
	}
	return (ret);
}

static const char *const app_jwt_claims_names[] = {
	[APP_JWT_ROLES_TRAITS] = "roles-and-traits",
	[APP_JWT_ROLES] = "roles",
	[APP_JWT_TRAITS] = "traits",
	[APP_JWT_NONE] = "none",
};

/* rewrite.headers: templates, checked, no name twice (case aside). */
static int
get_headers(struct ydoc *y, yaml_node_t *n, struct strlist *l)
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*v;
	char			 name[HEADER_NAME_MAX + 1];
	char			 other[HEADER_NAME_MAX + 1], err[512];
	size_t			 i;
	int			 ret = 0;

	if (ydoc_is_null(n))
		return (0);
	if (n->type != YAML_SEQUENCE_NODE) {
		ydoc_error(y, n, "'headers' must be a list of \"Name: value\" "
		    "templates");
		return (-1);
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((item = ydoc_node(y, *it)) == NULL)
			break;
		if (l->n == APP_HEADERS_MAX) {
			ydoc_error(y, item, "more than %d headers in 'headers'",
			    APP_HEADERS_MAX);
			return (-1);
		}
		if ((v = ydoc_scalar(y, item, "headers")) == NULL) {
			ret = -1;
			continue;
		}
		if (ydoc_is_null(item) || v[0] == '\0') {
			ydoc_error(y, item, "a header of 'headers' is empty "
			    "(write \"Name: value\")");
			ret = -1;
			continue;
		}
		if (strlen(v) > APP_HEADER_MAX) {
			ydoc_error(y, item, "a header of 'headers' is longer "
			    "than %d bytes", APP_HEADER_MAX);
			ret = -1;
			continue;
		}
		if (header_check(v, name, sizeof(name), err,
		    sizeof(err)) == -1) {
			ydoc_error(y, item, "%s", err);
			ret = -1;
			continue;
		}
		for (i = 0; i < l->n; i++)
			if (header_check(l->v[i], other, sizeof(other), NULL,
			    0) == 0 && strcasecmp(name, other) == 0)
				break;
		if (i < l->n) {
			ydoc_error(y, item, "header %s is given twice (names "
			    "are the same whatever their case)", name);
			ret = -1;
			continue;
		}
		if (bound_add(y, item, strlen(v)) == -1)
			return (-1);
		if (strlist_add(l, v) == -1) {
			ydoc_error(y, item, "out of memory");
			return (-1);
		}
	}
	return (ret);
}

/* rewrite: what the server learns of the user. */
static int
parse_app_rewrite(struct ydoc *y, yaml_node_t *map, struct app_res *a)
{
	static const char *const keys[] = { "jwt_claims", "headers", NULL };
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	const char		*v;
	uint32_t		 seen = 0;
	size_t			 i;
	int			 ret = 0;

	if (!want_map(y, map, "rewrite"))
		return (ydoc_is_null(map) ? 0 : -1);
	MAP_FOREACH(y, map, pair, kn, vn) {
		switch (key_index(y, kn, keys, &seen, "'rewrite'")) {
		case 0:
			if ((v = ydoc_scalar(y, vn, "jwt_claims")) == NULL) {
				ret = -1;
				break;
			}
			for (i = 0; i < sizeof(app_jwt_claims_names) /
			    sizeof(app_jwt_claims_names[0]); i++)
				if (strcmp(v, app_jwt_claims_names[i]) == 0)
					break;
			if (i == sizeof(app_jwt_claims_names) /
			    sizeof(app_jwt_claims_names[0])) {
				ydoc_error(y, vn, "'jwt_claims' must be "
				    "roles-and-traits, roles, traits or none, "
				    "not '%s'", v);
				ret = -1;
			} else
				a->remote.jwt_claims = (int)i;
			break;
		case 1:
			ret |= get_headers(y, vn, &a->remote.headers);
			break;
		default:
			ret = -1;
		}
	}
	return (ret);
}

/* One field of an app, by its key, wherever the shape puts it. */
static int
app_field(struct ydoc *y, const char *key, yaml_node_t *vn,
    struct app_res *a, int mode, struct app_nodes *nodes)
{
	if (strcmp(key, "name") == 0) {
		if (get_string(y, vn, "name", a->name, sizeof(a->name)) == -1)
			return (-1);
		if (strcmp(a->name, RES_APP_DEMO) == 0) {
			ydoc_error(y, vn, "'%s' is the name of the built-in "
			    "demo server: choose another", a->name);
			return (-1);
		}
		if (!app_name_ok(a->name)) {
			ydoc_error(y, vn, "app name '%s' must be lowercase "
			    "letters, digits and '-', not starting with '-'",
			    a->name);
			return (-1);
		}
		snprintf(bound.whatbuf, sizeof(bound.whatbuf), "app '%s'",
		    a->name);
		return (bound_add(y, vn, strlen(a->name)));
	}
	if (strcmp(key, "description") == 0) {
		if ((a->description = get_text(y, vn, "description")) == NULL)
			return (-1);
		return (bound_add(y, vn, strlen(a->description)));
	}
	if (strcmp(key, "labels") == 0)
		return (parse_string_map(y, vn, "labels", 0,
		    RES_ADMIN_MAXLABELS, RES_APP_LABELLEN, &a->labels,
		    &a->nlabels));
	if (strcmp(key, "uri") == 0)
		return (app_uri(y, vn, a));
	/* What follows is how the server is reached or run. */
	if (mode & RES_SNAPSHOT) {
		ydoc_error(y, vn, "'%s' is the parent's alone: mcpd never "
		    "receives it", key);
		return (-1);
	}
	if (strcmp(key, "tls") == 0) {
		nodes->tls = vn;
		return (parse_app_tls(y, vn, a));
	}
	if (strcmp(key, "rewrite") == 0) {
		nodes->rewrite = vn;
		return (parse_app_rewrite(y, vn, a));
	}
	if (strcmp(key, "timeout") == 0) {
		nodes->timeout = vn;
		return (get_duration(y, vn, "timeout", RES_APP_TIMEOUT_MIN,
		    RES_APP_TIMEOUT_MAX, &a->remote.timeout));
	}
	/* "mcp", read by app_mcp() once the uri is known. */
	nodes->mcp = vn;
	return (0);
}

/*
 * An app's mcp, after its other keys: a stdio app's is read, an HTTP or
 * SSE app may have none.
 */
static int
app_mcp(struct ydoc *y, struct app_res *a, const struct app_nodes *nodes)
{
	if (nodes->mcp == NULL)
		return (0);
	if (a->transport == APP_STDIO)
		return (parse_app_mcp(y, nodes->mcp, a));
	ydoc_error(y, nodes->mcp, "an HTTP app has no mcp: block, it runs "
	    "nowhere: its server is at %s", a->remote.url);
	return (-1);
}

/* The keys of map, each one of keys, read into a. */
static int
parse_app_part(struct ydoc *y, yaml_node_t *map, const char *const *keys,
    const char *where, struct app_res *a, int mode, uint32_t *seen,
    struct app_nodes *nodes)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	int			 i, ret = 0;

	MAP_FOREACH(y, map, pair, kn, vn) {
		if ((i = key_index(y, kn, keys, seen, where)) == -1 ||
		    app_field(y, keys[i], vn, a, mode, nodes) == -1)
			ret = -1;
	}
	return (ret);
}

/*
 * What every app has once read: a name and a uri; a stdio app its mcp
 * (but in mcpd) and nothing of HTTP; an HTTP or SSE app no mcp, tls
 * only with https, and its timeout.
 */
static int
app_finish(struct ydoc *y, yaml_node_t *meta, yaml_node_t *spec,
    struct app_res *a, int mode, const struct app_nodes *nodes)
{
	yaml_node_t	*n;
	const char	*k;

	if (a->name[0] == '\0') {
		ydoc_error(y, meta, "an app needs a name");
		return (-1);
	}
	if (a->transport != APP_STDIO) {
		if (nodes->tls != NULL && !a->remote.tls) {
			ydoc_error(y, nodes->tls, "'tls' is for an https "
			    "server: uri %s is plain http", a->uri);
			return (-1);
		}
		if (!(mode & RES_SNAPSHOT) && a->remote.timeout == 0)
			a->remote.timeout = APP_TIMEOUT_DEF;
		return (0);
	}
	n = nodes->tls != NULL ? nodes->tls : nodes->rewrite != NULL ?
	    nodes->rewrite : nodes->timeout;
	if (n != NULL) {
		k = n == nodes->tls ? "tls" : n == nodes->rewrite ?
		    "rewrite" : "timeout";
		ydoc_error(y, n, "'%s' is for HTTP and SSE apps: app '%s' is a "
		    "stdio server (uri " RES_APP_URI_STDIO ")", k, a->name);
		return (-1);
	}
	if (!(mode & RES_SNAPSHOT) && nodes->mcp == NULL) {
		ydoc_error(y, spec, "app '%s' needs 'mcp' with a command and "
		    "run_as_host_user, or the uri of an HTTP server", a->name);
		return (-1);
	}
	if (a->uri == NULL && (a->uri = strdup(RES_APP_URI_STDIO)) == NULL) {
		ydoc_error(y, meta, "out of memory");
		return (-1);
	}
	if (!(mode & RES_SNAPSHOT) && a->init_timeout == 0)
		a->init_timeout = RES_APP_INIT_TIMEOUT;
	return (0);
}

static void
bound_start_app(int admin)
{
	bound.admin = admin;
	bound.bytes = 0;
	bound.over = 0;
	bound.maxbytes = RES_ADMIN_APP_BYTES;
	strlcpy(bound.whatbuf, "the app", sizeof(bound.whatbuf));
	bound.what = bound.whatbuf;
}

/*
 * An entry of app_service.apps in mcpgated.conf: the fields of a kind:
 * app resource, flat, within the bounds of mcpgatectl create.  Returns
 * 0 with a filled, or -1 with the errors reported and a empty.
 */
int
resource_app_parse(struct ydoc *y, yaml_node_t *map, struct app_res *a)
{
	struct app_nodes nodes;
	uint32_t	 seen = 0;
	int		 ret;

	memset(a, 0, sizeof(*a));
	memset(&nodes, 0, sizeof(nodes));
	if (map->type != YAML_MAPPING_NODE) {
		ydoc_error(y, map, "an app is a mapping with name, "
		    "description, labels, uri, and mcp or tls, rewrite and "
		    "timeout");
		return (-1);
	}
	bound_start_app(1);
	ret = parse_app_part(y, map, app_flat_keys, "an app", a, RES_ADMIN,
	    &seen, &nodes);
	if (app_mcp(y, a, &nodes) == -1)
		ret = -1;
	if (ret == 0)
		ret = app_finish(y, map, map, a, RES_ADMIN, &nodes);
	memset(&bound, 0, sizeof(bound));
	if (ret == -1)
		app_res_free(a);
	else
		a->from_config = 1;
	return (ret);
}

/* One document: one resource. */
static int
parse_doc(struct ydoc *y, yaml_node_t *root, void *arg)
{
	struct parse_ctx	*ctx = arg;
	struct resource		 res;
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn, *kind = NULL, *version = NULL;
	yaml_node_t		*meta = NULL, *spec = NULL, *status = NULL;
	yaml_node_t		*cred = NULL;
	yaml_node_t		**slot;
	const char		*k, *v;
	struct app_nodes	 nodes;
	uint32_t		 aseen = 0, sseen = 0;
	int			 ret = 0;

	memset(&res, 0, sizeof(res));
	memset(&nodes, 0, sizeof(nodes));
	res.line = root->start_mark.line + 1;
	if (ydoc_is_null(root))
		return (0);	/* an empty document, as after a last "---" */
	if (root->type != YAML_MAPPING_NODE) {
		ydoc_error(y, root, "a resource is a mapping with kind, "
		    "version, metadata and spec");
		return (-1);
	}
	MAP_FOREACH(y, root, pair, kn, vn) {
		k = key_of(kn);
		slot = strcmp(k, "kind") == 0 ? &kind :
		    strcmp(k, "version") == 0 ? &version :
		    strcmp(k, "metadata") == 0 ? &meta :
		    strcmp(k, "spec") == 0 ? &spec :
		    strcmp(k, "status") == 0 ? &status :
		    strcmp(k, "credentials") == 0 ? &cred : NULL;
		if (slot == NULL) {
			ydoc_error(y, kn, "unknown key '%s' (expected kind, "
			    "version, metadata, spec)", k);
			ret = -1;
		} else if (*slot != NULL) {
			ydoc_error(y, kn, "duplicate key '%s'", k);
			ret = -1;
		} else
			*slot = vn;
	}
	if (kind == NULL || (v = ydoc_scalar(y, kind, "kind")) == NULL) {
		if (kind == NULL)
			ydoc_error(y, root, "missing 'kind'");
		return (-1);
	}
	if (strcmp(v, "role") == 0)
		res.kind = RES_ROLE;
	else if (strcmp(v, "user") == 0)
		res.kind = RES_USER;
	else if (strcmp(v, "app") == 0)
		res.kind = RES_APP;
	else if (strcmp(v, "token") == 0 && (ctx->mode & RES_STATE))
		res.kind = RES_TOKEN;
	else {
		ydoc_error(y, kind, "kind '%s' is not one this gateway takes "
		    "(role, user or app)", v);
		return (-1);
	}
	if (version == NULL)
		ydoc_error(y, root, "missing 'version: v1'");
	else if ((v = ydoc_scalar(y, version, "version")) != NULL &&
	    strcmp(v, "v1") != 0)
		ydoc_error(y, version, "unsupported version '%s' (v1 is "
		    "read)", v);
	if (version == NULL || v == NULL || strcmp(v, "v1") != 0)
		ret = -1;
	if (meta == NULL) {
		ydoc_error(y, root, "missing 'metadata' with a name");
		ret = -1;
	}
	if (status != NULL && (ctx->mode & RES_ADMIN) && res.kind != RES_APP) {
		ydoc_error(y, status, "'status' is kept by the gateway: use "
		    "mcpgatectl users lock, unlock and reset");
		ret = -1;
		status = NULL;
	}
	if (cred != NULL && !(ctx->mode & RES_STATE)) {
		ydoc_error(y, cred, "'credentials' are never written by "
		    "hand: users set their password with an invite");
		ret = -1;
		cred = NULL;
	}

	bound.admin = (ctx->mode & RES_ADMIN) != 0;
	bound.bytes = 0;
	bound.over = 0;
	bound.maxbytes = res.kind == RES_ROLE ? RES_ADMIN_ROLE_BYTES :
	    RES_ADMIN_USER_BYTES;
	bound.what = bound.whatbuf;
	switch (res.kind) {
	case RES_ROLE:
		if (meta != NULL && parse_metadata(y, meta, res.u.role.name,
		    &res.u.role.description) == -1)
			ret = -1;
		snprintf(bound.whatbuf, sizeof(bound.whatbuf), "role '%s'",
		    res.u.role.name);
		if (spec != NULL && parse_role_spec(y, spec,
		    &res.u.role) == -1)
			ret = -1;
		if (status != NULL || cred != NULL) {
			ydoc_error(y, status != NULL ? status : cred,
			    "a role has no status or credentials");
			ret = -1;
		}
		break;
	case RES_USER:
		if (meta != NULL && parse_metadata(y, meta, res.u.user.name,
		    &res.u.user.description) == -1)
			ret = -1;
		snprintf(bound.whatbuf, sizeof(bound.whatbuf), "user '%s'",
		    res.u.user.name);
		if (spec != NULL && parse_user_spec(y, spec,
		    &res.u.user) == -1)
			ret = -1;
		if (status != NULL && parse_user_status(y, status,
		    &res.u.user) == -1)
			ret = -1;
		if (cred != NULL && parse_user_credentials(y, cred,
		    &res.u.user) == -1)
			ret = -1;
		break;
	case RES_APP:
		bound_start_app(bound.admin);
		if (meta != NULL && !want_map(y, meta, "metadata")) {
			if (ydoc_is_null(meta))
				ydoc_error(y, meta, "metadata needs a name");
			ret = -1;
		} else if (meta != NULL && parse_app_part(y, meta,
		    app_meta_keys, "an app's metadata", &res.u.app, ctx->mode,
		    &aseen, &nodes) == -1)
			ret = -1;
		if (spec == NULL) {
			ydoc_error(y, root, "missing 'spec' with the app's "
			    "uri or mcp");
			ret = -1;
		} else if (!want_map(y, spec, "spec")) {
			if (ydoc_is_null(spec))
				ydoc_error(y, spec, "an app's spec needs mcp, "
				    "or the uri of an HTTP server");
			ret = -1;
		} else if (parse_app_part(y, spec, app_spec_keys,
		    "an app's spec", &res.u.app, ctx->mode, &sseen,
		    &nodes) == -1)
			ret = -1;
		if (app_mcp(y, &res.u.app, &nodes) == -1)
			ret = -1;
		if (status != NULL || cred != NULL) {
			ydoc_error(y, status != NULL ? status : cred,
			    "an app has no status or credentials");
			ret = -1;
		}
		if (ret == 0 && app_finish(y, meta, spec, &res.u.app,
		    ctx->mode, &nodes) == -1)
			ret = -1;
		break;
	case RES_TOKEN:
		if (meta != NULL && parse_metadata(y, meta, res.u.token.name,
		    NULL) == -1)
			ret = -1;
		if (status != NULL || cred != NULL) {
			ydoc_error(y, status != NULL ? status : cred,
			    "a token has no status or credentials");
			ret = -1;
		}
		if (spec == NULL) {
			ydoc_error(y, root, "missing 'spec'");
			ret = -1;
		} else if (parse_token_spec(y, spec, &res.u.token) == -1)
			ret = -1;
		break;
	}
	if (ret == -1) {
		resource_clear(&res);
		return (-1);
	}
	if (resources_add(ctx->out, &res) == -1) {
		resource_clear(&res);
		return (-1);
	}
	return (0);
}

/*
 * Parse a stream of resources.  Returns 0 with all of them in rs, or -1
 * with the errors in errs and nothing in rs.
 */
int
resource_parse(const char *name, const char *buf, size_t len, int mode,
    struct resources *rs, struct conf_errors *errs)
{
	struct parse_ctx	 ctx;
	int			 n;

	memset(rs, 0, sizeof(*rs));
	memset(errs, 0, sizeof(*errs));
	ctx.mode = mode;
	ctx.out = rs;
	n = ydoc_parse_stream(name, buf, len, errs, RES_MAXDOCS, parse_doc,
	    &ctx);
	memset(&bound, 0, sizeof(bound));
	if (n == -1 || errs->n > 0) {
		if (errs->n == 0)
			ydoc_errors_add(errs, "%s: out of memory", name);
		resources_free(rs);
		return (-1);
	}
	return (0);
}

/* --- writing ------------------------------------------------------------- */

/*
 * Resources are written with libyaml's emitter, which quotes and escapes
 * as YAML requires.  Every string of a resource goes double-quoted, so
 * that "yes", "null" or "123" read back as the strings they are; the
 * keys and the few words of our own go plain.  Lists go in flow style,
 * one line each.  The emitter refuses a string that is not UTF-8 (the
 * parser only ever hands over UTF-8): resource_yaml() then fails.
 */
struct yout {
	yaml_emitter_t	 em;
	struct buf	 b;
	int		 failed;
};

static int
yout_write(void *arg, unsigned char *data, size_t len)
{
	struct buf	*b = arg;

	return (buf_add(b, data, len) == 0);
}

/* Emit an event that ok says was set up; the emitter frees it. */
static void
yout_emit(struct yout *o, int ok, yaml_event_t *ev)
{
	if (!ok) {
		o->failed = 1;
		return;
	}
	if (o->failed)
		yaml_event_delete(ev);
	else if (!yaml_emitter_emit(&o->em, ev))
		o->failed = 1;
}

static void
put_scalar(struct yout *o, const char *s, int quoted)
{
	yaml_event_t	 ev;

	yout_emit(o, yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)s, (int)strlen(s), !quoted, quoted, quoted ?
	    YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE), &ev);
}

/* A key or a word of our own, plain. */
static void
put_plain(struct yout *o, const char *s)
{
	put_scalar(o, s, 0);
}

/* A string of the resource, double-quoted. */
static void
put_str(struct yout *o, const char *s)
{
	put_scalar(o, s, 1);
}

static void
put_map_start(struct yout *o)
{
	yaml_event_t	 ev;

	yout_emit(o, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_MAPPING_STYLE), &ev);
}

static void
put_map_end(struct yout *o)
{
	yaml_event_t	 ev;

	yout_emit(o, yaml_mapping_end_event_initialize(&ev), &ev);
}

static void
put_list(struct yout *o, const struct strlist *l)
{
	yaml_event_t	 ev;
	size_t		 i;

	yout_emit(o, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_FLOW_SEQUENCE_STYLE), &ev);
	for (i = 0; i < l->n; i++)
		put_str(o, l->v[i]);
	yout_emit(o, yaml_sequence_end_event_initialize(&ev), &ev);
}

/* A time the parser reads back: years 0000 to 9999. */
static void
put_time(struct yout *o, int64_t secs)
{
	char	 ts[64];
	time_t	 t = (time_t)(secs < TIME_MIN ? TIME_MIN : secs > TIME_MAX ?
	    TIME_MAX : secs);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	put_str(o, ts);
}

/* A map of keys to lists: a role's app_labels, a user's traits. */
static void
put_keyed(struct yout *o, const char *what, const struct keyed_list *v,
    size_t n)
{
	size_t	 i;

	put_plain(o, what);
	put_map_start(o);
	for (i = 0; i < n; i++) {
		put_str(o, v[i].key);
		put_list(o, &v[i].values);
	}
	put_map_end(o);
}

static void
put_rules(struct yout *o, const char *what, const struct role_rules *r)
{
	if (r->nlabels == 0 && r->tools.n == 0)
		return;
	put_plain(o, what);
	put_map_start(o);
	if (r->nlabels > 0)
		put_keyed(o, "app_labels", r->labels, r->nlabels);
	if (r->tools.n > 0) {
		put_plain(o, "mcp");
		put_map_start(o);
		put_plain(o, "tools");
		put_list(o, &r->tools);
		put_map_end(o);
	}
	put_map_end(o);
}

static void
put_metadata(struct yout *o, const char *kind, const char *name,
    const char *description)
{
	put_plain(o, "kind");
	put_plain(o, kind);
	put_plain(o, "version");
	put_plain(o, "v1");
	put_plain(o, "metadata");
	put_map_start(o);
	put_plain(o, "name");
	put_str(o, name);
	if (description != NULL) {
		put_plain(o, "description");
		put_str(o, description);
	}
	put_map_end(o);
}

static void
put_user(struct yout *o, const struct user *u, int mode)
{
	put_metadata(o, "user", u->name, u->description);
	put_plain(o, "spec");
	put_map_start(o);
	put_plain(o, "roles");
	put_list(o, &u->roles);
	if (u->ntraits > 0)
		put_keyed(o, "traits", u->traits, u->ntraits);
	put_map_end(o);
	if (mode & (RES_STATE | RES_SNAPSHOT)) {
		put_plain(o, "status");
		put_map_start(o);
		put_plain(o, "locked");
		put_plain(o, u->locked ? "true" : "false");
		if (u->created != 0) {
			put_plain(o, "created");
			put_time(o, u->created);
		}
		if (u->generation[0] != '\0') {
			put_plain(o, "generation");
			put_str(o, u->generation);
		}
		put_map_end(o);
	}
	if ((mode & RES_STATE) && (u->password[0] != '\0' ||
	    u->invite[0] != '\0')) {
		put_plain(o, "credentials");
		put_map_start(o);
		if (u->password[0] != '\0') {
			put_plain(o, "password");
			put_str(o, u->password);
		}
		if (u->invite[0] != '\0') {
			put_plain(o, "invite");
			put_str(o, u->invite);
			put_plain(o, "invite_expires");
			put_time(o, u->invite_expires);
		}
		put_map_end(o);
	}
}

/* A map of names to one string each: an app's labels or env. */
static void
put_string_map(struct yout *o, const char *what, const struct keyed_list *v,
    size_t n)
{
	size_t	 i;

	put_plain(o, what);
	put_map_start(o);
	for (i = 0; i < n; i++) {
		put_str(o, v[i].key);
		put_str(o, v[i].values.n > 0 ? v[i].values.v[0] : "");
	}
	put_map_end(o);
}

/* A duration or a size, in the largest unit that keeps it exact. */
static void
put_duration(struct yout *o, uint64_t ms)
{
	char	 s[32];

	if (ms % 1000 == 0)
		snprintf(s, sizeof(s), "%llus",
		    (unsigned long long)(ms / 1000));
	else
		snprintf(s, sizeof(s), "%llums", (unsigned long long)ms);
	put_plain(o, s);
}

static void
put_size(struct yout *o, uint64_t v)
{
	static const char *const units[] = { "", "KiB", "MiB", "GiB" };
	char	 s[32];
	int	 u = 0;

	while (u < 3 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(s, sizeof(s), "%llu%s", (unsigned long long)v, units[u]);
	put_plain(o, s);
}

/* How an HTTP or SSE app's server is reached, but its uri. */
static void
put_remote(struct yout *o, const struct app_remote *r)
{
	int	 claims = r->jwt_claims;

	if (r->tls) {
		put_plain(o, "tls");
		put_map_start(o);
		if (r->ca_file != NULL) {
			put_plain(o, "ca_file");
			put_str(o, r->ca_file);
		}
		put_plain(o, "insecure_skip_verify");
		put_plain(o, r->insecure ? "true" : "false");
		put_map_end(o);
	}
	if (claims < 0 || claims >= (int)(sizeof(app_jwt_claims_names) /
	    sizeof(app_jwt_claims_names[0])))
		claims = APP_JWT_NONE;
	put_plain(o, "rewrite");
	put_map_start(o);
	put_plain(o, "jwt_claims");
	put_plain(o, app_jwt_claims_names[claims]);
	if (r->headers.n > 0) {
		put_plain(o, "headers");
		put_list(o, &r->headers);
	}
	put_map_end(o);
	put_plain(o, "timeout");
	put_duration(o, r->timeout);
}

/*
 * An app.  mcpd's snapshot carries what users may see (name,
 * description, labels, and the uri that says its type), never how the
 * server runs or is reached: no command, arguments, environment,
 * directory, user or paths, no CA, header or timeout.
 */
static void
put_app(struct yout *o, const struct app_res *a, int mode)
{
	const struct app_sandbox *sb = &a->sandbox;
	char			 n[32];

	put_plain(o, "kind");
	put_plain(o, "app");
	put_plain(o, "version");
	put_plain(o, "v1");
	put_plain(o, "metadata");
	put_map_start(o);
	put_plain(o, "name");
	put_str(o, a->name);
	if (a->description != NULL) {
		put_plain(o, "description");
		put_str(o, a->description);
	}
	if (a->nlabels > 0)
		put_string_map(o, "labels", a->labels, a->nlabels);
	put_map_end(o);
	put_plain(o, "spec");
	put_map_start(o);
	put_plain(o, "uri");
	put_str(o, a->uri != NULL ? a->uri : RES_APP_URI_STDIO);
	if (!(mode & RES_SNAPSHOT) && a->transport != APP_STDIO)
		put_remote(o, &a->remote);
	else if (!(mode & RES_SNAPSHOT)) {
		put_plain(o, "mcp");
		put_map_start(o);
		put_plain(o, "command");
		put_str(o, a->command != NULL ? a->command : "");
		if (a->args.n > 0) {
			put_plain(o, "args");
			put_list(o, &a->args);
		}
		put_plain(o, "run_as_host_user");
		put_str(o, a->run_as);
		if (a->nenv > 0)
			put_string_map(o, "env", a->env, a->nenv);
		if (a->cwd != NULL) {
			put_plain(o, "cwd");
			put_str(o, a->cwd);
		}
		put_plain(o, "init_timeout");
		put_duration(o, a->init_timeout);
		put_plain(o, "sandbox");
		put_map_start(o);
		put_plain(o, "network");
		put_plain(o, sb->network == APP_NET_NONE ? "none" : "host");
		if (sb->read_only.n > 0) {
			put_plain(o, "read_only_paths");
			put_list(o, &sb->read_only);
		}
		if (sb->writable.n > 0) {
			put_plain(o, "writable_paths");
			put_list(o, &sb->writable);
		}
		if (sb->memory_max > 0) {
			put_plain(o, "memory_max");
			put_size(o, sb->memory_max);
		}
		if (sb->tasks_max > 0) {
			put_plain(o, "tasks_max");
			snprintf(n, sizeof(n), "%llu",
			    (unsigned long long)sb->tasks_max);
			put_plain(o, n);
		}
		put_map_end(o);
		put_map_end(o);
	}
	put_map_end(o);
}

/*
 * One resource as YAML that resource_parse() reads back.  RES_ADMIN
 * leaves out status and credentials (what mcpgatectl get prints),
 * RES_SNAPSHOT leaves out credentials and an app's mcp, RES_STATE keeps
 * everything.
 * Returns NULL when out of memory or when a string is not UTF-8.
 */
char *
resource_yaml(const struct resource *res, int mode, size_t *lenp)
{
	const struct role	*r;
	const struct token	*t;
	struct yout		 o;
	yaml_event_t		 ev;

	memset(&o, 0, sizeof(o));
	buf_init(&o.b, 0);
	if (!yaml_emitter_initialize(&o.em)) {
		buf_free(&o.b);
		return (NULL);
	}
	yaml_emitter_set_output(&o.em, yout_write, &o.b);
	yaml_emitter_set_unicode(&o.em, 1);
	yaml_emitter_set_width(&o.em, -1);
	yout_emit(&o, yaml_stream_start_event_initialize(&ev,
	    YAML_UTF8_ENCODING), &ev);
	yout_emit(&o, yaml_document_start_event_initialize(&ev, NULL, NULL,
	    NULL, 1), &ev);
	put_map_start(&o);
	switch (res->kind) {
	case RES_ROLE:
		r = &res->u.role;
		put_metadata(&o, "role", r->name, r->description);
		/* A role that allows and denies nothing: "spec: {}". */
		put_plain(&o, "spec");
		put_map_start(&o);
		put_rules(&o, "allow", &r->allow);
		put_rules(&o, "deny", &r->deny);
		put_map_end(&o);
		break;
	case RES_USER:
		put_user(&o, &res->u.user, mode);
		break;
	case RES_APP:
		put_app(&o, &res->u.app, mode);
		break;
	case RES_TOKEN:
		t = &res->u.token;
		put_metadata(&o, "token", t->name, NULL);
		put_plain(&o, "spec");
		put_map_start(&o);
		put_plain(&o, "type");
		put_str(&o, t->type);
		put_plain(&o, "created");
		put_time(&o, t->created);
		put_plain(&o, "expires");
		put_time(&o, t->expires);
		if (mode & RES_STATE) {
			put_plain(&o, "hash");
			put_str(&o, t->hash);
		}
		put_map_end(&o);
		break;
	}
	put_map_end(&o);
	yout_emit(&o, yaml_document_end_event_initialize(&ev, 1), &ev);
	yout_emit(&o, yaml_stream_end_event_initialize(&ev), &ev);
	if (!o.failed && !yaml_emitter_flush(&o.em))
		o.failed = 1;
	yaml_emitter_delete(&o.em);
	if (o.failed) {
		/* A password hash may have reached the buffer. */
		if (o.b.data != NULL)
			explicit_bzero(o.b.data, o.b.len);
		buf_free(&o.b);
		return (NULL);
	}
	return (buf_release(&o.b, lenp));
}
