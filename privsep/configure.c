/*
 * mcpgated configure: a complete, commented mcpgated.conf(5) with every
 * key spelled out.  The keys and their defaults come from common/config.c
 * (config_foreach_key), so that a key added there is in this output with
 * the value the daemon would take; only the comments are here, and the
 * unit test fails for a key without one.  mcpgated install systemd: the
 * unit of systemd/mcpgated.service.in, its paths those of make install.
 *
 * Both write to standard output, or with -o to a file, replaced
 * atomically (a temporary file beside it, then rename) when it exists
 * only with --force, or when it holds the defaults and nothing would be
 * lost.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "configure.h"
#include "privsep.h"
#include "utf8.h"
#include "mcpgated_service.h"	/* generated: MCPGATED_SERVICE */

#define CONFIGURE_MAXAPPS	CONF_MAXAPPS

/* What each key is for: one or more lines of comment above it. */
static const struct {
	const char	*section;
	const char	*key;
	const char	*text;
} key_help[] = {
	{ "mcpgated", "user", "netd and mcpd run as this user" },
	{ "mcpgated", "audit_user", "auditd runs as this user" },
	{ "mcpgated", "resolver_user", "the DNS resolver of HTTP apps runs "
	    "as this user" },
	{ "mcpgated", "chroot", "the children's root; created root-owned "
	    "0755 if missing" },
	{ "mcpgated", "state_dir", "the CA, keys and identities; root 0700" },
	{ "mcpgated", "control_socket", "mcpgatectl's way in" },
	{ "mcpgated", "log_level", "debug | info | warning | error" },
	{ "proxy_service", "enabled", "the gateway's TLS listener" },
	{ "proxy_service", "name", "the gateway's name, shown to users" },
	{ "proxy_service", "listen_addr", "numeric host:port, IPv4 or "
	    "[IPv6]; a list allowed" },
	{ "proxy_service", "public_addr", "what clients dial, when not "
	    "listen_addr: host or host:port" },
	{ "proxy_service", "cert_ttl", "how long a login's certificate "
	    "lasts" },
	{ "app_service", "enabled", "serve the apps below" },
	{ "app_service", "mcp_demo_server", "the built-in app mcpgate-demo, "
	    "to try the gateway" },
	{ "app_service", "apps", "MCP servers over stdio, one process a "
	    "session (mcpgated.conf(5));\n"
	    "labels let roles choose among apps (mcp-user's {'*': '*'} "
	    "takes all), e.g.\n"
	    "- name: everything\n"
	    "  labels: {env: dev}\n"
	    "  mcp:\n"
	    "    command: /usr/bin/node\n"
	    "    args: [/opt/mcp/everything/dist/index.js, stdio]\n"
	    "    run_as_host_user: mcp-everything" },
	{ "audit", "dir", "the audit journal; _mcpgate-audit 0750" },
	{ "audit", "fsync", "always | batch | none" },
	{ "audit", "max_file_size", "a journal file is rotated at this size" },
	{ "audit", "on_failure", "deny | allow: what an unrecordable "
	    "request gets" },
	{ "audit", "syslog", "each record also to syslog(3), as written; "
	    "facility one of\n"
	    "auth, authpriv, daemon, local0 to local7 (mcpgate-audit(5))" },
	{ "auth", "password_min_length", "for passwords users set with an "
	    "invite" },
	{ "auth", "throttle_failures", "of a user from a /24 or /64, before "
	    "delays" },
	{ "auth", "throttle_prefix_failures", "from a /24 or /64, any users, "
	    "before delays" },
	{ "auth", "throttle_delay", "the first delay; it doubles with each "
	    "failure" },
	{ "auth", "throttle_max_delay", "the longest delay" },
	{ "auth", "throttle_entries", "entries in each table, the oldest "
	    "evicted" },
	{ "auth", "lock_failures", "of a user, from lock_prefixes prefixes, "
	    "lock it" },
	{ "auth", "lock_prefixes", "for lock_duration" },
	{ "auth", "lock_duration", "how long a locked user stays locked" },
	{ "auth", "failure_memory", "a count is forgotten after this long" },
	{ "limits", "max_message_size", "of one MCP message" },
	{ "limits", "max_connections", "open at once" },
	{ "limits", "handshake_timeout", "for the TLS handshake" },
	{ "limits", "max_buffered", "for every connection together" },
	{ "limits", "max_json_values", "in one message" },
	{ "limits", "max_sessions_per_user", "open at once" },
	{ "limits", "max_connections_per_address", "an IPv4 address or IPv6 "
	    "/64, before login" },
	{ "limits", "init_timeout", "a session must initialize within it" },
	{ "limits", "idle_timeout", "0: sessions may stay idle" },
	{ NULL, NULL, NULL }
};

