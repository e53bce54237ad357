/*
 * Fuzz the resource parser and writer of common/resource.c: the input is
 * a stream of YAML documents (roles, users, join tokens, apps), read in each of
 * the three modes.  Parsing must end with either resources that obey the
 * mode's rules or messages, never both, and must leak nothing.  Every
 * resource read is then written with resource_yaml() in the same mode and
 * read again: it must parse, as one resource of the same kind and name,
 * and writing that gives the same text.  A writer and a parser that
 * disagree lose a user's file at the next start, or change a role.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "headertpl.h"
#include "pattern.h"
#include "resource.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Large; keep them off the fuzzer's stack. */
static struct conf_errors	 errs, errs2;

static const int	 modes[] = { RES_ADMIN, RES_STATE, RES_SNAPSHOT };

static void
check_str(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
}

static int
is_hex(const char *s, size_t len, const char *digits)
{
	return (strlen(s) == len && strspn(s, digits) == len);
}

static const char *
res_name(const struct resource *r)
{
	switch (r->kind) {
	case RES_ROLE:
		return (r->u.role.name);
	case RES_USER:
		return (r->u.user.name);
	case RES_TOKEN:
		return (r->u.token.name);
	case RES_APP:
		return (r->u.app.name);
	}
	abort();
}

static void	 check_list(const struct strlist *, int, int);

/* An app's map of names to one string each. */
static void
check_string_map(const struct keyed_list *v, size_t n, int empty_ok)
{
	size_t	 i, j;

	if (n > RES_MAXMAP || (n > 0 && v == NULL))
		abort();
	for (i = 0; i < n; i++) {
		if (v[i].key == NULL || v[i].key[0] == '\0' ||
		    strlen(v[i].key) >= RES_NAMELEN || v[i].values.n != 1 ||
		    (!empty_ok && v[i].values.v[0][0] == '\0'))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(v[i].key, v[j].key) == 0)
				abort();
	}
}

static void
check_paths(const struct strlist *l)
{
	size_t	 i;

	check_list(l, 0, 0);
	for (i = 0; i < l->n; i++)
		if (l->v[i][0] != '/' || strstr(l->v[i], "/../") != NULL)
			abort();
}

/*
 * An HTTP or SSE app: its uri taken apart, no command; its tls only
 * with https, its templates valid and bounded, its timeout in range;
 * mcpd's copy holds none of how it is reached.
 */
static void
check_remote_app(const struct app_res *a, int mode)
{
	const struct app_remote	*r = &a->remote;
	char			 name[HEADER_NAME_MAX + 1];
	size_t			 i, len;

	check_str(r->host, sizeof(r->host));
	if (strncmp(a->uri, "mcp+", 4) != 0 || strlen(a->uri) > 1024 ||
	    strpbrk(a->uri, " \t\r\n#") != NULL)
		abort();
	if (r->url == NULL || r->path == NULL || r->path[0] != '/' ||
	    r->host[0] == '\0' || strchr(r->host, '@') != NULL ||
	    r->port == 0 || strncmp(r->url, r->tls ? "https://" : "http://",
	    r->tls ? 8 : 7) != 0 || strstr(r->url, r->host) == NULL ||
	    strcmp(r->url + strlen(r->url) - strlen(r->path), r->path) != 0)
		abort();
	if (a->command != NULL || a->args.n != 0 || a->nenv != 0 ||
	    a->cwd != NULL || a->run_as[0] != '\0')
		abort();
	if (mode & RES_SNAPSHOT) {
		if (r->ca_file != NULL || r->insecure || r->headers.n != 0 ||
		    r->timeout != 0)
			abort();
		return;
	}
	if (!r->tls && (r->ca_file != NULL || r->insecure))
		abort();
	if (r->ca_file != NULL && r->ca_file[0] != '/')
		abort();
	if (r->jwt_claims < APP_JWT_ROLES_TRAITS ||
	    r->jwt_claims > APP_JWT_NONE)
		abort();
	if (r->timeout < RES_APP_TIMEOUT_MIN ||
	    r->timeout > RES_APP_TIMEOUT_MAX)
		abort();
	if (r->headers.n > APP_HEADERS_MAX)
		abort();
	for (i = 0; i < r->headers.n; i++) {
		len = strlen(r->headers.v[i]);
		if (len == 0 || len > APP_HEADER_MAX ||
		    header_check(r->headers.v[i], name, sizeof(name), NULL,
		    0) == -1 || header_name_reserved(name))
			abort();
	}
}

