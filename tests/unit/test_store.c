/*
 * Unit tests for privsep/store.c: the preset roles on a fresh state
 * directory, a resource written atomically (whole, 0600, renamed into
 * place, no temporary left) and read back, a directory holding a file
 * that does not parse or is misnamed, the index by name across many
 * resources and deletions, store_put_all (all written, or none when one
 * cannot be), and the snapshot identity_push sends mcpd, without
 * credentials.  Each test works in a directory of its own under /tmp.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "../../privsep/privsep.h"
#include "unit.h"

#define PWHASH_FAKE	"$argon2id$v=19$m=19456,t=2,p=1$" \
			"c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"

/*
 * store.c sends mcpd its snapshot through the parent: here the messages
 * are kept for the test to look at.
 */
struct parent		*parent;
static struct parent	 tparent;
static struct buf	 sent;
static int		 sent_parts, sent_end, sent_other;

void
parent_send(enum proc_id id, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	(void)peerid;
	if (id != PROC_MCPD || fd != -1)
		sent_other++;
	else if (type == IMSG_SNAPSHOT) {
		sent_parts++;
		buf_add(&sent, data, len);
	} else if (type == IMSG_SNAPSHOT_END && len == 0)
		sent_end++;
	else
		sent_other++;
}

/* netd's table of origins: not sent while netd is not ready, as here. */
void
parent_sendv(enum proc_id id, uint32_t type, uint32_t peerid,
    const struct iovec *iov, int iovcnt)
{
	(void)id;
	(void)type;
	(void)peerid;
	(void)iov;
	(void)iovcnt;
	sent_other++;
}

static char	 dir[64];

static int
setup(void)
{
	strlcpy(dir, "/tmp/mgstore.XXXXXX", sizeof(dir));
	return (mkdtemp(dir) == NULL ? -1 : 0);
}

static void
teardown(struct store *st)
{
	store_free(st);
	t_rmtree(dir);
}

/* A user from mcpgatectl's YAML, with a generation and a password. */
static int
make_user(const char *name, const char *role, struct resource *r)
{
	struct resources	 rs;
	struct conf_errors	 errs;
	char			 y[512];

	snprintf(y, sizeof(y), "kind: user\nversion: v1\nmetadata:\n"
	    "  name: %s\nspec:\n  roles: [%s]\n", name, role);
	if (resource_parse("test", y, strlen(y), RES_ADMIN, &rs, &errs) ==
	    -1 || rs.n != 1) {
		resources_free(&rs);
		return (-1);
	}
	*r = rs.v[0];
	free(rs.v);
	store_new_generation(r->u.user.generation);
	strlcpy(r->u.user.password, PWHASH_FAKE, sizeof(r->u.user.password));
	r->u.user.created = 1700000000;
	return (0);
}