struct writer {
	FILE				*fp;
	const struct configure_opts	*o;
	const char			*section;
};

static const char *
key_help_text(const char *section, const char *key)
{
	size_t	 i;

	for (i = 0; key_help[i].key != NULL; i++)
		if (strcmp(key_help[i].section, section) == 0 &&
		    strcmp(key_help[i].key, key) == 0)
			return (key_help[i].text);
	return (NULL);
}

/* Lines of a comment, each "  # ". */
static void
write_comment(FILE *fp, const char *indent, const char *text)
{
	size_t	 n;

	while (*text != '\0') {
		n = strcspn(text, "\n");
		fprintf(fp, "%s# %.*s\n", indent, (int)n, text);
		text += n;
		if (*text == '\n')
			text++;
	}
}

static int
write_apps(FILE *fp, const struct configure_opts *o)
{
	const struct configure_app	*a;
	size_t				 i, j;
	char				*q;

	if (o->napps == 0) {
		fprintf(fp, "  apps: []\n");
		return (0);
	}
	fprintf(fp, "  apps:\n");
	for (i = 0; i < o->napps; i++) {
		a = &o->apps[i];
		if ((q = config_yaml_scalar(a->name)) == NULL)
			return (-1);
		fprintf(fp, "  - name: %s\n    mcp:\n", q);
		free(q);
		if ((q = config_yaml_scalar(a->command)) == NULL)
			return (-1);
		fprintf(fp, "      command: %s\n", q);
		free(q);
		fprintf(fp, "      args: [");
		for (j = 0; j < a->nargs; j++) {
			if ((q = config_yaml_scalar(a->args[j])) == NULL)
				return (-1);
			fprintf(fp, "%s%s", j > 0 ? ", " : "", q);
			free(q);
		}
		fprintf(fp, "]\n");
		if ((q = config_yaml_scalar(o->run_as)) == NULL)
			return (-1);
		fprintf(fp, "      run_as_host_user: %s\n", q);
		free(q);
	}
	return (0);
}

static int
write_key(void *arg, const char *section, const char *key, const char *v)
{
	struct writer	*w = arg;
	const char	*help;

	if (w->section == NULL || strcmp(w->section, section) != 0) {
		fprintf(w->fp, "\n%s:\n", section);
		w->section = section;
	}
	if ((help = key_help_text(section, key)) != NULL)
		write_comment(w->fp, "  ", help);
	if (v == NULL)
		return (write_apps(w->fp, w->o));
	fprintf(w->fp, "  %s: %s\n", key, v);
	return (0);
}

/*
 * The configuration of o, to fp.  o must have passed configure_check().
 * Returns -1 when out of memory or when the stream fails.
 */
int
configure_write(FILE *fp, const struct configure_opts *o)
{
	struct mcpgated_conf	 c;
	struct writer		 w;

	config_defaults(&c);
	if (o->name != NULL)
		strlcpy(c.name, o->name, sizeof(c.name));
	if (o->listen != NULL) {
		strlcpy(c.listen[0].text, o->listen, sizeof(c.listen[0].text));
		c.nlisten = 1;
	}
	c.mcp_demo_server = o->demo;

	fprintf(fp,
	    "# mcpgated.conf(5), written by mcpgated configure: every key, "
	    "with its\n"
	    "# default unless an option of configure set it.  Check a change "
	    "with\n"
	    "# mcpgated -n -f FILE; mcpgatectl reload applies it.\n"
	    "version: v1\n");
	memset(&w, 0, sizeof(w));
	w.fp = fp;
	w.o = o;
	if (config_foreach_key(&c, write_key, &w) == -1)
		return (-1);
	if (fflush(fp) == EOF || ferror(fp))
		return (-1);
	return (0);
}

