/*
 * The apps the gateway offers, as the parent alone knows them: those of
 * app_service.apps in the configuration and the kind: app resources of
 * the store.  mcpd names an app; what runs, as whom and where is looked
 * up here and nowhere else.
 *
 * A name in both: the configuration wins.  mcpgatectl create refuses an
 * app of a name the configuration holds, but a reload may add one to the
 * configuration that the store already has; that app of the store then
 * stays hidden (and is said so in the log) until the configuration's is
 * removed.  With app_service.enabled false there is no app at all.
 *
 * An HTTP or SSE app runs nowhere here: httpapp.c tells netd where its
 * server is and what a session's identity headers are.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "headertpl.h"
#include "log.h"
#include "privsep.h"

/* The app of that name in configuration c, or NULL. */
const struct app_res *
app_config(const struct mcpgated_conf *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->napps; i++)
		if (strcmp(c->apps[i].name, name) == 0)
			return (&c->apps[i]);
	return (NULL);
}

/*
 * The app of that name, from the configuration or the store, or NULL.
 * The pointer is good until the next reload or change of the store:
 * copy what must outlive the call.
 */
const struct app_res *
app_lookup(const char *name)
{
	const struct app_res	*a;
	struct resource		*r;

	if (!parent->conf.app_enabled)
		return (NULL);
	if ((a = app_config(&parent->conf, name)) != NULL)
		return (a);
	if ((r = store_find(&parent->store, RES_APP, name)) != NULL)
		return (&r->u.app);
	return (NULL);
}

/* One app for mcpd: what users may see of it, never how it runs. */
static int
app_snapshot_one(struct buf *b, const struct app_res *a,
    void (*part)(const char *, size_t))
{
	struct resource	 res;
	char		*y;
	size_t		 len;

	memset(&res, 0, sizeof(res));
	res.kind = RES_APP;
	res.u.app = *a;		/* borrowed: not cleared */
	y = resource_yaml(&res, RES_SNAPSHOT, &len);
	explicit_bzero(&res, sizeof(res));
	if (y == NULL)
		return (-1);
	if (b->len > 0 && b->len + len + 4 > STORE_SNAPSHOT_PART) {
		part(b->data, b->len);
		b->len = 0;
	}
	buf_puts(b, "---\n");
	buf_add(b, y, len);
	free(y);
	return (b->failed ? -1 : 0);
}

/*
 * The apps users may be offered, for mcpd's snapshot: the
 * configuration's, then the store's that no app of the configuration
 * hides; none when app_service is disabled.
 */
int
apps_snapshot_send(void (*part)(const char *, size_t))
{
	struct resources	*l = &parent->store.res[RES_APP];
	struct buf		 b;
	size_t			 i;
	int			 ret = 0;

	if (!parent->conf.app_enabled)
		return (0);
	buf_init(&b, 0);
	for (i = 0; ret == 0 && i < parent->conf.napps; i++)
		ret = app_snapshot_one(&b, &parent->conf.apps[i], part);
	for (i = 0; ret == 0 && i < l->n; i++) {
		if (app_config(&parent->conf, l->v[i].u.app.name) != NULL)
			continue;
		ret = app_snapshot_one(&b, &l->v[i].u.app, part);
	}
	if (ret == 0 && b.len > 0)
		part(b.data, b.len);
	buf_free(&b);
	return (ret);
}

/* Say which apps of the store the configuration hides, at start and reload. */
void
apps_log_hidden(void)
{
	struct resources	*l = &parent->store.res[RES_APP];
	size_t			 i;

	for (i = 0; i < l->n; i++)
		if (app_config(&parent->conf, l->v[i].u.app.name) != NULL)
			log_warnx("app %s of the configuration hides the "
			    "app of that name created with mcpgatectl; "
			    "remove one of them", l->v[i].u.app.name);
}

/*
 * A file of CA certificates: a regular file (a link to one will do) of
 * at most max bytes, readable, with at least one certificate in PEM.
 * Its contents (NUL-terminated) and their length in *lenp; NULL with
 * what is wrong in err, the file named as what says ("tls.ca_file").
 */
