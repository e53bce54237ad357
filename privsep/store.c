/*
 * The identity store: roles, users, join tokens and the apps created
 * with mcpgatectl, one YAML file per resource under the state directory
 * (roles/, users/, tokens/, apps/), written
 * atomically.  Only the parent reads and writes it; mcpd gets a snapshot
 * without secrets after every change (identity_push).
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

#include <openssl/rand.h>

#include "buf.h"
#include "compat.h"
#include "log.h"
#include "privsep.h"

/*
 * Larger than any resource the gateway can write (mcpgatectl create takes
 * 4 MiB of YAML at most), so that nothing it wrote keeps it from starting.
 */
#define STORE_MAXFILE	(64 * 1024 * 1024)

static const char *const kind_dirs[] = { "roles", "users", "tokens",
    "apps" };

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

static const char *
res_name(const struct resource *r)
{
	return (resource_name(r));
}

/*
 * Each kind's resources are an array, in the order they came; an index
 * by name finds one in logarithmic time, for a store of many thousands.
 */
static int
store_entry_cmp(struct store_entry *a, struct store_entry *b)
{
	return (strcmp(a->name, b->name));
}

RB_GENERATE_STATIC(store_index, store_entry, entry, store_entry_cmp)

static struct store_entry *
store_lookup(struct store *st, enum res_kind kind, const char *name)
{
	struct store_entry	 k;

	if (strlcpy(k.name, name, sizeof(k.name)) >= sizeof(k.name))
		return (NULL);
	return (RB_FIND(store_index, &st->index[kind], &k));
}

struct resource *
store_find(struct store *st, enum res_kind kind, const char *name)
{
	struct store_entry	*e;

	if ((e = store_lookup(st, kind, name)) == NULL)
		return (NULL);
	return (&store_list(st, kind)->v[e->i]);
}

/* Take res (cleared) as a new resource of the store, in memory. */
static void
store_append(struct store *st, struct resource *res)
{
	struct resources	*l = store_list(st, res->kind);
	struct store_entry	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal("%s", __func__);
	strlcpy(e->name, res_name(res), sizeof(e->name));
	e->i = l->n;
	if (RB_INSERT(store_index, &st->index[res->kind], e) != NULL)
		fatalx("%s: %s is there twice", __func__, e->name);
	if (resources_add(l, res) == -1)
		fatal("%s", __func__);
}

/* Take res in memory, in place of the one of its name if there is one. */
static void
store_take(struct store *st, struct resource *res)
{
	struct resource	*old;

	if ((old = store_find(st, res->kind, res_name(res))) != NULL) {
		resource_clear(old);
		*old = *res;
		memset(res, 0, sizeof(*res));
	} else
		store_append(st, res);
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
	if (store_save(st, res) == -1) {
		resource_clear(res);
		return (-1);
	}
	store_take(st, res);
	return (0);
}

/*
 * Add or replace many resources at once, as mcpgatectl create does: each
 * written to a temporary file, one sync of the file system for all of
 * them, then each renamed into place and the directories synced, so that
 * ten thousand users cost one sync, not twenty thousand.  The store takes
 * those that were written (*done of them, from the first), and rs keeps
 * the others.  Returns -1 when not all were written.
 */