void
configure_app_free(struct configure_app *a)
{
	size_t	 i;

	free(a->name);
	free(a->command);
	for (i = 0; i < a->nargs; i++)
		free(a->args[i]);
	free(a->args);
	memset(a, 0, sizeof(*a));
}

/*
 * NAME=COMMAND: COMMAND split on spaces (no quoting: a word with a space
 * in it needs the file edited), its first word an absolute path.
 */
int
configure_app_parse(const char *spec, struct configure_app *a, char *err,
    size_t errlen)
{
	const char	*eq, *p;
	char		**nv;
	size_t		 n;

	memset(a, 0, sizeof(*a));
	if (!utf8_valid((const unsigned char *)spec, strlen(spec))) {
		snprintf(err, errlen, "--app: not UTF-8");
		return (-1);
	}
	if ((eq = strchr(spec, '=')) == NULL) {
		snprintf(err, errlen, "--app %s: must be NAME=COMMAND", spec);
		return (-1);
	}
	if ((a->name = strndup(spec, (size_t)(eq - spec))) == NULL)
		goto nomem;
	if (!app_name_ok(a->name)) {
		snprintf(err, errlen, "--app: app name '%s' must be lowercase "
		    "letters, digits and '-', not starting with '-', at most "
		    "%d, and not %s", a->name, RES_NAMELEN - 1, RES_APP_DEMO);
		goto fail;
	}
	for (p = eq + 1; *p != '\0'; p += n) {
		p += strspn(p, " ");
		if ((n = strcspn(p, " ")) == 0)
			break;
		if (a->command == NULL) {
			if ((a->command = strndup(p, n)) == NULL)
				goto nomem;
			continue;
		}
		if (a->nargs == RES_ADMIN_MAXARGS) {
			snprintf(err, errlen, "--app %s: more than %d "
			    "arguments", a->name, RES_ADMIN_MAXARGS);
			goto fail;
		}
		if ((nv = reallocarray(a->args, a->nargs + 1,
		    sizeof(*nv))) == NULL)
			goto nomem;
		a->args = nv;
		if ((a->args[a->nargs] = strndup(p, n)) == NULL)
			goto nomem;
		a->nargs++;
	}
	if (a->command == NULL || a->command[0] != '/') {
		snprintf(err, errlen, "--app %s: the command must be an "
		    "absolute path, such as /usr/bin/node, not '%s'", a->name,
		    a->command == NULL ? "" : a->command);
		goto fail;
	}
	return (0);
 nomem:
	snprintf(err, errlen, "out of memory");
 fail:
	configure_app_free(a);
	return (-1);
}

/* What app_check() says of an --app, kept for configure_check(). */
static char	*check_err;
static size_t	 check_errlen;
static int	 check_said;

static void
check_say(const char *app, const char *problem)
{
	if (check_said++ == 0)
		snprintf(check_err, check_errlen, "--app %s: %s", app, problem);
}

static void
check_quiet(const char *app, const char *what)
{
	(void)app;
	(void)what;
}

/*
 * Whether o makes a configuration that mcpgated -n accepts: what the
 * parser would refuse, and each app as mcpgated -n checks it (its
 * command an executable file, its user a user of this host but root).
 */