/* An app as the mode allows it: mcpd's copy never says how it runs. */
static void
check_app(const struct app_res *a, int mode)
{
	size_t	 i;

	check_str(a->name, sizeof(a->name));
	check_str(a->run_as, sizeof(a->run_as));
	if (!app_name_ok(a->name) || a->uri == NULL || a->from_config)
		abort();
	check_string_map(a->labels, a->nlabels, 0);
	if (a->transport != APP_STDIO) {
		if (a->transport != APP_HTTP && a->transport != APP_SSE)
			abort();
		check_remote_app(a, mode);
		return;
	}
	if (strcmp(a->uri, RES_APP_URI_STDIO) != 0 || a->remote.url != NULL ||
	    a->remote.headers.n != 0 || a->remote.timeout != 0)
		abort();
	if (mode & RES_SNAPSHOT) {
		if (a->command != NULL || a->args.n != 0 || a->nenv != 0 ||
		    a->cwd != NULL || a->run_as[0] != '\0' ||
		    a->sandbox.read_only.n != 0 || a->sandbox.writable.n != 0)
			abort();
		return;
	}
	if (a->command == NULL || a->command[0] != '/' ||
	    a->run_as[0] == '\0' || strcmp(a->run_as, "root") == 0 ||
	    (a->cwd != NULL && a->cwd[0] != '/'))
		abort();
	if (a->args.n > RES_MAXLIST)
		abort();
	for (i = 0; i < a->args.n; i++)
		if (a->args.v[i] == NULL || strlen(a->args.v[i]) > RES_VALUELEN)
			abort();
	check_string_map(a->env, a->nenv, 1);
	for (i = 0; i < a->nenv; i++)
		if (strcmp(a->env[i].key, "HOME") == 0 ||
		    strcmp(a->env[i].key, "USER") == 0)
			abort();
	if (a->init_timeout < RES_APP_INIT_MIN ||
	    a->init_timeout > RES_APP_INIT_MAX)
		abort();
	if (a->sandbox.network != APP_NET_HOST &&
	    a->sandbox.network != APP_NET_NONE)
		abort();
	check_paths(&a->sandbox.read_only);
	check_paths(&a->sandbox.writable);
	if (a->sandbox.restricted != (a->sandbox.read_only.n > 0 ||
	    a->sandbox.writable.n > 0))
		abort();
	if (a->sandbox.memory_max != 0 &&
	    (a->sandbox.memory_max < RES_APP_MEMORY_MIN ||
	    a->sandbox.memory_max > RES_APP_MEMORY_MAX))
		abort();
	if (a->sandbox.tasks_max > RES_APP_TASKS_MAX)
		abort();
}

static void
check_errors(const struct conf_errors *e, int ret,
    const struct resources *rs, const char *file)
{
	size_t	 flen = strlen(file);
	int	 i;

	if (e->n < 0 || e->n > CONF_MAXERRORS || e->dropped < 0 ||
	    (e->dropped > 0 && e->n != CONF_MAXERRORS))
		abort();
	if ((ret == 0) != (e->n == 0) || (ret != 0 && ret != -1))
		abort();
	/* Refused: nothing handed back. */
	if (ret == -1 && (rs->n != 0 || rs->v != NULL))
		abort();
	for (i = 0; i < e->n; i++) {
		check_str(e->msg[i], sizeof(e->msg[i]));
		if (strncmp(e->msg[i], file, flen) != 0 ||
		    e->msg[i][flen] != ':')
			abort();
	}
}

/* A list as get_list() leaves it: bounded, no value twice. */
static void
check_list(const struct strlist *l, int patterns, int names)
{
	char	 err[256];
	size_t	 i, j;

	if (l->n > RES_MAXLIST || (l->n > 0 && l->v == NULL))
		abort();
	for (i = 0; i < l->n; i++) {
		if (l->v[i] == NULL || l->v[i][0] == '\0' ||
		    strlen(l->v[i]) > RES_VALUELEN)
			abort();
		if (patterns && !pattern_ok(l->v[i], err,
		    sizeof(err)))
			abort();
		if (names && !resource_name_ok(l->v[i]))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(l->v[i], l->v[j]) == 0)
				abort();
	}
}

static void
check_rules(const struct role_rules *r)
{
	char	 err[256];
	size_t	 i;

	if (r->nlabels > RES_MAXMAP || (r->nlabels > 0 && r->labels == NULL))
		abort();
	for (i = 0; i < r->nlabels; i++) {
		if (!pattern_ok(r->labels[i].key, err, sizeof(err)))
			abort();
		if (r->labels[i].values.n == 0)
			abort();
		check_list(&r->labels[i].values, 1, 0);
	}
	check_list(&r->tools, 1, 0);
}

