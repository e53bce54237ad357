/*
 * The identity store: roles, users and join tokens, one YAML file per
 * resource under the state directory (roles/, users/, tokens/), written
 * atomically.  Only the parent reads and writes it; mcpd gets a snapshot
 * without secrets after every change.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "privsep.h"

#define STORE_MAXFILE	(1024 * 1024)

static const char *const kind_dirs[] = { "roles", "users", "tokens" };

static struct resources *
store_list(struct store *st, enum res_kind kind)
{
	return (&st->res[kind]);
}

int
store_is_preset(const char *role)
{
	return (strcmp(role, "access") == 0 || strcmp(role, "mcp-user") == 0 ||
	    strcmp(role, "auditor") == 0);
}

static int
store_path(struct store *st, enum res_kind kind, const char *name,
    char *buf, size_t len)
{
	if (!resource_name_ok(name) || (size_t)snprintf(buf, len,
	    "%s/%s/%s.yaml", st->dir, kind_dirs[kind], name) >= len) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

struct resource *
store_find(struct store *st, enum res_kind kind, const char *name)
{
	struct resources	*l = store_list(st, kind);
	size_t			 i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(kind == RES_ROLE ? l->v[i].u.role.name :
		    kind == RES_USER ? l->v[i].u.user.name :
		    l->v[i].u.token.name, name) == 0)
			return (&l->v[i]);
	}
	return (NULL);
}

static const char *
res_name(const struct resource *r)
{
	return (r->kind == RES_ROLE ? r->u.role.name : r->kind == RES_USER ?
	    r->u.user.name : r->u.token.name);
}

/* Write one resource's file; the in-memory copy is the caller's. */
int
store_save(struct store *st, const struct resource *res)
{
	char	 path[PATH_MAX];
	char	*yaml;
	size_t	 len;
	int	 ret;

	if (store_path(st, res->kind, res_name(res), path, sizeof(path)) ==
	    -1)
		return (-1);
	if ((yaml = resource_yaml(res, RES_STATE, &len)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	ret = write_file_atomic(path, yaml, len, 0600);
	freezero(yaml, len);
	if (ret == -1)
		log_warn("%s", path);
	return (ret);
}

/*
 * Add or replace a resource, on disk first, then in memory.  The store
 * takes what res holds; res is cleared either way.
 */
int
store_put(struct store *st, struct resource *res)
{
	struct resources	*l = store_list(st, res->kind);
	struct resource		*old, *nv;

	if (store_save(st, res) == -1) {
		resource_clear(res);
		return (-1);
	}
	if ((old = store_find(st, res->kind, res_name(res))) != NULL) {
		resource_clear(old);
		*old = *res;
	} else {
		if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL)
			fatal("%s", __func__);
		l->v = nv;
		l->v[l->n++] = *res;
	}
	memset(res, 0, sizeof(*res));
	return (0);
}

int
store_delete(struct store *st, enum res_kind kind, const char *name)
{
	struct resources	*l = store_list(st, kind);
	struct resource		*r;
	char			 path[PATH_MAX];
	size_t			 i;

	if ((r = store_find(st, kind, name)) == NULL) {
		errno = ENOENT;
		return (-1);
	}
	if (store_path(st, kind, name, path, sizeof(path)) == -1)
		return (-1);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		return (-1);
	}
	i = (size_t)(r - l->v);
	resource_clear(r);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
	return (0);
}

/* A deep copy, through the writer and the parser. */
int
store_copy(const struct resource *src, struct resource *dst)
{
	struct resources	 rs;
	struct conf_errors	 errs;
	char			*yaml;
	size_t			 len;
	int			 ret;

	if ((yaml = resource_yaml(src, RES_STATE, &len)) == NULL)
		return (-1);
	ret = resource_parse("copy", yaml, len, RES_STATE, &rs, &errs);
	freezero(yaml, len);
	if (ret == -1 || rs.n != 1) {
		resources_free(&rs);
		return (-1);
	}
	*dst = rs.v[0];
	free(rs.v);
	return (0);
}

