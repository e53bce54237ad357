/*
 * mcpgatectl: main, option handling, the control socket client, and the
 * status and reload commands.
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
#include "util.h"

#define CTL_TIMEOUT_MS	15000
#define CTL_MAXANSWER	(4 * 1024 * 1024)

struct ctl	 ctl;

void
ctl_usage_exit(int status)
{
	FILE	*fp = status == CTL_EXIT_OK ? stdout : stderr;

	fprintf(fp,
	    "usage: mcpgatectl [-c config] [-s socket] [--format text|json] "
	    "command [args]\n"
	    "\n"
	    "commands:\n"
	    "  status                       the daemon, its processes, "
	    "connections, audit log\n"
	    "  reload                       read the configuration again "
	    "(as SIGHUP does)\n"
	    "  audit verify [--strict] [--key file] [--anchor file] "
	    "[file ...]\n"
	    "                               check the audit log's hash chain "
	    "and signatures\n"
	    "  audit search [--since T] [--until T] [--event TYPE] "
	    "[--user U] [--app A]\n"
	    "                               print matching audit records\n"
	    "  audit tail [-f] [-n N]       print the last records; -f "
	    "follows the log\n"
	    "  users add NAME --roles R1[,R2] [--mcp-tools LIST] "
	    "[--invite-ttl 1h]\n"
	    "  users ls | get NAME | lock NAME | unlock NAME | reset NAME | "
	    "rm NAME\n"
	    "  users update NAME [--set-roles R1[,R2]] [--set-mcp-tools "
	    "LIST]\n"
	    "  create [-f FILE] [--force]   roles and users in YAML, from a "
	    "file or stdin\n"
	    "  get roles | users | role/NAME | user/NAME\n"
	    "  rm role/NAME | user/NAME | token/ID\n"
	    "  tokens add --type=app [--ttl 30m] | ls | rm ID\n"
	    "\n"
	    "  -c config   configuration file (default %s)\n"
	    "  -s socket   control socket (default: from the configuration)\n"
	    "  --format    text (default) or json\n"
	    "Options may come before or after the command.  "
	    "See mcpgatectl(8).\n", CONF_DEFAULT_PATH);
	exit(status);
}

/*
 * The configuration tells where the socket and the audit log are.  A
 * missing default file means the defaults.  A file with errors still gives
 * the keys it got right: the daemon judges a reload itself, and the audit
 * commands say what they fell back to.
 */
int
ctl_load_conf(int quiet)
{
	struct conf_errors	 errs;
	int			 i;

	if (config_parse_file(ctl.conffile, &ctl.conf, &errs) == 0)
		return (0);
	if (!ctl.conf_given && access(ctl.conffile, F_OK) == -1 &&
	    errno == ENOENT) {
		config_defaults(&ctl.conf);
		return (0);
	}
	if (quiet)
		return (-1);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "mcpgatectl: warning: %s\n", errs.msg[i]);
	return (-1);
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

static int
ctl_status(int argc, char **argv)
{
	json_t		*ans, *v, *conns, *audit, *sess, *refused;
	const char	*key;
	char		 up[64], held[32], peak[32], max[32];
	size_t		 i;
	int		 any;

	(void)argv;
	if (argc != 1)
		ctl_usage_exit(CTL_EXIT_USAGE);
	ans = ctl_request(json_pack("{s:s}", "cmd", "status"));
	json_object_del(ans, "ok");
	if (ctl.format == FMT_JSON) {
		ctl_print_json(ans);
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
	} else
		printf("audit:        (auditd did not answer)\n");
	printf("CA:           %s\n", jstr(ans, "ca_fingerprint"));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

static int
ctl_reload(int argc, char **argv)
{
	json_t	*ans;

	(void)argv;
	if (argc != 1)
		ctl_usage_exit(CTL_EXIT_USAGE);
	ans = ctl_request(json_pack("{s:s}", "cmd", "reload"));
	if (ctl.format == FMT_JSON)
		ctl_print_json(ans);
	else
		printf("%s\n", jstr(ans, "message"));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

/*
 * Take the global options out of argv wherever they are, since people type
 * them both before and after the command.  What is left is the command.
 */
static int
ctl_options(int argc, char **argv, char **rest)
{
	const char	*fmt = NULL;
	int		 i, n = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			ctl_usage_exit(CTL_EXIT_OK);
		if (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--format") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr, "mcpgatectl: %s needs a "
				    "value\n", argv[i]);
				ctl_usage_exit(CTL_EXIT_USAGE);
			}
			if (argv[i][1] == 's')
				ctl.socket = argv[++i];
			else if (argv[i][1] == 'c') {
				ctl.conffile = argv[++i];
				ctl.conf_given = 1;
			} else
				fmt = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--format=", 9) == 0) {
			fmt = argv[i] + 9;
			continue;
		}
		rest[n++] = argv[i];
	}
	rest[n] = NULL;
	if (fmt != NULL) {
		if (strcmp(fmt, "text") == 0)
			ctl.format = FMT_TEXT;
		else if (strcmp(fmt, "json") == 0)
			ctl.format = FMT_JSON;
		else {
			fprintf(stderr, "mcpgatectl: --format is text or json, "
			    "not '%s'\n", fmt);
			ctl_usage_exit(CTL_EXIT_USAGE);
		}
	}
	return (n);
}

int
main(int argc, char *argv[])
{
	char	**rest;
	int	  n, ret;

	ctl.conffile = CONF_DEFAULT_PATH;
	json_zeroing_alloc();
	if ((rest = calloc((size_t)argc + 1, sizeof(*rest))) == NULL)
		err(CTL_EXIT_FAIL, NULL);
	n = ctl_options(argc, argv, rest);
	if (n == 0)
		ctl_usage_exit(CTL_EXIT_USAGE);
	if (strcmp(rest[0], "help") == 0)
		ctl_usage_exit(CTL_EXIT_OK);
	ctl_load_conf(strcmp(rest[0], "audit") != 0);
	if (ctl.socket == NULL)
		ctl.socket = ctl.conf.control_socket;

	if (strcmp(rest[0], "status") == 0)
		ret = ctl_status(n, rest);
	else if (strcmp(rest[0], "reload") == 0)
		ret = ctl_reload(n, rest);
	else if (strcmp(rest[0], "audit") == 0)
		ret = ctl_audit(n, rest);
	else if ((ret = ctl_admin(n, rest)) == -1) {
		fprintf(stderr, "mcpgatectl: unknown command '%s'\n",
		    rest[0]);
		ctl_usage_exit(CTL_EXIT_USAGE);
	}
	free(rest);
	return (ret);
}
