/*
 * mcpgatectl: the control socket client, the status and reload commands,
 * and the command line: one table of the commands and their options, read
 * with getopt_long at each level (the global options, a group such as
 * users, the command), so that every option works before or after the
 * command and each command answers -h.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "prom.h"
#include "util.h"

#define CTL_TIMEOUT_MS	15000
#define CTL_MAXANSWER	(4 * 1024 * 1024)

struct ctl	 ctl;

/*
 * The configuration tells where the socket and the audit log are.  A
 * missing default file means the defaults.  A file with errors still gives
 * the keys it got right: the daemon judges a reload itself, and the audit
 * commands say what they fell back to.  It is read once, by the command,
 * after all the options, since -c may come last.
 */
int
ctl_load_conf(int quiet)
{
	struct conf_errors	 errs;
	int			 i, ret = -1;

	if (ctl.conf_loaded)
		return (0);
	ctl.conf_loaded = 1;
	if (config_parse_file(ctl.conffile, &ctl.conf, &errs) == 0)
		ret = 0;
	else if (!ctl.conf_given && access(ctl.conffile, F_OK) == -1 &&
	    errno == ENOENT) {
		config_defaults(&ctl.conf);
		ret = 0;
	} else if (!quiet)
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "mcpgatectl: warning: %s\n",
			    errs.msg[i]);
	if (ctl.socket == NULL)
		ctl.socket = ctl.conf.control_socket;
	return (ret);
}

static int
ctl_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, ctl.socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(CTL_EXIT_FAIL, "control socket path too long: %s",
		    ctl.socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(CTL_EXIT_FAIL, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EACCES || errno == EPERM)
			errx(CTL_EXIT_FAIL, "%s: %s (the control socket is for "
			    "root only)", ctl.socket, strerror(errno));
		errx(CTL_EXIT_FAIL, "cannot reach mcpgated at %s: %s (is it "
		    "running? see -s and -c)", ctl.socket, strerror(errno));
	}
	return (fd);
}

