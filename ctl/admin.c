/*
 * mcpgatectl users | create | get | rm | tokens: identity administration,
 * over the control socket.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "util.h"

#define CREATE_MAX	(4 * 1024 * 1024)

/* Options of a subcommand: "--name value" or "--name=value". */
struct opt {
	const char	*name;
	const char	*value;
	int		 flag;		/* takes no value */
	int		 seen;
};

static int
parse_opts(int argc, char **argv, int first, struct opt *opts,
    char **args, int maxargs)
{
	struct opt	*o;
	const char	*eq;
	size_t		 n;
	int		 i, nargs = 0;

	for (i = first; i < argc; i++) {
		if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0) {
			if (nargs == maxargs)
				ctl_usage_exit(CTL_EXIT_USAGE);
			args[nargs++] = argv[i];
			continue;
		}
		eq = strchr(argv[i], '=');
		n = eq != NULL ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		for (o = opts; o->name != NULL; o++)
			if (strlen(o->name) == n &&
			    strncmp(o->name, argv[i], n) == 0)
				break;
		if (o->name == NULL) {
			fprintf(stderr, "mcpgatectl: unknown option %s\n",
			    argv[i]);
			ctl_usage_exit(CTL_EXIT_USAGE);
		}
		o->seen = 1;
		if (o->flag)
			continue;
		if (eq != NULL)
			o->value = eq + 1;
		else if (i + 1 < argc)
			o->value = argv[++i];
		else {
			fprintf(stderr, "mcpgatectl: %s needs a value\n",
			    o->name);
			ctl_usage_exit(CTL_EXIT_USAGE);
		}
	}
	return (nargs);
}

/* "a,b, c" as a JSON array of the non-empty items. */
static json_t *
comma_list(const char *s)
{
	json_t	*a = json_array();
	char	*copy, *p, *item;

	if ((copy = strdup(s)) == NULL)
		err(CTL_EXIT_FAIL, NULL);
	for (p = copy; (item = strsep(&p, ",")) != NULL; ) {
		while (*item == ' ')
			item++;
		if (*item != '\0')
			json_array_append_new(a, json_string(item));
	}
	free(copy);
	return (a);
}

static void
add_duration(json_t *req, const char *key, const char *opt, const char *v)
{
	uint64_t	 ms;

	if (parse_duration(v, &ms) == -1)
		errx(CTL_EXIT_USAGE, "%s: '%s' is not a duration such as 30m "
		    "or 1h", opt, v);
	json_object_set_new(req, key, json_integer((json_int_t)ms));
}

/* A list of strings as "a,b,c", or "-" when empty. */
static void
join_list(json_t *a, char *buf, size_t len)
{
	json_t	*v;
	size_t	 i;

	buf[0] = '\0';
	json_array_foreach(a, i, v) {
		if (i > 0)
			strlcat(buf, ",", len);
		strlcat(buf, json_string_value(v), len);
	}
	if (buf[0] == '\0')
		strlcpy(buf, "-", len);
}

/*
 * The login command, then the invite on a line of its own: the command
 * asks for the invite, since on the user's machine any local user could
 * read it in a command line.
 */
static void
print_invite(json_t *ans, const char *what)
{
	printf("User \"%s\" %s; they set their password with this "
	    "command:\n\n  %s\n\nwhich asks for this invite:\n\n  %s\n\n"
	    "The invite works once, until %s.\nPass it on as a secret, "
	    "never as an argument: besides asking for it, the\ncommand "
	    "reads it from a file of mode 0600 with --invite-file FILE, or "
	    "with\n--password-stdin from the first line of standard "
	    "input.\n", jstr(ans, "user"), what, jstr(ans, "login_command"),
	    jstr(ans, "invite"), jstr(ans, "expires"));
}

/* The answer as JSON, or else the message it carries. */
static int
done(json_t *ans, const char *text)
{
	if (ctl.format == FMT_JSON) {
		json_object_del(ans, "ok");
		ctl_print_json(ans);
	} else if (text != NULL)
		printf("%s\n", text);
	json_decref(ans);
	return (CTL_EXIT_OK);
}

