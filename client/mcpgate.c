/*
 * mcpgate: main, the table of commands, and the option parsing they
 * share.  main takes the global options before the command, finds the
 * command (one word, or "mcp" and one more), and runs it; each command
 * parses its own options with getopt_long through client_getopt, which
 * takes the global options there too, so that they may come before or
 * after the command, and answers -h and --help with that command's usage.
 */
#include <sys/types.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "client.h"

struct client_cmd {
	const char	*name;
	const char	*args;		/* the synopsis after the name; a
					   newline starts another line */
	const char	*what;		/* for the list of commands */
	int		(*run)(int, char **);
};

static int	cmd_version(int, char **);

static const struct client_cmd client_cmds[] = {
	{ "login", "[--format text|json] --proxy HOST[:PORT] --user NAME\n"
	    "[--invite | --invite-file FILE] [--password-stdin]\n"
	    "[--ca-fingerprint SHA256:HEX] [--ttl DURATION]",
	    "log in and get a short-lived certificate", cmd_login },
	{ "status", "[--format text|json]",
	    "your profile, and what the gateway says of it now", cmd_status },
	{ "logout", "[--format text|json]",
	    "remove your key and certificate", cmd_logout },
	{ "version", "", "print the version", cmd_version },
	{ "mcp ls", "[-v] [--format text|json|yaml] [--search WORDS]\n"
	    "[LABEL=VALUE[,LABEL=VALUE...]]",
	    "the MCP servers you may use, and their tools", cmd_mcp_ls },
	{ "mcp config", "[NAME | --all | --labels K=V[,K=V...]]\n"
	    "[--client-config claude|cursor|vscode|claude-code|PATH]\n"
	    "[--json-format pretty|compact|auto] [--format text|json]",
	    "add servers to an MCP client's configuration, or print the\n"
	    "entries to add", cmd_mcp_config },
	{ "mcp connect", "NAME [--reconnect-for DURATION]",
	    "the stdio bridge an MCP client runs: MCP on stdin and stdout,\n"
	    "relayed to the gateway; when the connection is lost, it\n"
	    "connects again for DURATION (10m unless given; 0: never)",
	    cmd_mcp_connect },
};
#define NCMDS	(sizeof(client_cmds) / sizeof(client_cmds[0]))

#define MAIN_OPT_VERSION	CLIENT_OPT_FIRST

/* The options main takes before the command. */
static const struct option main_longopts[] = {
	{ "version",	no_argument,	NULL,	MAIN_OPT_VERSION },
	CLIENT_LONGOPTS,
	{ NULL,		0,		NULL,	0 }
};

enum client_format		 client_format = CFMT_TEXT;
const char			*client_argv0 = "mcpgate";
static const struct client_cmd	*client_cmd;	/* the one running */
static char			 getopt_name[64];	/* argv[0], which
							   getopt names */

/* s with each newline followed by indent. */
static void
put_indented(FILE *fp, const char *s, const char *indent)
{
	for (; *s != '\0'; s++) {
		putc(*s, fp);
		if (*s == '\n')
			fputs(indent, fp);
	}
}

static void
cmd_synopsis(FILE *fp, const struct client_cmd *c, const char *first)
{
	fprintf(fp, "%smcpgate %s%s", first, c->name, c->args[0] != '\0' ?
	    " " : "");
	put_indented(fp, c->args, "           ");
	putc('\n', fp);
}

/* The usage of the commands whose names start with prefix ("" all). */
static void __attribute__((noreturn))
cmds_usage(const char *prefix, int status)
{
	FILE	*fp = status == CLIENT_EXIT_OK ? stdout : stderr;
	size_t	 i, n = strlen(prefix);
	int	 first = 1;

	if (n == 0) {
		fprintf(fp, "usage: mcpgate [--format text|json] command "
		    "[args]\n\ncommands:\n");
		for (i = 0; i < NCMDS; i++) {
			fprintf(fp, "  %s%s", client_cmds[i].name,
			    client_cmds[i].args[0] != '\0' ? " " : "");
			put_indented(fp, client_cmds[i].args, "        ");
			fputs("\n                 ", fp);
			put_indented(fp, client_cmds[i].what,
			    "                 ");
			putc('\n', fp);
		}
		fprintf(fp, "\nEach command takes -h or --help for its own "
		    "usage; a long option's value\nmay follow it as its next "
		    "argument or after '='.  The profile is kept in\n"
		    "$MCPGATE_HOME (default ~/.mcpgate).  See mcpgate(1).\n");
		exit(status);
	}
	for (i = 0; i < NCMDS; i++) {
		if (strncmp(client_cmds[i].name, prefix, n) != 0)
			continue;
		cmd_synopsis(fp, &client_cmds[i], first ? "usage: " :
		    "       ");
		first = 0;
	}
	fprintf(fp, "\n");
	for (i = 0; i < NCMDS; i++) {
		if (strncmp(client_cmds[i].name, prefix, n) != 0)
			continue;
		fprintf(fp, "  %-9s", client_cmds[i].name + n);
		put_indented(fp, client_cmds[i].what, "           ");
		putc('\n', fp);
	}
	fprintf(fp, "\nSee mcpgate(1).\n");
	exit(status);
}