/* What one resource read in mode may hold. */
static void
check_resource(const struct resource *r, int mode)
{
	const struct user	*u;
	const struct token	*t;
	size_t			 i, n;

	switch (r->kind) {
	case RES_ROLE:
		check_str(r->u.role.name, sizeof(r->u.role.name));
		if (r->u.role.description != NULL &&
		    (r->u.role.description[0] == '\0' ||
		    strlen(r->u.role.description) > RES_VALUELEN))
			abort();
		check_rules(&r->u.role.allow);
		check_rules(&r->u.role.deny);
		break;
	case RES_USER:
		u = &r->u.user;
		check_str(u->name, sizeof(u->name));
		check_str(u->generation, sizeof(u->generation));
		check_str(u->password, sizeof(u->password));
		check_str(u->invite, sizeof(u->invite));
		check_list(&u->roles, 0, 1);
		if (u->ntraits > RES_MAXMAP)
			abort();
		for (i = 0; i < u->ntraits; i++) {
			n = strlen(u->traits[i].key);
			if (n == 0 || n >= RES_NAMELEN ||
			    strspn(u->traits[i].key,
			    "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
				abort();
			check_list(&u->traits[i].values, 0, 0);
		}
		if (u->locked != 0 && u->locked != 1)
			abort();
		if (u->generation[0] != '\0' &&
		    !is_hex(u->generation, RES_GENLEN, "0123456789abcdef"))
			abort();
		if (u->password[0] != '\0' &&
		    strncmp(u->password, "$argon2id$", 10) != 0)
			abort();
		if (u->invite[0] != '\0' && !is_hex(u->invite, RES_HASHLEN,
		    "0123456789abcdefABCDEF"))
			abort();
		/* The gateway's own fields, where the mode allows them. */
		if ((mode & RES_ADMIN) && (u->locked || u->created != 0 ||
		    u->generation[0] != '\0'))
			abort();
		if (!(mode & RES_STATE) && (u->password[0] != '\0' ||
		    u->invite[0] != '\0' || u->invite_expires != 0))
			abort();
		break;
	case RES_TOKEN:
		t = &r->u.token;
		if (mode & RES_ADMIN)
			abort();
		check_str(t->name, sizeof(t->name));
		check_str(t->type, sizeof(t->type));
		check_str(t->hash, sizeof(t->hash));
		if (strcmp(t->type, "app") != 0 || t->expires == 0 ||
		    !is_hex(t->hash, RES_HASHLEN, "0123456789abcdefABCDEF"))
			abort();
		break;
	case RES_APP:
		check_app(&r->u.app, mode);
		break;
	default:
		abort();
	}
	if (!resource_name_ok(res_name(r)))
		abort();
}

/*
 * Write r in mode, read it back: one resource, the same kind and name,
 * and the same text when written again.  Appends the first text to
 * stream, as store_snapshot() does, for the caller to read as a whole.
 */
static void
round_trip(const struct resource *r, int mode, struct buf *stream)
{
	struct resources	 back;
	char			*y, *y2;
	size_t			 len, len2;

	if ((y = resource_yaml(r, mode, &len)) == NULL)
		abort();
	if (strlen(y) != len)
		abort();
	if (resource_parse("back", y, len, mode, &back, &errs2) == -1) {
		fprintf(stderr, "written in mode %d, does not parse back: "
		    "%s\n%s", mode, errs2.msg[0], y);
		abort();
	}
	check_errors(&errs2, 0, &back, "back");
	if (back.n != 1 || back.v[0].kind != r->kind ||
	    strcmp(res_name(&back.v[0]), res_name(r)) != 0)
		abort();
	check_resource(&back.v[0], mode);
	if ((y2 = resource_yaml(&back.v[0], mode, &len2)) == NULL)
		abort();
	if (len2 != len || memcmp(y, y2, len) != 0) {
		fprintf(stderr, "written in mode %d, read and written again, "
		    "it differs:\n%s---\n%s", mode, y, y2);
		abort();
	}
	buf_puts(stream, "---\n");
	buf_add(stream, y, len);
	free(y);
	free(y2);
	resources_free(&back);
}

static void
one_mode(const char *data, size_t size, int mode)
{
	struct resources	 rs, all;
	struct buf		 stream;
	char			*s;
	size_t			 i, len;
	int			 ret;

	ret = resource_parse("fuzz.yaml", data, size, mode, &rs, &errs);
	check_errors(&errs, ret, &rs, "fuzz.yaml");
	if (ret == -1)
		return;
	if (rs.n > RES_MAXDOCS || (rs.n > 0 && rs.v == NULL))
		abort();

	buf_init(&stream, 0);
	for (i = 0; i < rs.n; i++) {
		check_resource(&rs.v[i], mode);
		if (rs.v[i].line == 0)
			abort();
		round_trip(&rs.v[i], mode, &stream);
	}

	/* All of them in one stream read back as many. */
	if ((s = buf_release(&stream, &len)) == NULL)
		abort();
	if (resource_parse("stream", s, len, mode, &all, &errs2) == -1 ||
	    all.n != rs.n)
		abort();
	for (i = 0; i < rs.n; i++)
		if (all.v[i].kind != rs.v[i].kind ||
		    strcmp(res_name(&all.v[i]), res_name(&rs.v[i])) != 0)
			abort();
	free(s);
	resources_free(&all);
	resources_free(&rs);
	if (rs.n != 0 || rs.v != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;
	size_t	 i;

	/* An exact copy, not NUL-terminated, so that overreads show. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(buf, data, size);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		one_mode(buf, size, modes[i]);
	free(buf);
	return (0);
}