static int
users(int argc, char **argv)
{
	struct opt	 opts[] = {
		{ "--roles", NULL, 0, 0 }, { "--mcp-tools", NULL, 0, 0 },
		{ "--invite-ttl", NULL, 0, 0 }, { "--set-roles", NULL, 0, 0 },
		{ "--set-mcp-tools", NULL, 0, 0 }, { NULL, NULL, 0, 0 }
	};
	json_t		*req, *ans, *u, *v;
	char		*args[2], msg[512], roles[256], tools[256];
	const char	*sub;
	size_t		 i;
	int		 n, nlocked = 0;

	if (argc < 2)
		ctl_usage_exit(CTL_EXIT_USAGE);
	sub = argv[1];
	n = parse_opts(argc, argv, 2, opts, args, 1);
	/* Each subcommand takes its own options and no other. */
	for (i = 0; opts[i].name != NULL; i++) {
		if (!opts[i].seen)
			continue;
		if ((strcmp(sub, "add") == 0 && i <= 2) ||
		    (strcmp(sub, "reset") == 0 && i == 2) ||
		    (strcmp(sub, "update") == 0 && i >= 3))
			continue;
		errx(CTL_EXIT_USAGE, "users %s does not take %s", sub,
		    opts[i].name);
	}
	req = json_object();
	if (strcmp(sub, "ls") == 0) {
		if (n != 0)
			ctl_usage_exit(CTL_EXIT_USAGE);
		json_object_set_new(req, "cmd", json_string("users.ls"));
		ans = ctl_request(req);
		if (ctl.format == FMT_JSON)
			return (done(ans, NULL));
		printf("%-20s %-24s %-20s %-14s %s\n", "NAME", "ROLES",
		    "MCP TOOLS", "STATE", "CREATED");
		json_array_foreach(json_object_get(ans, "users"), i, u) {
			join_list(json_object_get(u, "roles"), roles,
			    sizeof(roles));
			v = json_object_get(json_object_get(u, "traits"),
			    "mcp_tools");
			join_list(v, tools, sizeof(tools));
			printf("%-20s %-24s %-20s %-14s %s\n", jstr(u, "name"),
			    roles, tools, jstr(u, "state"),
			    jstr(u, "created"));
		}
		/* Locks by failed logins end by themselves: say when. */
		json_array_foreach(json_object_get(ans, "users"), i, u) {
			if ((v = json_object_get(u, "login_locked_until")) ==
			    NULL)
				continue;
			printf("%s%s is locked by %lld failed logins from %lld "
			    "address prefixes until %s; 'mcpgatectl users "
			    "unlock %s' ends it sooner.\n", nlocked++ == 0 ?
			    "\n" : "", jstr(u, "name"),
			    (long long)json_integer_value(json_object_get(u,
			    "failed_logins")), (long long)json_integer_value(
			    json_object_get(u, "failed_prefixes")),
			    json_string_value(v), jstr(u, "name"));
		}
		json_decref(ans);
		return (CTL_EXIT_OK);
	}
	if (n != 1)
		ctl_usage_exit(CTL_EXIT_USAGE);
	json_object_set_new(req, "name", json_string(args[0]));
	if (strcmp(sub, "add") == 0) {
		json_object_set_new(req, "cmd", json_string("users.add"));
		if (opts[0].value == NULL)
			errx(CTL_EXIT_USAGE, "users add needs --roles");
		json_object_set_new(req, "roles", comma_list(opts[0].value));
		if (opts[1].value != NULL)
			json_object_set_new(req, "mcp_tools",
			    comma_list(opts[1].value));
		if (opts[2].value != NULL)
			add_duration(req, "invite_ttl", "--invite-ttl",
			    opts[2].value);
		ans = ctl_request(req);
		if (ctl.format == FMT_JSON) {
			json_object_del(ans, "ok");
			ctl_print_json(ans);
		} else
			print_invite(ans, "has been created");
		json_decref(ans);
		return (CTL_EXIT_OK);
	}
	if (strcmp(sub, "update") == 0) {
		json_object_set_new(req, "cmd", json_string("users.update"));
		if (opts[3].value != NULL)
			json_object_set_new(req, "set_roles",
			    comma_list(opts[3].value));
		if (opts[4].value != NULL)
			json_object_set_new(req, "set_mcp_tools",
			    comma_list(opts[4].value));
		ans = ctl_request(req);
		snprintf(msg, sizeof(msg), "user \"%s\" updated",
		    jstr(ans, "user"));
		return (done(ans, msg));
	}
	if (strcmp(sub, "get") == 0) {
		json_object_set_new(req, "cmd", json_string("users.get"));
		ans = ctl_request(req);
		if (ctl.format == FMT_JSON) {
			json_object_del(ans, "yaml");
			return (done(ans, NULL));
		}
		fputs(jstr(ans, "yaml"), stdout);
		json_decref(ans);
		return (CTL_EXIT_OK);
	}
	if (strcmp(sub, "reset") == 0) {
		json_object_set_new(req, "cmd", json_string("users.reset"));
		if (opts[2].value != NULL)
			add_duration(req, "invite_ttl", "--invite-ttl",
			    opts[2].value);
		ans = ctl_request(req);
		if (ctl.format == FMT_JSON)
			return (done(ans, NULL));
		print_invite(ans, "has been reset: the certificates issued "
		    "before are refused");
		json_decref(ans);
		return (CTL_EXIT_OK);
	}
	if (strcmp(sub, "lock") == 0 || strcmp(sub, "unlock") == 0 ||
	    strcmp(sub, "rm") == 0) {
		snprintf(msg, sizeof(msg), "users.%s", sub);
		json_object_set_new(req, "cmd", json_string(msg));
		ans = ctl_request(req);
		snprintf(msg, sizeof(msg), "user \"%s\" %s", args[0],
		    jstr(ans, "message"));
		return (done(ans, msg));
	}
	fprintf(stderr, "mcpgatectl: unknown users command '%s'\n", sub);
	ctl_usage_exit(CTL_EXIT_USAGE);
}

