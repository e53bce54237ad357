/*
 * What the mcp commands (ls, config and connect) share: the gateway's
 * list of MCP servers, label selectors, and this program's own path.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"

/*
 * The MCP servers the user may see, as the gateway's apps answer has
 * them: an array of objects with name, description, type, labels and
 * tools.  NULL and err when there is none to be had.  *offered says
 * whether the gateway offers any server at all: 1, 0, or -1 when it
 * does not say.
 */
json_t *
mcp_apps(int *offered, char *err, size_t errlen)
{
	json_t		*ans, *apps;
	SSL		*ssl;
	const char	*code, *msg, *adv;

	if ((ssl = gw_profile_connect(err, errlen)) == NULL)
		return (NULL);
	ans = gw_request(ssl, json_pack("{s:s}", "op", WIRE_OP_APPS), err,
	    errlen);
	gw_close(ssl);
	if (ans == NULL)
		return (NULL);
	if (!json_is_true(json_object_get(ans, "ok"))) {
		code = json_string_value(json_object_get(ans, "error"));
		msg = json_string_value(json_object_get(ans, "message"));
		code = code != NULL ? code : "";
		msg = msg != NULL ? msg : "no reason given";
		adv = gw_advice(code, msg);
		snprintf(err, errlen, "the gateway refused to list the MCP "
		    "servers: %s%s%s", msg, adv != NULL ? "; " : "",
		    adv != NULL ? adv : "");
		json_decref(ans);
		return (NULL);
	}
	apps = json_incref(json_object_get(ans, "apps"));
	*offered = json_is_boolean(json_object_get(ans, "offered")) ?
	    json_is_true(json_object_get(ans, "offered")) : -1;
	json_decref(ans);
	if (!json_is_array(apps)) {
		json_decref(apps);
		snprintf(err, errlen, "the gateway's answer has no list of "
		    "MCP servers");
		return (NULL);
	}
	return (apps);
}

/*
 * Add the pairs of "K=V[,K=V...]" to the object sel.  A key may not be
 * empty; a value may be.
 */
int
app_labels_parse(json_t *sel, const char *s)
{
	char	*copy, *pair, *next, *eq;
	int	 ret = 0;

	if ((copy = strdup(s)) == NULL)
		err(CLIENT_EXIT_FAIL, NULL);
	for (pair = copy; pair != NULL; pair = next) {
		if ((next = strchr(pair, ',')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(pair, '=')) == NULL || eq == pair) {
			ret = -1;
			break;
		}
		*eq = '\0';
		json_object_set_new(sel, pair, json_string(eq + 1));
	}
	free(copy);
	return (ret);
}

/* Whether every label of sel is on the server, with the same value. */
int
app_labels_select(json_t *app, json_t *sel)
{
	json_t		*labels = json_object_get(app, "labels"), *v;
	const char	*k, *have;

	json_object_foreach(sel, k, v) {
		have = json_string_value(json_object_get(labels, k));
		if (have == NULL || strcmp(have, json_string_value(v)) != 0)
			return (0);
	}
	return (1);
}

/* A program name looked up in PATH, as a shell would. */
static int
path_lookup(const char *name, char *buf, size_t len)
{
	const char	*path;
	char		*dirs, *dir, *next;
	char		 cand[PATH_MAX];
	int		 ret = -1;

	if ((path = getenv("PATH")) == NULL || (dirs = strdup(path)) == NULL)
		return (-1);
	for (dir = dirs; dir != NULL && ret == -1; dir = next) {
		if ((next = strchr(dir, ':')) != NULL)
			*next++ = '\0';
		if ((size_t)snprintf(cand, sizeof(cand), "%s/%s", dir[0] ?
		    dir : ".", name) < sizeof(cand) &&
		    access(cand, X_OK) == 0 && realpath(cand, buf) != NULL &&
		    strlen(buf) < len)
			ret = 0;
	}
	free(dirs);
	return (ret);
}

/* The running program's absolute path, for a client to run it again. */
int
self_path(char *buf, size_t len)
{
	char	 real[PATH_MAX];
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", buf, len - 1)) > 0) {
		buf[n] = '\0';
		return (0);
	}
	/* Without /proc (macOS): argv[0] as given, or found in PATH. */
	if (strchr(client_argv0, '/') == NULL)
		return (path_lookup(client_argv0, buf, len));
	if (realpath(client_argv0, real) == NULL)
		return (-1);
	if (strlcpy(buf, real, len) >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}