/* Files in dir/sub whose names contain what. */
static int
count_files(const char *sub, const char *what)
{
	char		 p[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	if ((d = opendir(p)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strstr(de->d_name, what) != NULL)
			n++;
	closedir(d);
	return (n);
}

static void
test_presets(void)
{
	struct store	 st;
	char		 p[PATH_MAX];
	int		 ok;

	T_ASSERT(setup() == 0);
	snprintf(p, sizeof(p), "%s/roles/access.yaml", dir);
	ok = store_load(&st, dir) == 0 &&
	    store_find(&st, RES_ROLE, "access") != NULL &&
	    store_find(&st, RES_ROLE, "mcp-user") != NULL &&
	    store_find(&st, RES_ROLE, "auditor") != NULL &&
	    store_find(&st, RES_ROLE, "nobody") == NULL &&
	    access(p, F_OK) == 0 && count_files("users", "") == 0 &&
	    count_files("tokens", "") == 0 && store_is_preset("auditor") &&
	    !store_is_preset("ops");
	teardown(&st);
	T_ASSERTF(ok, "a fresh state directory lacks its preset roles");
}

static void
test_put_atomic(void)
{
	struct store	 st, again;
	struct resource	 r, *f;
	struct stat	 sb1, sb2;
	char		 p[PATH_MAX];
	int		 step = 0;

	T_ASSERT(setup() == 0);
	memset(&again, 0, sizeof(again));
	snprintf(p, sizeof(p), "%s/users/alice.yaml", dir);
	step++;
	if (store_load(&st, dir) == -1 || make_user("alice", "access",
	    &r) == -1 || store_put(&st, &r) == -1 || stat(p, &sb1) == -1 ||
	    (sb1.st_mode & 07777) != 0600 ||
	    count_files("users", "XXX") != 0 ||
	    count_files("users", ".yaml.") != 0)
		goto fail;
	/* The store took the resource; the caller's copy is cleared. */
	step++;
	if (r.u.user.name[0] != '\0' ||
	    (f = store_find(&st, RES_USER, "alice")) == NULL ||
	    !strlist_has(&f->u.user.roles, "access"))
		goto fail;
	/* Replaced by a new file renamed over it, never written in place. */
	step++;
	if (make_user("alice", "auditor", &r) == -1 ||
	    store_put(&st, &r) == -1 || stat(p, &sb2) == -1 ||
	    sb1.st_ino == sb2.st_ino || count_files("users", "alice") != 1)
		goto fail;
	/* What is on disk reads back, credentials and all. */
	step++;
	if (store_load(&again, dir) == -1 ||
	    (f = store_find(&again, RES_USER, "alice")) == NULL ||
	    !strlist_has(&f->u.user.roles, "auditor") ||
	    strlist_has(&f->u.user.roles, "access") ||
	    strcmp(f->u.user.password, PWHASH_FAKE) != 0 ||
	    strlen(f->u.user.generation) != RES_GENLEN ||
	    f->u.user.created != 1700000000)
		goto fail;
	/* A name that is not one writes nothing and keeps nothing. */
	step++;
	if (make_user("bob", "access", &r) == -1)
		goto fail;
	strlcpy(r.u.user.name, "../bob", sizeof(r.u.user.name));
	if (store_put(&st, &r) != -1 || errno != EINVAL ||
	    store_find(&st, RES_USER, "../bob") != NULL ||
	    count_files("", "bob") != 0)
		goto fail;
	store_free(&again);
	teardown(&st);
	return;
 fail:
	store_free(&again);
	teardown(&st);
	T_ASSERTF(0, "step %d", step);
}

/* Write text as dir/sub/name. */
static int
put_file(const char *sub, const char *name, const char *text)
{
	char	 p[PATH_MAX];
	FILE	*f;

	snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
	if ((f = fopen(p, "w")) == NULL)
		return (-1);
	fputs(text, f);
	return (fclose(f));
}

static void
test_load_bad_file(void)
{
	struct store	 st;
	struct resource	 r;
	int		 ok, step = 0;

	T_ASSERT(setup() == 0);
	step++;
	ok = store_load(&st, dir) == 0 && make_user("carol", "access",
	    &r) == 0 && store_put(&st, &r) == 0;
	store_free(&st);
	/* A file that is not a .yaml is not the store's. */
	if (ok) {
		step++;
		ok = put_file("users", "README", "not yaml: [") == 0 &&
		    store_load(&st, dir) == 0 &&
		    store_find(&st, RES_USER, "carol") != NULL;
		store_free(&st);
	}
	/* One that does not parse stops the load. */
	if (ok) {
		step++;
		ok = put_file("users", "dave.yaml", "kind: user\n  : [\n") ==
		    0 && store_load(&st, dir) == -1;
		store_free(&st);
	}
	/* Nor one that holds another name than its own. */
	if (ok) {
		step++;
		ok = put_file("users", "dave.yaml", "") == 0;
		if (ok) {
			char	 a[PATH_MAX], b[PATH_MAX];

			snprintf(a, sizeof(a), "%s/users/carol.yaml", dir);
			snprintf(b, sizeof(b), "%s/users/dave.yaml", dir);
			ok = rename(a, b) == 0 && store_load(&st, dir) == -1;
			store_free(&st);
		}
	}
	/* Nor a user among the roles. */
	if (ok) {
		char	 a[PATH_MAX], b[PATH_MAX];

		step++;
		snprintf(a, sizeof(a), "%s/users/dave.yaml", dir);
		snprintf(b, sizeof(b), "%s/roles/carol.yaml", dir);
		ok = rename(a, b) == 0 && store_load(&st, dir) == -1;
		store_free(&st);
	}
	t_rmtree(dir);
	T_ASSERTF(ok, "step %d", step);
}

static void
test_index(void)
{
	struct store	 st;
	struct resource	 r, *f;
	char		 name[32];
	int		 i, step = 0;

	T_ASSERT(setup() == 0);
	step++;
	if (store_load(&st, dir) == -1)
		goto fail;
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		if (make_user(name, "access", &r) == -1 ||
		    store_put(&st, &r) == -1)
			goto fail;
	}
	/* Every tenth goes; the others are found, each as itself. */
	step++;
	for (i = 0; i < 300; i += 10) {
		snprintf(name, sizeof(name), "user%03d", i);
		if (store_delete(&st, RES_USER, name) == -1)
			goto fail;
	}
	step++;
	if (store_delete(&st, RES_USER, "user000") != -1 || errno != ENOENT ||
	    st.res[RES_USER].n != 270 || count_files("users", "") != 270)
		goto fail;
	step++;
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		f = store_find(&st, RES_USER, name);
		if (i % 10 == 0 ? f != NULL : f == NULL ||
		    strcmp(f->u.user.name, name) != 0)
			goto fail;
	}
	/* A kind's index is its own. */
	step++;
	if (store_find(&st, RES_ROLE, "user001") != NULL ||
	    store_find(&st, RES_USER, "access") != NULL ||
	    store_find(&st, RES_USER, "") != NULL)
		goto fail;
	teardown(&st);
	return;
 fail:
	teardown(&st);
	T_ASSERTF(0, "step %d, %s", step, name);
}