int
configure_check(const struct configure_opts *o, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct app_res		 app;
	socklen_t		 sslen;
	const char		*p;
	size_t			 i, j;

	if (o->name != NULL) {
		for (p = o->name; *p != '\0'; p++)
			if (!name_char((unsigned char)*p, NAME_PUNCT))
				break;
		if (*p != '\0' || o->name[0] == '\0' ||
		    strlen(o->name) >= CONF_NAMELEN) {
			snprintf(err, errlen, "--name: at most %d letters, "
			    "digits, '.', '_' or '-'", CONF_NAMELEN - 1);
			return (-1);
		}
	}
	if (o->listen != NULL && (strlen(o->listen) >= CONF_ADDRLEN ||
	    config_parse_hostport(o->listen, &ss, &sslen) == -1)) {
		snprintf(err, errlen, "--listen %s: not a numeric host:port "
		    "such as 127.0.0.1:3080 or [::1]:3080", o->listen);
		return (-1);
	}
	if (o->run_as != NULL && o->napps == 0) {
		snprintf(err, errlen, "--run-as is the user of the --app "
		    "servers: give an --app");
		return (-1);
	}
	if (o->napps > 0 && o->run_as == NULL) {
		snprintf(err, errlen, "--app needs --run-as USER: the host "
		    "user its server runs as");
		return (-1);
	}
	if (o->run_as != NULL) {
		for (p = o->run_as; *p != '\0'; p++)
			if (!name_char((unsigned char)*p, NAME_PUNCT))
				break;
		if (*p != '\0' || o->run_as[0] == '\0' ||
		    o->run_as[0] == '-' || strlen(o->run_as) > 32) {
			snprintf(err, errlen, "--run-as: '%s' is not a valid "
			    "user name", o->run_as);
			return (-1);
		}
	}
	if (o->napps > CONFIGURE_MAXAPPS) {
		snprintf(err, errlen, "more than %d --app", CONFIGURE_MAXAPPS);
		return (-1);
	}
	for (i = 0; i < o->napps; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(o->apps[i].name, o->apps[j].name) == 0) {
				snprintf(err, errlen, "--app %s: given twice",
				    o->apps[i].name);
				return (-1);
			}
		memset(&app, 0, sizeof(app));
		strlcpy(app.name, o->apps[i].name, sizeof(app.name));
		app.command = o->apps[i].command;
		strlcpy(app.run_as, o->run_as, sizeof(app.run_as));
		app.transport = APP_STDIO;
		check_err = err;
		check_errlen = errlen;
		check_said = 0;
		if (app_check(&app, check_say, check_quiet) > 0)
			return (-1);
	}
	return (0);
}

static __attribute__((noreturn)) void
configure_usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: mcpgated configure [-o file] [--force] [--name name] "
	    "[--listen addr:port]\n"
	    "           [--mcp-demo-server] [--app name=command ... "
	    "--run-as user]\n"
	    "  -o file, --output file  write the configuration there "
	    "(mode 0644), not to\n"
	    "                          standard output\n"
	    "  --force                 replace the file if it exists and "
	    "differs from\n"
	    "                          the defaults\n"
	    "  --name name             the gateway's name "
	    "(proxy_service.name)\n"
	    "  --listen addr:port      the TLS listener "
	    "(proxy_service.listen_addr)\n"
	    "  --mcp-demo-server       turn on the built-in app "
	    "mcpgate-demo\n"
	    "  --app name=command      a stdio app; command split on spaces, "
	    "its first\n"
	    "                          word an absolute path; repeatable\n"
	    "  --run-as user           the host user the --app servers "
	    "run as\n"
	    "See mcpgated(8) and mcpgated.conf(5).\n");
	exit(status);
}

/* Whether the file at path holds exactly len bytes of data. */
static int
file_is(const char *path, const char *data, size_t len)
{
	char	*buf;
	size_t	 n;
	int	 same;

	if (read_file(path, len, &buf, &n) == -1)
		return (0);
	same = n == len && memcmp(buf, data, len) == 0;
	free(buf);
	return (same);
}

/*
 * Output to the -o file, or to standard output.  An existing file is
 * replaced with --force, or when nothing in it would be lost: it holds
 * pristine (what configure writes with no option, as the package ships
 * it) or data itself.
 */
static __attribute__((noreturn)) void
output(const char *path, int force, const char *data, size_t len,
    const char *pristine, size_t pristinelen)
{
	if (path == NULL) {
		if (fwrite(data, 1, len, stdout) != len ||
		    fflush(stdout) == EOF)
			err(1, "standard output");
		exit(0);
	}
	if (force ? write_file_atomic(path, data, len, 0644) :
	    write_file_new(path, data, len, 0644)) {
		if (errno != EEXIST)
			err(1, "%s", path);
		if (!file_is(path, pristine, pristinelen) &&
		    !file_is(path, data, len))
			errx(1, "%s exists and differs from the defaults: "
			    "give --force to replace it", path);
		if (write_file_atomic(path, data, len, 0644) == -1)
			err(1, "%s", path);
	}
	exit(0);
}