static int
create(int argc, char **argv)
{
	struct opt	 opts[] = {
		{ "-f", NULL, 0, 0 }, { "--force", NULL, 1, 0 },
		{ NULL, NULL, 0, 0 }
	};
	json_t		*req, *ans, *v;
	char		*args[1], *buf;
	const char	*source;
	size_t		 len = 0, cap = 64 * 1024, i;
	ssize_t		 r;
	int		 n;

	n = parse_opts(argc, argv, 1, opts, args, 1);
	if (n == 1 && opts[0].value == NULL)
		opts[0].value = args[0];	/* "create FILE" too */
	else if (n != 0)
		ctl_usage_exit(CTL_EXIT_USAGE);
	source = opts[0].value != NULL && strcmp(opts[0].value, "-") != 0 ?
	    opts[0].value : "stdin";
	if (strcmp(source, "stdin") != 0) {
		if (read_file(source, CREATE_MAX, &buf, &len) == -1)
			err(CTL_EXIT_FAIL, "%s", source);
	} else {
		if ((buf = malloc(cap)) == NULL)
			err(CTL_EXIT_FAIL, NULL);
		for (;;) {
			if (len == cap) {
				if (cap >= CREATE_MAX)
					errx(CTL_EXIT_FAIL, "stdin: larger "
					    "than 4 MiB");
				cap *= 2;
				if ((buf = realloc(buf, cap)) == NULL)
					err(CTL_EXIT_FAIL, NULL);
			}
			if ((r = read(STDIN_FILENO, buf + len, cap - len)) ==
			    -1) {
				if (errno == EINTR)
					continue;
				err(CTL_EXIT_FAIL, "stdin");
			}
			if (r == 0)
				break;
			len += (size_t)r;
		}
	}
	req = json_pack("{s:s,s:s%,s:s,s:b}", "cmd", "create", "yaml", buf,
	    len, "source", source, "force", opts[1].seen);
	free(buf);
	if (req == NULL)
		errx(CTL_EXIT_FAIL, "%s is not UTF-8 text", source);
	ans = ctl_request(req);
	if (ctl.format == FMT_JSON)
		return (done(ans, NULL));
	json_array_foreach(json_object_get(ans, "created"), i, v)
		printf("%s %s\n", json_string_value(v), opts[1].seen ?
		    "created or replaced" : "created");
	json_decref(ans);
	return (CTL_EXIT_OK);
}

