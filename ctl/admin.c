/*
 * mcpgatectl users | create | get | rm | tokens: identity administration,
 * over the control socket.  mcpgatectl.c parses their options.
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

/* A request about the user named by the operand. */
static json_t *
user_request(const char *cmd)
{
	json_t	*req = json_object();

	json_object_set_new(req, "cmd", json_string(cmd));
	json_object_set_new(req, "name", json_string(ctl.args[0]));
	return (req);
}

int
cmd_users_add(int argc, char **argv)
{
	json_t		*req, *ans;
	const char	*roles = NULL, *tools = NULL, *ttl = NULL;
	int		 ch;

	while ((ch = ctl_getopt(argc, argv)) != -1) {
		switch (ch) {
		case OPT_ROLES:
			roles = optarg;
			break;
		case OPT_MCP_TOOLS:
			tools = optarg;
			break;
		case OPT_INVITE_TTL:
			ttl = optarg;
			break;
		}
	}
	ctl_nargs(1, 1);
	if (roles == NULL)
		errx(CTL_EXIT_USAGE, "users add needs --roles");
	req = user_request("users.add");
	json_object_set_new(req, "roles", comma_list(roles));
	if (tools != NULL)
		json_object_set_new(req, "mcp_tools", comma_list(tools));
	if (ttl != NULL)
		add_duration(req, "invite_ttl", "--invite-ttl", ttl);
	ans = ctl_request(req);
	if (ctl.format == FMT_JSON) {
		json_object_del(ans, "ok");
		ctl_print_json(ans);
	} else
		print_invite(ans, "has been created");
	json_decref(ans);
	return (CTL_EXIT_OK);
}