/* One request, one answer; an answer that is not ok is printed and fatal. */
json_t *
ctl_request(json_t *req)
{
	struct pollfd	 pfd;
	json_error_t	 jerr;
	json_t		*ans, *errors, *e;
	char		*line, *buf, *nl;
	size_t		 len = 0, cap = 64 * 1024, i;
	ssize_t		 n;
	int		 fd;

	ctl_load_conf(1);
	fd = ctl_connect();
	if ((line = json_dumps(req, JSON_COMPACT)) == NULL)
		errx(CTL_EXIT_FAIL, "cannot encode the request");
	json_decref(req);
	/*
	 * A daemon that refuses us answers and closes at once: a failed
	 * write is not the end, the refusal may be waiting to be read.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (dprintf(fd, "%s\n", line) < 0 && errno != EPIPE &&
	    errno != ECONNRESET)
		err(CTL_EXIT_FAIL, "write to %s", ctl.socket);
	free(line);
	if ((buf = malloc(cap)) == NULL)
		err(CTL_EXIT_FAIL, NULL);
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, CTL_TIMEOUT_MS)) == -1)
			err(CTL_EXIT_FAIL, "poll");
		if (n == 0)
			errx(CTL_EXIT_FAIL, "mcpgated did not answer within "
			    "%d seconds", CTL_TIMEOUT_MS / 1000);
		if (len == cap) {
			if (cap >= CTL_MAXANSWER)
				errx(CTL_EXIT_FAIL, "answer too long");
			cap *= 2;
			if ((buf = realloc(buf, cap)) == NULL)
				err(CTL_EXIT_FAIL, NULL);
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECONNRESET)
				err(CTL_EXIT_FAIL, "read from %s", ctl.socket);
			n = 0;
		}
		if (n == 0)
			errx(CTL_EXIT_FAIL, "mcpgated closed the connection "
			    "without an answer");
		len += (size_t)n;
		if ((nl = memchr(buf, '\n', len)) != NULL)
			break;
	}
	close(fd);
	if ((ans = json_loadb(buf, (size_t)(nl - buf), 0, &jerr)) == NULL ||
	    !json_is_object(ans))
		errx(CTL_EXIT_FAIL, "mcpgated sent an answer that is not JSON");
	free(buf);
	if (json_is_true(json_object_get(ans, "ok")))
		return (ans);
	if (ctl.format == FMT_JSON) {
		ctl_print_json(ans);
		exit(CTL_EXIT_FAIL);
	}
	fprintf(stderr, "mcpgatectl: %s\n",
	    json_string_value(json_object_get(ans, "message")) ?
	    json_string_value(json_object_get(ans, "message")) :
	    "the request failed");
	errors = json_object_get(ans, "errors");
	json_array_foreach(errors, i, e)
		fprintf(stderr, "  %s\n", json_string_value(e));
	exit(CTL_EXIT_FAIL);
}

void
ctl_print_json(json_t *obj)
{
	char	*s;

	if ((s = json_dumps(obj, JSON_INDENT(2))) == NULL)
		errx(CTL_EXIT_FAIL, "cannot encode JSON");
	printf("%s\n", s);
	free(s);
}

static json_int_t
jint(json_t *obj, const char *key)
{
	return (json_integer_value(json_object_get(obj, key)));
}

/* mcpgatectl status: the daemon's (mcpgate status is the user's). */
static int
cmd_daemon_status(int argc, char **argv)
{
	json_t		*ans, *v, *conns, *audit, *sess, *refused, *slog, *http;
	const char	*key;
	char		 up[64], held[32], peak[32], max[32], tx[32], rx[32];
	size_t		 i;
	int		 any;

	ctl_operands(argc, argv, 0, 0);
	ans = ctl_request(json_pack("{s:s}", "cmd", "status"));
	json_object_del(ans, "ok");
	if (ctl.format == FMT_JSON) {
		ctl_print_json(ans);
		json_decref(ans);
		return (CTL_EXIT_OK);
	}
	if (ctl.format == FMT_PROMETHEUS) {
		/* A partial file would replace a good one: fail instead. */
		if (prom_status(stdout, ans) == -1)
			errx(CTL_EXIT_FAIL, "cannot write the metrics");
		json_decref(ans);
		return (CTL_EXIT_OK);
	}
	fmt_duration((uint64_t)jint(ans, "uptime"), up, sizeof(up));
	printf("mcpgated %s \"%s\", up %s\n", jstr(ans, "version"),
	    jstr(ans, "name"), up);
	printf("config:       %s\n", jstr(ans, "config"));
	printf("listen:      ");
	json_array_foreach(json_object_get(ans, "listen"), i, v)
		printf(" %s", json_string_value(v));
	if (json_array_size(json_object_get(ans, "listen")) == 0)
		printf(" (proxy_service disabled)");
	printf("\nprocesses:   ");
	json_array_foreach(json_object_get(ans, "processes"), i, v)
		printf("%s %s pid %lld", i > 0 ? "," : "", jstr(v, "name"),
		    (long long)jint(v, "pid"));
	printf("\n");
	conns = json_object_get(ans, "connections");
	if (json_is_object(conns))
		printf("connections:  %lld open (%lld in TLS handshake); "
		    "%lld accepted, %lld refused at the limit, %lld failed "
		    "TLS\n", (long long)jint(conns, "open"),
		    (long long)jint(conns, "handshaking"),
		    (long long)jint(conns, "accepted"),
		    (long long)jint(conns, "refused"),
		    (long long)jint(conns, "tls_failed"));
	else
		printf("connections:  (netd did not answer)\n");
	http = json_object_get(ans, "http");
	if (json_is_object(http) && jint(http, "requests") > 0) {
		fmt_bytes((uint64_t)jint(http, "bytes_sent"), tx, sizeof(tx));
		fmt_bytes((uint64_t)jint(http, "bytes_received"), rx,
		    sizeof(rx));
		printf("http apps:    %lld requests to their servers (%lld "
		    "failed); %s sent, %s received\n",
		    (long long)jint(http, "requests"),
		    (long long)jint(http, "failed"), tx, rx);
	}
	sess = json_object_get(ans, "sessions");
	if (json_is_object(sess)) {
		fmt_bytes((uint64_t)jint(sess, "buffered"), held,
		    sizeof(held));
		fmt_bytes((uint64_t)jint(sess, "buffered_peak"), peak,
		    sizeof(peak));
		fmt_size((uint64_t)jint(sess, "max_buffered"), max,
		    sizeof(max));
		printf("sessions:     %lld MCP sessions open; %s of %s "
		    "buffered (peak %s)\n", (long long)jint(sess, "open"),
		    held, max, peak);
	} else
		printf("sessions:     (mcpd did not answer)\n");
	/* Only the limits that refused or ended something. */
	refused = json_object_get(ans, "refused");
	any = 0;
	json_object_foreach(refused, key, v) {
		if (json_integer_value(v) == 0)
			continue;
		printf("%s %s %lld", any ? "," : "refused:     ", key,
		    (long long)json_integer_value(v));
		any = 1;
	}
	printf("%s\n", any ? "" : "refused:      nothing");
	audit = json_object_get(ans, "audit");
	if (json_is_object(audit)) {
		printf("audit:        %s, last seq %lld\n",
		    jstr(audit, "file")[0] ? jstr(audit, "file") :
		    "(no file yet)", (long long)jint(audit, "seq"));
		printf("              fsync %s, on_failure %s, %s",
		    jstr(audit, "fsync"), jstr(audit, "on_failure"),
		    json_is_true(json_object_get(audit, "failing")) ?
		    "FAILING: records cannot be written" : "writing");
		if (jint(audit, "failures") > 0)
			printf(" (%lld records failed since start)",
			    (long long)jint(audit, "failures"));
		printf("\n");
		slog = json_object_get(audit, "syslog");
		if (json_is_true(json_object_get(slog, "enabled")))
			printf("              syslog %s as %s: %s; %lld sent, "
			    "%lld dropped, %lld as markers\n",
			    jstr(slog, "facility"), jstr(slog, "tag"),
			    json_is_true(json_object_get(slog, "connected")) ?
			    "connected" : "NOT connected (no /dev/log at the "
			    "last start or reload)",
			    (long long)jint(slog, "sent"),
			    (long long)jint(slog, "dropped"),
			    (long long)jint(slog, "truncated"));
	} else
		printf("audit:        (auditd did not answer)\n");
	printf("CA:           %s\n", jstr(ans, "ca_fingerprint"));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

static int
cmd_reload(int argc, char **argv)
{
	json_t	*ans;

	ctl_operands(argc, argv, 0, 0);
	ans = ctl_request(json_pack("{s:s}", "cmd", "reload"));
	if (ctl.format == FMT_JSON)
		ctl_print_json(ans);
	else
		printf("%s\n", jstr(ans, "message"));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

/* The JWKS document, always as JSON: it is what servers read. */
static int
cmd_jwks(int argc, char **argv)
{
	json_t	*ans;

	ctl_operands(argc, argv, 0, 0);
	ans = ctl_request(json_pack("{s:s}", "cmd", "jwks"));
	ctl_print_json(json_object_get(ans, "jwks"));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

static int
cmd_jwt_rotate(int argc, char **argv)
{
	json_t	*ans;

	ctl_operands(argc, argv, 0, 0);
	ans = ctl_request(json_pack("{s:s}", "cmd", "jwt.rotate"));
	if (ctl.format == FMT_JSON)
		ctl_print_json(ans);
	else
		printf("JWT signing key rotated: kid %s (the previous key, %s, "
		    "stays in the JWKS until the next rotation)\n",
		    jstr(ans, "kid"), jstr(ans, "previous_kid"));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

/*
 * The command line.  Every command's table of long options ends with the
 * global ones, so that they may come after the command too; -c and -s are
 * in every short option string for the same reason.
 */
#define GLOBAL_SHORTOPTS	"c:s:h"
#define GLOBAL_LONGOPTS							\
	{ "format",		required_argument,	NULL, OPT_FORMAT }, \
	{ "help",		no_argument,		NULL, OPT_HELP }, \
	{ NULL,			0,			NULL, 0 }

static const struct option global_opts[] = {
	GLOBAL_LONGOPTS
};

static const struct option verify_opts[] = {
	{ "strict",		no_argument,		NULL, OPT_STRICT },
	{ "key",		required_argument,	NULL, OPT_KEY },
	{ "anchor",		required_argument,	NULL, OPT_ANCHOR },
	GLOBAL_LONGOPTS
};

static const struct option search_opts[] = {
	{ "since",		required_argument,	NULL, OPT_SINCE },
	{ "until",		required_argument,	NULL, OPT_UNTIL },
	{ "event",		required_argument,	NULL, OPT_EVENT },
	{ "user",		required_argument,	NULL, OPT_USER },
	{ "app",		required_argument,	NULL, OPT_APP },
	GLOBAL_LONGOPTS
};

static const struct option users_add_opts[] = {
	{ "roles",		required_argument,	NULL, OPT_ROLES },
	{ "mcp-tools",		required_argument,	NULL, OPT_MCP_TOOLS },
	{ "invite-ttl",		required_argument,	NULL, OPT_INVITE_TTL },
	GLOBAL_LONGOPTS
};

static const struct option users_update_opts[] = {
	{ "set-roles",		required_argument,	NULL, OPT_SET_ROLES },
	{ "set-mcp-tools",	required_argument,	NULL,
	    OPT_SET_MCP_TOOLS },
	GLOBAL_LONGOPTS
};

static const struct option users_reset_opts[] = {
	{ "invite-ttl",		required_argument,	NULL, OPT_INVITE_TTL },
	GLOBAL_LONGOPTS
};

static const struct option create_opts[] = {
	{ "force",		no_argument,		NULL, OPT_FORCE },
	GLOBAL_LONGOPTS
};

static const struct option tokens_add_opts[] = {
	{ "type",		required_argument,	NULL, OPT_TYPE },
	{ "ttl",		required_argument,	NULL, OPT_TTL },
	GLOBAL_LONGOPTS
};

static const struct ctl_cmd ctl_cmds[] = {
	{ NULL, "status", cmd_daemon_status, "", global_opts, "",
	    "Show the daemon: its processes, connections, sessions, what the "
	    "limits\nrefused, its audit log and its configuration file." },
	{ NULL, "reload", cmd_reload, "", global_opts, "",
	    "Make the daemon read its configuration file again, as SIGHUP "
	    "does." },
	{ "audit", "verify", cmd_audit_verify, "", verify_opts,
	    "[--strict] [--key file] [--anchor file] [file | dir ...]",
	    "Check the hash chain and signatures of the audit log, or of the "
	    "files given\nand of the audit files of the directories given." },
	{ "audit", "search", cmd_audit_search, "", search_opts,
	    "[--since T] [--until T] [--event TYPE] [--user U] [--app A]",
	    "Print the audit records that match every filter given." },
	{ "audit", "tail", cmd_audit_tail, "fn:", global_opts,
	    "[-f] [-n N]",
	    "Print the last N audit records (10); -f follows the log." },
	{ "users", "add", cmd_users_add, "", users_add_opts,
	    "NAME --roles R1[,R2] [--mcp-tools LIST] [--invite-ttl 1h]",
	    "Create a user and print the invite they set their password "
	    "with." },
	{ "users", "ls", cmd_users_ls, "", global_opts, "",
	    "List the users." },
	{ "users", "get", cmd_users_get, "", global_opts, "NAME",
	    "Print a user as YAML." },
	{ "users", "update", cmd_users_update, "", users_update_opts,
	    "NAME [--set-roles R1[,R2]] [--set-mcp-tools LIST]",
	    "Replace a user's roles, or mcp_tools trait, or both." },
	{ "users", "lock", cmd_users_lock, "", global_opts, "NAME",
	    "Lock a user: their certificates and logins are refused." },
	{ "users", "unlock", cmd_users_unlock, "", global_opts, "NAME",
	    "Unlock a user, and end a lock after failed logins." },
	{ "users", "reset", cmd_users_reset, "", users_reset_opts,
	    "NAME [--invite-ttl 1h]",
	    "Remove a user's password, refuse their certificates, and print "
	    "a new invite." },
	{ "users", "rm", cmd_users_rm, "", global_opts, "NAME",
	    "Remove a user." },
	{ NULL, "create", cmd_create, "f:", create_opts,
	    "[-f FILE | FILE] [--force]",
	    "Create the roles, users and apps of a YAML file, or of "
	    "standard input." },
	{ NULL, "get", cmd_get, "", global_opts,
	    "roles | users | apps | role/NAME | user/NAME | app/NAME",
	    "Print roles, users or apps as YAML documents." },
	{ NULL, "rm", cmd_rm, "", global_opts,
	    "role/NAME | user/NAME | app/NAME | token/ID",
	    "Remove a role, a user, an app or a join token." },
	{ "tokens", "add", cmd_tokens_add, "", tokens_add_opts,
	    "--type=app [--ttl 30m]",
	    "Make a join token; it is shown only now." },
	{ "tokens", "ls", cmd_tokens_ls, "", global_opts, "",
	    "List the join tokens." },
	{ "tokens", "rm", cmd_tokens_rm, "", global_opts, "ID",
	    "Remove a join token." },
	{ NULL, "jwks", cmd_jwks, "", global_opts, "",
	    "Print the public keys that verify the gateway's JWTs, as a "
	    "JWKS document." },
	{ "jwt", "rotate", cmd_jwt_rotate, "", global_opts, "",
	    "Sign new JWTs with a new key; the previous one stays in the "
	    "JWKS\nuntil the next rotation." },
};

#define NCMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))
#define GLOBAL_USAGE	\
	"[-c config] [-s socket] [--format text|json|prometheus]"
#define GLOBAL_LIST	"-c config, -s socket, --format text|json|prometheus"

static void
synopsis(FILE *fp, const char *lead, const struct ctl_cmd *c)
{
	fprintf(fp, "%s%s%s%s%s%s\n", lead, c->group != NULL ? c->group : "",
	    c->group != NULL ? " " : "", c->name, c->args[0] != '\0' ? " " :
	    "", c->args);
}

void
ctl_usage_exit(int status)
{
	FILE	*fp = status == CTL_EXIT_OK ? stdout : stderr;
	size_t	 i;

	fprintf(fp, "usage: mcpgatectl " GLOBAL_USAGE " command [args]\n"
	    "\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		synopsis(fp, "  ", &ctl_cmds[i]);
	fprintf(fp, "\n"
	    "  -c config   configuration file (default %s)\n"
	    "  -s socket   control socket (default: from the configuration)\n"
	    "  --format    text (default), json, or prometheus (status)\n"
	    "Options may come before or after the command, and be written "
	    "--name value\nor --name=value.  'mcpgatectl COMMAND -h' "
	    "describes a command;\nsee mcpgatectl(8).\n", CONF_DEFAULT_PATH);
	exit(status);
}

/* The usage of a group of commands, such as users. */
static void __attribute__((noreturn))
group_usage_exit(const char *group, int status)
{
	FILE	*fp = status == CTL_EXIT_OK ? stdout : stderr;
	size_t	 i;
	int	 first = 1;

	for (i = 0; i < NCMDS; i++) {
		if (ctl_cmds[i].group == NULL ||
		    strcmp(ctl_cmds[i].group, group) != 0)
			continue;
		synopsis(fp, first ? "usage: mcpgatectl " :
		    "       mcpgatectl ", &ctl_cmds[i]);
		first = 0;
	}
	fprintf(fp, "Global options: " GLOBAL_LIST ".\n'mcpgatectl %s "
	    "COMMAND -h' describes a command; see mcpgatectl(8).\n", group);
	exit(status);
}

/* The usage of the command that runs: -h, or after a usage error. */
void
ctl_cmd_usage_exit(int status)
{
	FILE	*fp = status == CTL_EXIT_OK ? stdout : stderr;

	synopsis(fp, "usage: mcpgatectl ", ctl.cmd);
	if (status == CTL_EXIT_OK)
		fprintf(fp, "%s\n", ctl.cmd->what);
	fprintf(fp, "Global options: " GLOBAL_LIST "; see mcpgatectl(8).\n");
	exit(status);
}

static void
set_format(const char *fmt)
{
	if (strcmp(fmt, "text") == 0)
		ctl.format = FMT_TEXT;
	else if (strcmp(fmt, "json") == 0)
		ctl.format = FMT_JSON;
	else if (strcmp(fmt, "prometheus") == 0)
		ctl.format = FMT_PROMETHEUS;
	else {
		fprintf(stderr, "mcpgatectl: --format is text, json or "
		    "prometheus, not '%s'\n", fmt);
		ctl_usage_exit(CTL_EXIT_USAGE);
	}
}

/* -c, -s or --format, wherever they are; 0 when ch is none of them. */
static int
global_option(int ch, const char *arg)
{
	switch (ch) {
	case 'c':
		ctl.conffile = arg;
		ctl.conf_given = 1;
		return (1);
	case 's':
		ctl.socket = arg;
		return (1);
	case OPT_FORMAT:
		set_format(arg);
		return (1);
	}
	return (0);
}

/* How many long options of opts start with name (len bytes of it). */
static int
long_matches(const struct option *opts, const char *name, size_t len,
    int *exact)
{
	int	 n = 0;

	*exact = 0;
	for (; opts->name != NULL; opts++) {
		if (strncmp(opts->name, name, len) != 0)
			continue;
		n++;
		if (opts->name[len] == '\0')
			*exact = 1;
	}
	return (n);
}

/*
 * The sentence for what getopt_long refused (ch is '?' or ':'), naming the
 * option as it was typed; who is the command, or NULL before one.
 */
static void
option_error(int ch, int argc, char **argv, const struct option *opts,
    const char *who)
{
	const char	*arg, *name;
	char		 prefix[64];
	size_t		 len, i;
	int		 exact;

	if (who != NULL)
		snprintf(prefix, sizeof(prefix), "%s: ", who);
	else
		prefix[0] = '\0';
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	/* getopt_long leaves optopt 0 or a long option's value for those. */
	if (optopt != 0 && optopt < 256) {
		if (ch == ':')
			fprintf(stderr, "mcpgatectl: %s'-%c' needs a value\n",
			    prefix, optopt);
		else
			fprintf(stderr, "mcpgatectl: %sunknown option '-%c'\n",
			    prefix, optopt);
		return;
	}
	if (strncmp(arg, "--", 2) != 0) {
		fprintf(stderr, "mcpgatectl: %sbad option\n", prefix);
		return;
	}
	name = arg + 2;
	len = strcspn(name, "=");
	if (ch == ':') {
		fprintf(stderr, "mcpgatectl: %s'--%.*s' needs a value\n",
		    prefix, (int)len, name);
		return;
	}
	if (optopt != 0) {
		fprintf(stderr, "mcpgatectl: %s'--%.*s' takes no value\n",
		    prefix, (int)len, name);
		return;
	}
	if (long_matches(opts, name, len, &exact) > 1 && !exact) {
		fprintf(stderr, "mcpgatectl: %s'--%.*s' is ambiguous: it "
		    "starts more than one option\n", prefix, (int)len, name);
		return;
	}
	/* An option of another command of the group says which. */
	if (ctl.cmd != NULL && ctl.cmd->group != NULL)
		for (i = 0; i < NCMDS; i++) {
			if (ctl_cmds[i].group == NULL ||
			    strcmp(ctl_cmds[i].group, ctl.cmd->group) != 0)
				continue;
			long_matches(ctl_cmds[i].longopts, name, len, &exact);
			if (!exact)
				continue;
			fprintf(stderr, "mcpgatectl: %s does not take "
			    "--%.*s\n", who, (int)len, name);
			return;
		}
	fprintf(stderr, "mcpgatectl: %sunknown option '--%.*s'\n", prefix,
	    (int)len, name);
}

/*
 * The global options before a command word (argv[0] is the word before
 * them); returns the index in argv of the next word.  group: the words so
 * far, for -h, or NULL.
 */
static int
global_options(int argc, char **argv, const char *group)
{
	int	 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+:" GLOBAL_SHORTOPTS,
	    global_opts, NULL)) != -1) {
		if (global_option(ch, optarg))
			continue;
		if (ch == 'h' || ch == OPT_HELP) {
			if (group != NULL)
				group_usage_exit(group, CTL_EXIT_OK);
			ctl_usage_exit(CTL_EXIT_OK);
		}
		option_error(ch, argc, argv, global_opts, group);
		if (group != NULL)
			group_usage_exit(group, CTL_EXIT_USAGE);
		ctl_usage_exit(CTL_EXIT_USAGE);
	}
	return (optind);
}

static const char *
cmd_words(void)
{
	static char	 words[64];

	snprintf(words, sizeof(words), "%s%s%s", ctl.cmd->group != NULL ?
	    ctl.cmd->group : "", ctl.cmd->group != NULL ? " " : "",
	    ctl.cmd->name);
	return (words);
}

/*
 * The next option of the running command (argv[0] is its last word),
 * until -1; the operands are collected in ctl.args in their order, and the
 * global options, -h and the mistakes are dealt with here.
 */
int
ctl_getopt(int argc, char **argv)
{
	char	 shortopts[32];
	int	 ch;

	snprintf(shortopts, sizeof(shortopts), "-:%s" GLOBAL_SHORTOPTS,
	    ctl.cmd->shortopts);
	for (;;) {
		ch = getopt_long(argc, argv, shortopts, ctl.cmd->longopts,
		    NULL);
		if (ch == -1) {
			/* After "--", the rest. */
			while (optind < argc)
				ctl.args[ctl.nargs++] = argv[optind++];
			ctl.args[ctl.nargs] = NULL;
			if (ctl.format == FMT_PROMETHEUS &&
			    ctl.cmd->fn != cmd_daemon_status) {
				fprintf(stderr, "mcpgatectl: %s: --format "
				    "prometheus is for status only\n",
				    cmd_words());
				ctl_cmd_usage_exit(CTL_EXIT_USAGE);
			}
			return (-1);
		}
		if (ch == 1) {
			ctl.args[ctl.nargs++] = optarg;
			continue;
		}
		if (global_option(ch, optarg))
			continue;
		if (ch == 'h' || ch == OPT_HELP)
			ctl_cmd_usage_exit(CTL_EXIT_OK);
		if (ch == '?' || ch == ':') {
			option_error(ch, argc, argv, ctl.cmd->longopts,
			    cmd_words());
			ctl_cmd_usage_exit(CTL_EXIT_USAGE);
		}
		return (ch);
	}
}

/* The operands must number from min to max. */
void
ctl_nargs(int min, int max)
{
	if (ctl.nargs >= min && ctl.nargs <= max)
		return;
	if (ctl.nargs < min)
		fprintf(stderr, "mcpgatectl: %s: missing argument\n",
		    cmd_words());
	else
		fprintf(stderr, "mcpgatectl: %s: unexpected argument '%s'\n",
		    cmd_words(), ctl.args[max]);
	ctl_cmd_usage_exit(CTL_EXIT_USAGE);
}

/* For the commands that have no options of their own. */
void
ctl_operands(int argc, char **argv, int min, int max)
{
	if (ctl_getopt(argc, argv) != -1)
		errx(CTL_EXIT_FAIL, "%s: an option it does not handle",
		    cmd_words());
	ctl_nargs(min, max);
}

static const struct ctl_cmd *
find_cmd(const char *group, const char *name)
{
	size_t	 i;

	for (i = 0; i < NCMDS; i++) {
		if ((group == NULL) != (ctl_cmds[i].group == NULL))
			continue;
		if (group != NULL && strcmp(ctl_cmds[i].group, group) != 0)
			continue;
		if (name == NULL || strcmp(ctl_cmds[i].name, name) == 0)
			return (&ctl_cmds[i]);
	}
	return (NULL);
}

int
main(int argc, char *argv[])
{
	const char	*group = NULL;
	int		 i;

	ctl.conffile = CONF_DEFAULT_PATH;
	json_zeroing_alloc();
	if ((ctl.args = calloc((size_t)argc + 1, sizeof(*ctl.args))) == NULL)
		err(CTL_EXIT_FAIL, NULL);
	i = global_options(argc, argv, NULL);
	if (i == argc)
		ctl_usage_exit(CTL_EXIT_USAGE);
	if (strcmp(argv[i], "help") == 0)
		ctl_usage_exit(CTL_EXIT_OK);
	if ((ctl.cmd = find_cmd(NULL, argv[i])) == NULL) {
		group = argv[i];
		if (find_cmd(group, NULL) == NULL) {
			fprintf(stderr, "mcpgatectl: unknown command '%s'\n",
			    group);
			ctl_usage_exit(CTL_EXIT_USAGE);
		}
		i += global_options(argc - i, argv + i, group);
		if (i == argc) {
			fprintf(stderr, "mcpgatectl: %s needs a command\n",
			    group);
			group_usage_exit(group, CTL_EXIT_USAGE);
		}
		if ((ctl.cmd = find_cmd(group, argv[i])) == NULL) {
			fprintf(stderr, "mcpgatectl: unknown %s command "
			    "'%s'\n", group, argv[i]);
			group_usage_exit(group, CTL_EXIT_USAGE);
		}
	}
	optind = 0;
	return (ctl.cmd->fn(argc - i, argv + i));
}