static int
get(int argc, char **argv)
{
	json_t	*ans, *v;
	size_t	 i;

	if (argc != 2)
		ctl_usage_exit(CTL_EXIT_USAGE);
	ans = ctl_request(json_pack("{s:s,s:s}", "cmd", "get", "what",
	    argv[1]));
	if (ctl.format == FMT_JSON)
		return (done(ans, NULL));
	json_array_foreach(json_object_get(ans, "documents"), i, v)
		printf("%s%s", i > 0 ? "---\n" : "", json_string_value(v));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

static int
rm(int argc, char **argv)
{
	char	 msg[256];

	if (argc != 2)
		ctl_usage_exit(CTL_EXIT_USAGE);
	snprintf(msg, sizeof(msg), "%s removed", argv[1]);
	return (done(ctl_request(json_pack("{s:s,s:s}", "cmd", "rm", "what",
	    argv[1])), msg));
}

static int
tokens(int argc, char **argv)
{
	struct opt	 opts[] = {
		{ "--type", NULL, 0, 0 }, { "--ttl", NULL, 0, 0 },
		{ NULL, NULL, 0, 0 }
	};
	json_t		*req, *ans, *t;
	char		*args[1];
	size_t		 i;
	int		 n;

	if (argc < 2)
		ctl_usage_exit(CTL_EXIT_USAGE);
	n = parse_opts(argc, argv, 2, opts, args, 1);
	if (strcmp(argv[1], "add") == 0 && n == 0) {
		req = json_pack("{s:s,s:s}", "cmd", "tokens.add", "type",
		    opts[0].value != NULL ? opts[0].value : "");
		if (opts[1].value != NULL)
			add_duration(req, "ttl", "--ttl", opts[1].value);
		ans = ctl_request(req);
		if (ctl.format == FMT_JSON)
			return (done(ans, NULL));
		printf("The %s join token: %s\nIts id is %s; it expires at "
		    "%s and is shown only now.\n", jstr(ans, "type"),
		    jstr(ans, "token"), jstr(ans, "id"), jstr(ans, "expires"));
		json_decref(ans);
		return (CTL_EXIT_OK);
	}
	if (strcmp(argv[1], "ls") == 0 && n == 0) {
		ans = ctl_request(json_pack("{s:s}", "cmd", "tokens.ls"));
		if (ctl.format == FMT_JSON)
			return (done(ans, NULL));
		printf("%-18s %-6s %-22s %s\n", "ID", "TYPE", "CREATED",
		    "EXPIRES");
		json_array_foreach(json_object_get(ans, "tokens"), i, t)
			printf("%-18s %-6s %-22s %s%s\n", jstr(t, "id"),
			    jstr(t, "type"), jstr(t, "created"),
			    jstr(t, "expires"), json_is_true(json_object_get(t,
			    "expired")) ? " (expired)" : "");
		json_decref(ans);
		return (CTL_EXIT_OK);
	}
	if (strcmp(argv[1], "rm") == 0 && n == 1)
		return (done(ctl_request(json_pack("{s:s,s:s}", "cmd",
		    "tokens.rm", "id", args[0])), "token removed"));
	ctl_usage_exit(CTL_EXIT_USAGE);
}

/* The identity commands; -1 when argv[0] is none of them. */
int
ctl_admin(int argc, char **argv)
{
	if (strcmp(argv[0], "users") == 0)
		return (users(argc, argv));
	if (strcmp(argv[0], "create") == 0)
		return (create(argc, argv));
	if (strcmp(argv[0], "get") == 0)
		return (get(argc, argv));
	if (strcmp(argv[0], "rm") == 0)
		return (rm(argc, argv));
	if (strcmp(argv[0], "tokens") == 0)
		return (tokens(argc, argv));
	return (-1);
}