void
client_usage(int status)
{
	FILE	*fp = status == CLIENT_EXIT_OK ? stdout : stderr;

	if (client_cmd == NULL)
		cmds_usage("", status);
	cmd_synopsis(fp, client_cmd, "usage: ");
	exit(status);
}

static void
client_set_format(const char *s)
{
	if (strcmp(s, "json") == 0)
		client_format = CFMT_JSON;
	else if (strcmp(s, "text") == 0)
		client_format = CFMT_TEXT;
	else if (strcmp(s, "yaml") == 0)
		client_format = CFMT_YAML;
	else
		errx(CLIENT_EXIT_USAGE, "--format is text, json or yaml, not "
		    "'%s'", s);
}

/*
 * getopt_long for the running command: its own options are returned,
 * the global ones are taken here, -h and --help print its usage, and an
 * unknown option or a missing value (getopt names it) is a usage error.
 * At the end (-1) the format is checked against the command.
 */
int
client_getopt(int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	int	 ch;

	for (;;) {
		switch ((ch = getopt_long(argc, argv, shortopts, longopts,
		    NULL))) {
		case 'h':
			client_usage(CLIENT_EXIT_OK);
		case CLIENT_OPT_FORMAT:
			client_set_format(optarg);
			break;
		case '?':
			client_usage(CLIENT_EXIT_USAGE);
		case -1:
			if (client_format == CFMT_YAML &&
			    strcmp(client_cmd->name, "mcp ls") != 0)
				errx(CLIENT_EXIT_USAGE, "--format yaml is only "
				    "for 'mcp ls'");
			return (-1);
		default:
			return (ch);
		}
	}
}

/* For a command with no options and no operands of its own. */
void
client_noargs(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		CLIENT_LONGOPTS,
		{ NULL,	0,	NULL,	0 }
	};

	if (client_getopt(argc, argv, "h", longopts) != -1 || optind != argc)
		client_usage(CLIENT_EXIT_USAGE);
}

static int
cmd_version(int argc, char **argv)
{
	client_noargs(argc, argv);
	printf("mcpgate %s\n", MCPGATE_VERSION);
	return (CLIENT_EXIT_OK);
}

/*
 * The global options up to the next word: "+" stops getopt there rather
 * than look for options beyond it.
 */
static void
global_opts(int argc, char **argv, const char *usage_prefix)
{
	int	 ch;

	while ((ch = getopt_long(argc, argv, "+h", main_longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			cmds_usage(usage_prefix, CLIENT_EXIT_OK);
		case CLIENT_OPT_FORMAT:
			client_set_format(optarg);
			break;
		case MAIN_OPT_VERSION:
			printf("mcpgate %s\n", MCPGATE_VERSION);
			exit(CLIENT_EXIT_OK);
		default:
			cmds_usage(usage_prefix, CLIENT_EXIT_USAGE);
		}
	}
}

/* The command named word after prefix ("" or "mcp "), or NULL. */
static const struct client_cmd *
cmd_find(const char *prefix, const char *word)
{
	size_t	 i, n = strlen(prefix);

	if (strchr(word, ' ') != NULL)
		return (NULL);
	for (i = 0; i < NCMDS; i++)
		if (strncmp(client_cmds[i].name, prefix, n) == 0 &&
		    strcmp(client_cmds[i].name + n, word) == 0)
			return (&client_cmds[i]);
	return (NULL);
}

int
main(int argc, char *argv[])
{
	const char	*prefix = "";

	if (argc < 1 || argv[0] == NULL)
		errx(CLIENT_EXIT_USAGE, "no argv[0]");
	client_argv0 = argv[0];
	strlcpy(getopt_name, "mcpgate", sizeof(getopt_name));
	argv[0] = getopt_name;
	json_zeroing_alloc();
	global_opts(argc, argv, prefix);
	argc -= optind;
	argv += optind;
	if (argc == 0)
		cmds_usage(prefix, CLIENT_EXIT_USAGE);
	if (strcmp(argv[0], "mcp") == 0) {
		/* mcp has global options and help of its own too. */
		prefix = "mcp ";
		strlcpy(getopt_name, "mcpgate mcp", sizeof(getopt_name));
		argv[0] = getopt_name;
		optind = 0;
		global_opts(argc, argv, prefix);
		argc -= optind;
		argv += optind;
		if (argc == 0)
			cmds_usage(prefix, CLIENT_EXIT_USAGE);
		if (strcmp(argv[0], "help") == 0)
			cmds_usage(prefix, CLIENT_EXIT_OK);
	}
	if ((client_cmd = cmd_find(prefix, argv[0])) == NULL) {
		fprintf(stderr, "mcpgate: unknown %scommand '%s'\n", prefix,
		    argv[0]);
		cmds_usage(prefix, CLIENT_EXIT_USAGE);
	}
	/* getopt starts afresh, with the command's name in messages. */
	snprintf(getopt_name, sizeof(getopt_name), "mcpgate %s",
	    client_cmd->name);
	argv[0] = getopt_name;
	optind = 0;
	OPENSSL_init_ssl(0, NULL);
	return (client_cmd->run(argc, argv));
}
