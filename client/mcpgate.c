/*
 * mcpgate: main and the commands' dispatch.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "client.h"

enum client_format	 client_format = CFMT_TEXT;
const char		*client_argv0 = "mcpgate";

void
client_usage(int status)
{
	FILE	*fp = status == CLIENT_EXIT_OK ? stdout : stderr;

	fprintf(fp,
	    "usage: mcpgate [--format text|json] command [args]\n"
	    "\n"
	    "commands:\n"
	    "  login --proxy HOST[:PORT] --user NAME "
	    "[--invite | --invite-file FILE]\n"
	    "        [--password-stdin] [--ca-fingerprint SHA256:HEX] "
	    "[--ttl DURATION]\n"
	    "                 log in and get a short-lived certificate\n"
	    "  status         your profile, and what the gateway says of it "
	    "now\n"
	    "  logout         remove your key and certificate\n"
	    "  mcp ls [-v] [--format text|json|yaml] [--search WORDS]\n"
	    "        [LABEL=VALUE[,LABEL=VALUE...]]\n"
	    "                 the MCP servers you may use, and their tools\n"
	    "  mcp config [NAME | --all | --labels K=V[,K=V...]]\n"
	    "        [--client-config claude|cursor|vscode|claude-code|PATH]\n"
	    "        [--json-format pretty|compact|auto]\n"
	    "                 configure an MCP client to use servers through "
	    "the gateway\n"
	    "  mcp connect NAME\n"
	    "                 the stdio bridge an MCP client runs (MCP on "
	    "stdin and stdout)\n"
	    "  version        print the version\n"
	    "\n"
	    "The profile is kept in $MCPGATE_HOME (default ~/.mcpgate).  "
	    "See mcpgate(1).\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	char	**rest;
	int	  i, n = 0;

	if (argc > 0 && argv[0] != NULL)
		client_argv0 = argv[0];
	json_zeroing_alloc();
	if ((rest = calloc((size_t)argc + 1, sizeof(*rest))) == NULL)
		err(CLIENT_EXIT_FAIL, NULL);
	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--format") == 0 && i + 1 < argc) ||
		    strncmp(argv[i], "--format=", 9) == 0) {
			if (argv[i][8] == '\0')
				i++;
			else
				argv[i] += 9;
			if (strcmp(argv[i], "json") == 0)
				client_format = CFMT_JSON;
			else if (strcmp(argv[i], "text") == 0)
				client_format = CFMT_TEXT;
			else if (strcmp(argv[i], "yaml") == 0)
				client_format = CFMT_YAML;
			else
				errx(CLIENT_EXIT_USAGE, "--format is text, "
				    "json or yaml");
			continue;
		}
		/* mcp has help of its own, for itself and its commands. */
		if ((strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) &&
		    (n == 0 || strcmp(rest[0], "mcp") != 0))
			client_usage(CLIENT_EXIT_OK);
		rest[n++] = argv[i];
	}
	if (n == 0)
		client_usage(CLIENT_EXIT_USAGE);
	if (client_format == CFMT_YAML && (n < 2 ||
	    strcmp(rest[0], "mcp") != 0 || strcmp(rest[1], "ls") != 0))
		errx(CLIENT_EXIT_USAGE, "--format yaml is only for 'mcp ls'");
	OPENSSL_init_ssl(0, NULL);
	if (strcmp(rest[0], "mcp") == 0)
		i = cmd_mcp(n, rest);
	else if (strcmp(rest[0], "login") == 0)
		i = cmd_login(n, rest);
	else if (strcmp(rest[0], "status") == 0)
		i = cmd_status(n, rest);
	else if (strcmp(rest[0], "logout") == 0)
		i = cmd_logout(n, rest);
	else if (strcmp(rest[0], "version") == 0 ||
	    strcmp(rest[0], "--version") == 0) {
		printf("mcpgate %s\n", MCPGATE_VERSION);
		i = CLIENT_EXIT_OK;
	} else {
		fprintf(stderr, "mcpgate: unknown command '%s'\n", rest[0]);
		client_usage(CLIENT_EXIT_USAGE);
	}
	free(rest);
	return (i);
}
