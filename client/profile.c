/*
 * The profile: $MCPGATE_HOME (default ~/.mcpgate), mode 0700, holding
 * profile.json (gateway, user, pinned CA fingerprint), ca.pem,
 * cert.pem and key.pem (0600).  Every file is written atomically.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"

#define PROFILE_MAXFILE	(64 * 1024)

/*
 * Where the profile lives, created 0700 if it does not exist yet.  On
 * failure err says why and what to do.
 */
int
profile_find(struct profile *p, char *err, size_t errlen)
{
	struct passwd	*pw;
	struct stat	 st;
	const char	*home;

	memset(p, 0, sizeof(*p));
	if ((home = getenv("MCPGATE_HOME")) != NULL && home[0] != '\0') {
		if (strlcpy(p->dir, home, sizeof(p->dir)) >= sizeof(p->dir)) {
			snprintf(err, errlen, "MCPGATE_HOME is too long");
			return (-1);
		}
	} else {
		if ((home = getenv("HOME")) == NULL || home[0] == '\0') {
			if ((pw = getpwuid(getuid())) == NULL) {
				snprintf(err, errlen, "no home directory: set "
				    "MCPGATE_HOME");
				return (-1);
			}
			home = pw->pw_dir;
		}
		if ((size_t)snprintf(p->dir, sizeof(p->dir), "%s/.mcpgate",
		    home) >= sizeof(p->dir)) {
			snprintf(err, errlen, "home directory path too long");
			return (-1);
		}
	}
	if ((mkdir(p->dir, 0700) == -1 && errno != EEXIST) ||
	    lstat(p->dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", p->dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
		snprintf(err, errlen, "%s must be a directory of yours",
		    p->dir);
		return (-1);
	}
	if (st.st_mode & 077) {
		if (chmod(p->dir, 0700) == -1) {
			snprintf(err, errlen, "chmod %s: %s", p->dir,
			    strerror(errno));
			return (-1);
		}
		warnx("%s was readable by others; it is 0700 now", p->dir);
	}
	return (0);
}

/* The same, or exit. */
int
profile_dir(struct profile *p)
{
	char	 err[PATH_MAX + 100];

	if (profile_find(p, err, sizeof(err)) == -1)
		errx(CLIENT_EXIT_FAIL, "%s", err);
	return (0);
}

int
profile_path(const struct profile *p, const char *file, char *buf,
    size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", p->dir, file) >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

int
profile_write(const struct profile *p, const char *file, const void *data,
    size_t len, mode_t mode)
{
	char	 path[PATH_MAX];

	if (profile_path(p, file, path, sizeof(path)) == -1 ||
	    write_file_atomic(path, data, len, mode) == -1) {
		warn("%s/%s", p->dir, file);
		return (-1);
	}
	return (0);
}

/* A file of the profile, or NULL (errno ENOENT when it is not there). */
char *
profile_read(const struct profile *p, const char *file, size_t *lenp)
{
	char	 path[PATH_MAX];
	char	*buf;
	size_t	 len;

	if (profile_path(p, file, path, sizeof(path)) == -1 ||
	    read_file(path, PROFILE_MAXFILE, &buf, &len) == -1)
		return (NULL);
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

int
profile_remove(const struct profile *p, const char *file)
{
	char	 path[PATH_MAX];

	if (profile_path(p, file, path, sizeof(path)) == -1)
		return (-1);
	if (unlink(path) == -1 && errno != ENOENT) {
		warn("%s", path);
		return (-1);
	}
	return (0);
}

int
profile_load(struct profile *p)
{
	json_error_t	 jerr;
	json_t		*o;
	char		*buf;
	size_t		 len;

	if ((buf = profile_read(p, "profile.json", &len)) == NULL) {
		if (errno == ENOENT)
			return (0);
		warn("%s/profile.json", p->dir);
		return (-1);
	}
	o = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!json_is_object(o)) {
		json_decref(o);
		warnx("%s/profile.json does not parse: %s", p->dir, jerr.text);
		return (-1);
	}
	strlcpy(p->proxy, json_string_value(json_object_get(o, "proxy")) ?
	    json_string_value(json_object_get(o, "proxy")) : "",
	    sizeof(p->proxy));
	strlcpy(p->user, json_string_value(json_object_get(o, "user")) ?
	    json_string_value(json_object_get(o, "user")) : "",
	    sizeof(p->user));
	strlcpy(p->ca_fingerprint, json_string_value(json_object_get(o,
	    "ca_fingerprint")) ? json_string_value(json_object_get(o,
	    "ca_fingerprint")) : "", sizeof(p->ca_fingerprint));
	json_decref(o);
	p->have = p->proxy[0] != '\0';
	return (0);
}

int
profile_save(struct profile *p)
{
	json_t	*o;
	char	*s;
	int	 ret;

	o = json_pack("{s:s,s:s,s:s}", "proxy", p->proxy, "user", p->user,
	    "ca_fingerprint", p->ca_fingerprint);
	if (o == NULL || (s = json_dumps(o, JSON_INDENT(2))) == NULL)
		errx(CLIENT_EXIT_FAIL, "cannot encode the profile");
	json_decref(o);
	ret = profile_write(p, "profile.json", s, strlen(s), 0600);
	free(s);
	p->have = ret == 0;
	return (ret);
}