int
cmd_users_ls(int argc, char **argv)
{
	json_t	*ans, *u, *v;
	char	 roles[256], tools[256];
	size_t	 i;
	int	 nlocked = 0;

	ctl_operands(argc, argv, 0, 0);
	ans = ctl_request(json_pack("{s:s}", "cmd", "users.ls"));
	if (ctl.format == FMT_JSON)
		return (done(ans, NULL));
	printf("%-20s %-24s %-20s %-14s %s\n", "NAME", "ROLES",
	    "MCP TOOLS", "STATE", "CREATED");
	json_array_foreach(json_object_get(ans, "users"), i, u) {
		join_list(json_object_get(u, "roles"), roles, sizeof(roles));
		v = json_object_get(json_object_get(u, "traits"), "mcp_tools");
		join_list(v, tools, sizeof(tools));
		printf("%-20s %-24s %-20s %-14s %s\n", jstr(u, "name"),
		    roles, tools, jstr(u, "state"), jstr(u, "created"));
	}
	/* Locks by failed logins end by themselves: say when. */
	json_array_foreach(json_object_get(ans, "users"), i, u) {
		if ((v = json_object_get(u, "login_locked_until")) == NULL)
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

int
cmd_users_get(int argc, char **argv)
{
	json_t	*ans;

	ctl_operands(argc, argv, 1, 1);
	ans = ctl_request(user_request("users.get"));
	if (ctl.format == FMT_JSON) {
		json_object_del(ans, "yaml");
		return (done(ans, NULL));
	}
	fputs(jstr(ans, "yaml"), stdout);
	json_decref(ans);
	return (CTL_EXIT_OK);
}

int
cmd_users_update(int argc, char **argv)
{
	json_t		*req, *ans;
	const char	*roles = NULL, *tools = NULL;
	char		 msg[512];
	int		 ch;

	while ((ch = ctl_getopt(argc, argv)) != -1) {
		switch (ch) {
		case OPT_SET_ROLES:
			roles = optarg;
			break;
		case OPT_SET_MCP_TOOLS:
			tools = optarg;
			break;
		}
	}
	ctl_nargs(1, 1);
	req = user_request("users.update");
	if (roles != NULL)
		json_object_set_new(req, "set_roles", comma_list(roles));
	if (tools != NULL)
		json_object_set_new(req, "set_mcp_tools", comma_list(tools));
	ans = ctl_request(req);
	snprintf(msg, sizeof(msg), "user \"%s\" updated", jstr(ans, "user"));
	return (done(ans, msg));
}

int
cmd_users_reset(int argc, char **argv)
{
	json_t		*req, *ans;
	const char	*ttl = NULL;
	int		 ch;

	while ((ch = ctl_getopt(argc, argv)) != -1)
		if (ch == OPT_INVITE_TTL)
			ttl = optarg;
	ctl_nargs(1, 1);
	req = user_request("users.reset");
	if (ttl != NULL)
		add_duration(req, "invite_ttl", "--invite-ttl", ttl);
	ans = ctl_request(req);
	if (ctl.format == FMT_JSON)
		return (done(ans, NULL));
	print_invite(ans, "has been reset: the certificates issued before "
	    "are refused");
	json_decref(ans);
	return (CTL_EXIT_OK);
}

/* users lock, unlock and rm: the daemon's message says what it did. */
static int
users_change(int argc, char **argv, const char *cmd)
{
	json_t	*ans;
	char	 msg[512];

	ctl_operands(argc, argv, 1, 1);
	ans = ctl_request(user_request(cmd));
	snprintf(msg, sizeof(msg), "user \"%s\" %s", ctl.args[0],
	    jstr(ans, "message"));
	return (done(ans, msg));
}

int
cmd_users_lock(int argc, char **argv)
{
	return (users_change(argc, argv, "users.lock"));
}

int
cmd_users_unlock(int argc, char **argv)
{
	return (users_change(argc, argv, "users.unlock"));
}

int
cmd_users_rm(int argc, char **argv)
{
	return (users_change(argc, argv, "users.rm"));
}

int
cmd_create(int argc, char **argv)
{
	json_t		*req, *ans, *v;
	char		*buf;
	const char	*source, *file = NULL;
	size_t		 len = 0, cap = 64 * 1024, i;
	ssize_t		 r;
	int		 ch, force = 0;

	while ((ch = ctl_getopt(argc, argv)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case OPT_FORCE:
			force = 1;
			break;
		}
	}
	/* "create FILE" too, but not with -f. */
	ctl_nargs(0, file == NULL ? 1 : 0);
	if (ctl.nargs == 1)
		file = ctl.args[0];
	source = file != NULL && strcmp(file, "-") != 0 ? file : "stdin";
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
	    len, "source", source, "force", force);
	free(buf);
	if (req == NULL)
		errx(CTL_EXIT_FAIL, "%s is not UTF-8 text", source);
	ans = ctl_request(req);
	if (ctl.format == FMT_JSON)
		return (done(ans, NULL));
	json_array_foreach(json_object_get(ans, "created"), i, v)
		printf("%s %s\n", json_string_value(v), force ?
		    "created or replaced" : "created");
	json_decref(ans);
	return (CTL_EXIT_OK);
}

int
cmd_get(int argc, char **argv)
{
	json_t	*ans, *v;
	size_t	 i;

	ctl_operands(argc, argv, 1, 1);
	ans = ctl_request(json_pack("{s:s,s:s}", "cmd", "get", "what",
	    ctl.args[0]));
	if (ctl.format == FMT_JSON)
		return (done(ans, NULL));
	json_array_foreach(json_object_get(ans, "documents"), i, v)
		printf("%s%s", i > 0 ? "---\n" : "", json_string_value(v));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

int
cmd_rm(int argc, char **argv)
{
	char	 msg[256];

	ctl_operands(argc, argv, 1, 1);
	snprintf(msg, sizeof(msg), "%s removed", ctl.args[0]);
	return (done(ctl_request(json_pack("{s:s,s:s}", "cmd", "rm", "what",
	    ctl.args[0])), msg));
}

int
cmd_tokens_add(int argc, char **argv)
{
	json_t		*req, *ans;
	const char	*type = "", *ttl = NULL;
	int		 ch;

	while ((ch = ctl_getopt(argc, argv)) != -1) {
		switch (ch) {
		case OPT_TYPE:
			type = optarg;
			break;
		case OPT_TTL:
			ttl = optarg;
			break;
		}
	}
	ctl_nargs(0, 0);
	req = json_pack("{s:s,s:s}", "cmd", "tokens.add", "type", type);
	if (ttl != NULL)
		add_duration(req, "ttl", "--ttl", ttl);
	ans = ctl_request(req);
	if (ctl.format == FMT_JSON)
		return (done(ans, NULL));
	printf("The %s join token: %s\nIts id is %s; it expires at %s and is "
	    "shown only now.\n", jstr(ans, "type"), jstr(ans, "token"),
	    jstr(ans, "id"), jstr(ans, "expires"));
	json_decref(ans);
	return (CTL_EXIT_OK);
}

int
cmd_tokens_ls(int argc, char **argv)
{
	json_t	*ans, *t;
	size_t	 i;

	ctl_operands(argc, argv, 0, 0);
	ans = ctl_request(json_pack("{s:s}", "cmd", "tokens.ls"));
	if (ctl.format == FMT_JSON)
		return (done(ans, NULL));
	printf("%-18s %-6s %-22s %s\n", "ID", "TYPE", "CREATED", "EXPIRES");
	json_array_foreach(json_object_get(ans, "tokens"), i, t)
		printf("%-18s %-6s %-22s %s%s\n", jstr(t, "id"),
		    jstr(t, "type"), jstr(t, "created"), jstr(t, "expires"),
		    json_is_true(json_object_get(t, "expired")) ?
		    " (expired)" : "");
	json_decref(ans);
	return (CTL_EXIT_OK);
}

int
cmd_tokens_rm(int argc, char **argv)
{
	ctl_operands(argc, argv, 1, 1);
	return (done(ctl_request(json_pack("{s:s,s:s}", "cmd", "tokens.rm",
	    "id", ctl.args[0])), "token removed"));
}