char *
app_ca_load(const char *path, const char *what, size_t max, size_t *lenp,
    char *err, size_t len)
{
	struct stat	 st;
	BIO		*bio;
	X509		*x;
	char		*buf;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd, certs = 0;

	/* Not blocking on a FIFO. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, len, "%s %s: %s", what, path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, len, "%s %s: %s", what, path, strerror(errno));
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		if (!S_ISREG(st.st_mode))
			snprintf(err, len, "%s %s is not a regular file", what,
			    path);
		else
			snprintf(err, len, "%s %s is larger than %zu MiB",
			    what, path, max / (1024 * 1024));
		close(fd);
		return (NULL);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("%s", __func__);
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, len, "%s %s: %s", what, path,
			    n == 0 ? "shorter than it was" : strerror(errno));
			close(fd);
			free(buf);
			return (NULL);
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	if ((bio = BIO_new_mem_buf(buf, (int)off)) == NULL)
		fatalx("%s: BIO_new_mem_buf", __func__);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		certs++;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (certs == 0) {
		snprintf(err, len, "%s %s holds no certificate in PEM "
		    "(-----BEGIN CERTIFICATE-----)", what, path);
		free(buf);
		return (NULL);
	}
	*lenp = off;
	return (buf);
}

/* tls.ca_file, as app_ca_load() reads it. */
static int
app_check_ca(const char *path, char *err, size_t len)
{
	char	*pem;
	size_t	 n;

	if ((pem = app_ca_load(path, "tls.ca_file", APP_CA_FILE_MAX, &n, err,
	    len)) == NULL)
		return (-1);
	free(pem);
	return (0);
}

/*
 * Whether HTTP or SSE app a can be reached as written: its CA file, and
 * its header templates (which the parser checked: the state directory
 * may hold what an older gateway took).  Says insecure_skip_verify to
 * warn().
 */
static int
app_check_remote(const struct app_res *a,
    void (*say)(const char *, const char *),
    void (*warn)(const char *, const char *))
{
	char	 err[PATH_MAX + 128];
	size_t	 i;
	int	 n = 0;

	if (a->remote.ca_file != NULL && app_check_ca(a->remote.ca_file, err,
	    sizeof(err)) == -1) {
		say(a->name, err);
		n++;
	}
	if (a->remote.insecure)
		warn(a->name, "tls.insecure_skip_verify is true: the server's "
		    "certificate is not verified, and anyone on the way to "
		    "it can pose as it");
	for (i = 0; i < a->remote.headers.n; i++) {
		if (header_check(a->remote.headers.v[i], NULL, 0, err,
		    sizeof(err)) == 0)
			continue;
		say(a->name, err);
		n++;
	}
	return (n);
}

/* A path an app needs, checked; says what is wrong in err. */
static int
app_check_path(const char *what, const char *path, int dir, char *err,
    size_t len)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		snprintf(err, len, "%s %s: %s", what, path, strerror(errno));
		return (-1);
	}
	if (dir == 1 && !S_ISDIR(st.st_mode)) {
		snprintf(err, len, "%s %s is not a directory", what, path);
		return (-1);
	}
	return (0);
}

/*
 * Whether app a can run as written: its command a regular file with an
 * execute bit (root may execute any file, so access(2) would say yes to
 * a file nobody can run), its user a user of the host but root, its
 * directory and its sandbox's paths there; or, of an HTTP or SSE app,
 * what app_check_remote() checks.  Each problem goes to say(), each
 * warning to warn(), with the app's name.  Returns the number of
 * problems.
 */
int
app_check(const struct app_res *a, void (*say)(const char *, const char *),
    void (*warn)(const char *, const char *))
{
	struct passwd	*pw;
	struct stat	 st;
	char		 err[PATH_MAX + 128];
	size_t		 i;
	int		 n = 0;

	if (a->transport != APP_STDIO)
		return (app_check_remote(a, say, warn));
	if (stat(a->command, &st) == -1) {
		snprintf(err, sizeof(err), "command %s: %s", a->command,
		    strerror(errno));
		say(a->name, err);
		n++;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, sizeof(err), "command %s is not a regular file",
		    a->command);
		say(a->name, err);
		n++;
	} else if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
		snprintf(err, sizeof(err), "command %s is not executable "
		    "(it has no x bit)", a->command);
		say(a->name, err);
		n++;
	}
	errno = 0;
	if ((pw = getpwnam(a->run_as)) == NULL) {
		snprintf(err, sizeof(err), "run_as_host_user %s does not exist "
		    "on this host", a->run_as);
		say(a->name, err);
		n++;
	} else if (pw->pw_uid == 0) {
		snprintf(err, sizeof(err), "run_as_host_user %s has uid 0: "
		    "give the server a user of its own", a->run_as);
		say(a->name, err);
		n++;
	}
	if (a->cwd != NULL && app_check_path("cwd", a->cwd, 1, err,
	    sizeof(err)) == -1) {
		say(a->name, err);
		n++;
	}
	for (i = 0; i < a->sandbox.read_only.n; i++) {
		if (app_check_path("read_only_paths:",
		    a->sandbox.read_only.v[i], 0, err, sizeof(err)) == 0)
			continue;
		say(a->name, err);
		n++;
	}
	for (i = 0; i < a->sandbox.writable.n; i++) {
		if (app_check_path("writable_paths:",
		    a->sandbox.writable.v[i], 0, err, sizeof(err)) == 0)
			continue;
		say(a->name, err);
		n++;
	}
	return (n);
}