static void
test_put_all(void)
{
	struct store		 st, again;
	struct resources	 rs;
	struct resource		 r;
	char			 name[32];
	size_t			 done = 99;
	int			 i, step = 0;

	T_ASSERT(setup() == 0);
	memset(&rs, 0, sizeof(rs));
	memset(&again, 0, sizeof(again));
	step++;
	if (store_load(&st, dir) == -1)
		goto fail;
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "batch%03d", i);
		if (make_user(name, "mcp-user", &r) == -1 ||
		    resources_add(&rs, &r) == -1)
			goto fail;
	}
	step++;
	if (store_put_all(&st, &rs, &done) != 0 || done != 500 ||
	    count_files("users", "batch") != 500 ||
	    count_files("users", ".yaml.") != 0 ||
	    store_find(&st, RES_USER, "batch499") == NULL)
		goto fail;
	resources_free(&rs);
	memset(&rs, 0, sizeof(rs));
	step++;
	if (store_load(&again, dir) == -1 || again.res[RES_USER].n != 500)
		goto fail;
	/* One that cannot be written: none is, and rs keeps them all. */
	step++;
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "late%d", i);
		if (make_user(name, "access", &r) == -1 ||
		    resources_add(&rs, &r) == -1)
			goto fail;
	}
	strlcpy(rs.v[3].u.user.name, "bad/name", sizeof(rs.v[3].u.user.name));
	if (store_put_all(&st, &rs, &done) != -1 || done != 0 ||
	    rs.n != 5 || count_files("users", "late") != 0 ||
	    count_files("users", ".yaml.") != 0 ||
	    store_find(&st, RES_USER, "late0") != NULL)
		goto fail;
	resources_free(&rs);
	store_free(&again);
	teardown(&st);
	return;
 fail:
	resources_free(&rs);
	store_free(&again);
	teardown(&st);
	T_ASSERTF(0, "step %d", step);
}

static void
test_identity_push(void)
{
	struct resource	 r;
	char		*text = NULL;
	int		 ok;

	T_ASSERT(setup() == 0);
	parent = &tparent;
	buf_init(&sent, 0);
	sent_parts = sent_end = sent_other = 0;
	ok = store_load(&tparent.store, dir) == 0 &&
	    make_user("erin", "auditor", &r) == 0 &&
	    store_put(&tparent.store, &r) == 0;
	if (ok) {
		identity_push();
		buf_add(&sent, "", 1);
		text = sent.data;
		ok = sent_parts >= 1 && sent_end == 1 && sent_other == 0 &&
		    text != NULL && strstr(text, "name: \"erin\"") != NULL &&
		    strstr(text, "name: \"auditor\"") != NULL &&
		    strstr(text, "argon2") == NULL &&
		    strstr(text, "password") == NULL;
	}
	buf_free(&sent);
	teardown(&tparent.store);
	parent = NULL;
	T_ASSERTF(ok, "the snapshot: %d parts, %d ends, %d others", sent_parts,
	    sent_end, sent_other);
}

int
main(void)
{
	t_suite = "store";
	log_init(1, LOG_DAEMON);
	log_setlevel(LOG_LVL_WARNING);
	T_RUN(test_presets);
	T_RUN(test_put_atomic);
	T_RUN(test_load_bad_file);
	T_RUN(test_index);
	T_RUN(test_put_all);
	T_RUN(test_identity_push);
	return (t_done());
}