int
store_put_all(struct store *st, struct resources *rs, size_t *done)
{
	char	 path[PATH_MAX], (*tmp)[PATH_MAX];
	char	*yaml;
	size_t	 i, n = 0, len;
	ssize_t	 w;
	int	 fd, dfd, kind, ret = -1;

	*done = 0;
	if ((tmp = calloc(rs->n > 0 ? rs->n : 1, sizeof(*tmp))) == NULL)
		return (-1);
	for (n = 0; n < rs->n; n++) {
		if (store_path(st, rs->v[n].kind, res_name(&rs->v[n]), path,
		    sizeof(path)) == -1 || (size_t)snprintf(tmp[n],
		    sizeof(tmp[n]), "%s.XXXXXX", path) >= sizeof(tmp[n]))
			goto out;
		if ((yaml = resource_yaml(&rs->v[n], RES_STATE, &len)) ==
		    NULL) {
			errno = ENOMEM;
			goto out;
		}
		if ((fd = mkostemp(tmp[n], O_CLOEXEC)) == -1) {
			freezero(yaml, len);
			goto out;
		}
		w = fchmod(fd, 0600) == 0 ? write(fd, yaml, len) : -1;
		freezero(yaml, len);
		if (close(fd) == -1 || w != (ssize_t)len) {
			if (w >= 0 && w != (ssize_t)len)
				errno = EIO;
			unlink(tmp[n]);
			goto out;
		}
	}
	if ((dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out;
	if (syncfs(dfd) == -1) {
		close(dfd);
		goto out;
	}
	close(dfd);
	for (i = 0; i < n; i++) {
		store_path(st, rs->v[i].kind, res_name(&rs->v[i]), path,
		    sizeof(path));
		if (rename(tmp[i], path) == -1)
			break;
		tmp[i][0] = '\0';
	}
	for (kind = RES_ROLE; kind < RES_KINDS; kind++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", st->dir,
		    kind_dirs[kind]) >= sizeof(path))
			continue;
		if ((dfd = open(path, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) != -1) {
			fsync(dfd);
			close(dfd);
		}
	}
	for (*done = 0; *done < i; (*done)++)
		store_take(st, &rs->v[*done]);
	ret = i == rs->n ? 0 : -1;
	n = i;
 out:
	if (ret == -1)
		log_warn("%s: writing %zu resources", st->dir, rs->n);
	for (i = 0; i < n; i++)
		if (tmp[i][0] != '\0')
			unlink(tmp[i]);
	free(tmp);
	return (ret);
}

int
store_delete(struct store *st, enum res_kind kind, const char *name)
{
	struct resources	*l = store_list(st, kind);
	struct store_entry	*e;
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
	/* Those after it moved down by one. */
	e = store_lookup(st, kind, name);
	RB_REMOVE(store_index, &st->index[kind], e);
	free(e);
	RB_FOREACH(e, store_index, &st->index[kind])
		if (e->i > i)
			e->i--;
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
		store_append(st, &rs.v[0]);
		free(rs.v);
	}
	closedir(d);
	return (ret);
}

/* A user's new generation: 63 random bits, as 16 hex digits. */
void
store_new_generation(char gen[RES_GENLEN + 1])
{
	unsigned char	 raw[RES_GENLEN / 2];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	raw[0] &= 0x7f;		/* the serial stays positive */
	hex_encode(raw, sizeof(raw), gen, RES_GENLEN + 1);
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
	for (kind = RES_ROLE; kind < RES_KINDS; kind++)
		RB_INIT(&st->index[kind]);
	for (kind = RES_ROLE; kind < RES_KINDS; kind++)
		if (store_load_dir(st, kind) == -1)
			return (-1);
	/* A user without a generation gets one: no certificate matches it. */
	for (i = 0; i < st->res[RES_USER].n; i++) {
		struct user	*u = &st->res[RES_USER].v[i].u.user;

		if (u->generation[0] != '\0')
			continue;
		store_new_generation(u->generation);
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
	log_debug("identity store: %zu roles, %zu users, %zu tokens, %zu "
	    "apps", st->res[RES_ROLE].n, st->res[RES_USER].n,
	    st->res[RES_TOKEN].n, st->res[RES_APP].n);
	return (0);
}

/*
 * Roles and users without any secret, for mcpd: handed to part, a few
 * hundred KiB of whole documents at a time (a document larger than that
 * makes a part of its own).  Returns -1 when a resource cannot be written.
 */
int
store_snapshot(struct store *st, void (*part)(const char *, size_t))
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
				return (-1);
			}
			if (b.len > 0 && b.len + len + 4 > STORE_SNAPSHOT_PART) {
				part(b.data, b.len);
				b.len = 0;
			}
			buf_puts(&b, "---\n");
			buf_add(&b, y, len);
			free(y);
			if (b.failed) {
				buf_free(&b);
				return (-1);
			}
		}
	}
	if (b.len > 0)
		part(b.data, b.len);
	buf_free(&b);
	return (0);
}

static void
identity_part(const char *yaml, size_t len)
{
	parent_send(PROC_MCPD, IMSG_SNAPSHOT, 0, -1, yaml, len);
}

/*
 * Send mcpd what it needs to judge certificates and sessions, and the
 * apps it offers, in parts of whole documents and then the end, whatever
 * its size; and netd the origins of the HTTP and SSE apps among them.
 */
void
identity_push(void)
{
	if (store_snapshot(&parent->store, identity_part) == -1 ||
	    apps_snapshot_send(identity_part) == -1)
		fatalx("cannot build the identity snapshot");
	parent_send(PROC_MCPD, IMSG_SNAPSHOT_END, 0, -1, NULL, 0);
	httpapp_origins_push();
}

void
store_free(struct store *st)
{
	struct store_entry	*e;
	int			 kind;

	for (kind = RES_ROLE; kind < RES_KINDS; kind++) {
		resources_free(&st->res[kind]);
		while ((e = RB_MIN(store_index, &st->index[kind])) != NULL) {
			RB_REMOVE(store_index, &st->index[kind], e);
			free(e);
		}
	}
}