void
configure_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output",	required_argument,	NULL, 'o' },
		{ "force",	no_argument,		NULL, 'F' },
		{ "name",	required_argument,	NULL, 'N' },
		{ "listen",	required_argument,	NULL, 'L' },
		{ "mcp-demo-server", no_argument,	NULL, 'D' },
		{ "app",	required_argument,	NULL, 'A' },
		{ "run-as",	required_argument,	NULL, 'U' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	static struct mcpgated_conf	 conf;	/* large: off the stack */
	static struct conf_errors	 errs;
	struct configure_opts		 o, defaults;
	struct configure_app		*nv;
	const char			*out = NULL;
	char				 msg[PATH_MAX + 256], *buf = NULL;
	char				*pristine = NULL;
	size_t				 len = 0, plen = 0;
	FILE				*fp;
	int				 ch, force = 0, i;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'F':
			force = 1;
			break;
		case 'N':
			o.name = optarg;
			break;
		case 'L':
			o.listen = optarg;
			break;
		case 'D':
			o.demo = 1;
			break;
		case 'A':
			if (o.napps == CONFIGURE_MAXAPPS)
				errx(1, "configure: more than %d --app",
				    CONFIGURE_MAXAPPS);
			if ((nv = reallocarray(o.apps, o.napps + 1,
			    sizeof(*nv))) == NULL)
				err(1, NULL);
			o.apps = nv;
			if (configure_app_parse(optarg, &o.apps[o.napps], msg,
			    sizeof(msg)) == -1)
				errx(1, "configure: %s", msg);
			o.napps++;
			break;
		case 'U':
			o.run_as = optarg;
			break;
		case 'h':
			configure_usage(stdout, 0);
		default:
			configure_usage(stderr, 1);
		}
	}
	if (optind != argc)
		configure_usage(stderr, 1);
	if (out != NULL && out[0] == '\0')
		errx(1, "configure: -o needs a file name");
	if (configure_check(&o, msg, sizeof(msg)) == -1)
		errx(1, "configure: %s", msg);
	if ((fp = open_memstream(&buf, &len)) == NULL)
		err(1, "open_memstream");
	if (configure_write(fp, &o) == -1 || fclose(fp) == EOF)
		errx(1, "configure: out of memory");
	/* What the daemon would refuse is not written: its parser says. */
	if (config_parse_buffer("the configuration", buf, len, &conf,
	    &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "mcpgated configure: %s\n",
			    errs.msg[i]);
		exit(1);
	}
	config_free(&conf);
	memset(&defaults, 0, sizeof(defaults));
	if ((fp = open_memstream(&pristine, &plen)) == NULL)
		err(1, "open_memstream");
	if (configure_write(fp, &defaults) == -1 || fclose(fp) == EOF)
		errx(1, "configure: out of memory");
	output(out, force, buf, len, pristine, plen);
}

static __attribute__((noreturn)) void
install_usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: mcpgated install systemd [-o file] [--force]\n"
	    "  -o file, --output file  write the unit there (mode 0644), not "
	    "to standard\n"
	    "                          output, e.g. "
	    "/etc/systemd/system/mcpgated.service\n"
	    "  --force                 replace the file if it exists\n"
	    "See mcpgated(8), THE SYSTEMD UNIT.\n");
	exit(status);
}

void
install_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output",	required_argument,	NULL, 'o' },
		{ "force",	no_argument,		NULL, 'F' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	const char	*out = NULL;
	int		 ch, force = 0;

	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'F':
			force = 1;
			break;
		case 'h':
			install_usage(stdout, 0);
		default:
			install_usage(stderr, 1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || strcmp(argv[0], "systemd") != 0)
		install_usage(stderr, 1);
	if (out != NULL && out[0] == '\0')
		errx(1, "install: -o needs a file name");
	output(out, force, MCPGATED_SERVICE, strlen(MCPGATED_SERVICE),
	    MCPGATED_SERVICE, strlen(MCPGATED_SERVICE));
}