static int
store_load_dir(struct store *st, enum res_kind kind)
{
	struct resources	 rs;
	struct conf_errors	 errs;
	struct dirent		*de;
	DIR			*d;
	char			 path[PATH_MAX], name[RES_NAMELEN + 8];
	char			*buf;
	size_t			 len, n;
	int			 i, ret = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", st->dir,
	    kind_dirs[kind]) >= sizeof(path)) {
		log_warnx("%s: path too long", st->dir);
		return (-1);
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", path);
		return (-1);
	}
	if ((d = opendir(path)) == NULL) {
		log_warn("%s", path);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", st->dir,
		    kind_dirs[kind], de->d_name) >= sizeof(path))
			continue;
		if (read_file(path, STORE_MAXFILE, &buf, &len) == -1) {
			log_warn("%s", path);
			ret = -1;
			continue;
		}
		i = resource_parse(path, buf, len, RES_STATE, &rs, &errs);
		freezero(buf, len);
		if (i == -1) {
			for (i = 0; i < errs.n; i++)
				log_warnx("%s", errs.msg[i]);
			ret = -1;
			continue;
		}
		if ((size_t)snprintf(name, sizeof(name), "%s.yaml",
		    rs.n == 1 ? res_name(&rs.v[0]) : "") >= sizeof(name))
			name[0] = '\0';
		if (rs.n != 1 || rs.v[0].kind != kind ||
		    strcmp(name, de->d_name) != 0) {
			log_warnx("%s must hold one %s named as the file",
			    path, resource_kind_name(kind));
			resources_free(&rs);
			ret = -1;
			continue;
		}
		if (store_find(st, kind, res_name(&rs.v[0])) != NULL) {
			resources_free(&rs);
			continue;
		}
		if ((st->res[kind].v = reallocarray(st->res[kind].v,
		    st->res[kind].n + 1, sizeof(struct resource))) == NULL)
			fatal("%s", __func__);
		st->res[kind].v[st->res[kind].n++] = rs.v[0];
		free(rs.v);
	}
	closedir(d);
	return (ret);
}

/*
 * Read the state directory, creating the preset roles that are missing.
 * A file that does not parse stops the start: it is named with its line.
 */
int
store_load(struct store *st, const char *dir)
{
	struct resources	 presets;
	struct conf_errors	 errs;
	size_t			 i;
	int			 kind;


	memset(st, 0, sizeof(*st));
	strlcpy(st->dir, dir, sizeof(st->dir));
	for (kind = RES_ROLE; kind <= RES_TOKEN; kind++)
		if (store_load_dir(st, kind) == -1)
			return (-1);
	/* A user without a generation gets one: no certificate matches it. */
	for (i = 0; i < st->res[RES_USER].n; i++) {
		struct user	*u = &st->res[RES_USER].v[i].u.user;

		if (u->generation[0] != '\0')
			continue;
		new_generation(u->generation);
		if (store_save(st, &st->res[RES_USER].v[i]) == -1)
			return (-1);
	}
	if (resource_parse("preset roles", resource_presets,
	    strlen(resource_presets), RES_ADMIN, &presets, &errs) == -1)
		fatalx("the preset roles do not parse: %s", errs.msg[0]);
	for (i = 0; i < presets.n; i++) {
		if (store_find(st, RES_ROLE, presets.v[i].u.role.name) !=
		    NULL)
			continue;
		log_info("created the preset role %s",
		    presets.v[i].u.role.name);
		if (store_put(st, &presets.v[i]) == -1) {
			resources_free(&presets);
			return (-1);
		}
	}
	resources_free(&presets);
	log_debug("identity store: %zu roles, %zu users, %zu tokens",
	    st->res[RES_ROLE].n, st->res[RES_USER].n, st->res[RES_TOKEN].n);
	return (0);
}

/* Roles and users without any secret, for mcpd. */
char *
store_snapshot(struct store *st, size_t *lenp)
{
	struct buf	 b;
	char		*y;
	size_t		 i, len;
	int		 kind;

	buf_init(&b, 0);
	for (kind = RES_ROLE; kind <= RES_USER; kind++) {
		for (i = 0; i < st->res[kind].n; i++) {
			if ((y = resource_yaml(&st->res[kind].v[i],
			    RES_SNAPSHOT, &len)) == NULL) {
				buf_free(&b);
				return (NULL);
			}
			buf_puts(&b, "---\n");
			buf_add(&b, y, len);
			free(y);
		}
	}
	return (buf_release(&b, lenp));
}

void
store_free(struct store *st)
{
	int	 kind;

	for (kind = RES_ROLE; kind <= RES_TOKEN; kind++)
		resources_free(&st->res[kind]);
}
