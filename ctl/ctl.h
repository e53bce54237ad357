/*
 * mcpgatectl: the administrator's tool.  Commands that change the daemon
 * go over the control socket; the audit commands read the audit files
 * directly, so they work when the daemon is down.
 */
#ifndef MCPGATE_CTL_H
#define MCPGATE_CTL_H

#include <getopt.h>
#include <jansson.h>

#include "config.h"

#define CTL_EXIT_OK	0
#define CTL_EXIT_FAIL	1
#define CTL_EXIT_USAGE	2

enum ctl_format {
	FMT_TEXT,
	FMT_JSON,
	FMT_PROMETHEUS,			/* status only */
};

/*
 * What ctl_getopt returns for the long options that have no short form;
 * the short ones are their letters.
 */
enum ctl_option {
	OPT_FORMAT = 256,
	OPT_HELP,
	OPT_ROLES,
	OPT_MCP_TOOLS,
	OPT_INVITE_TTL,
	OPT_SET_ROLES,
	OPT_SET_MCP_TOOLS,
	OPT_FORCE,
	OPT_TYPE,
	OPT_TTL,
	OPT_STRICT,
	OPT_KEY,
	OPT_ANCHOR,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_EVENT,
	OPT_USER,
	OPT_APP,
};

/* A command: its words, its options, and what -h prints. */
struct ctl_cmd {
	const char		*group;		/* "users", or NULL */
	const char		*name;
	int			(*fn)(int, char **);
	const char		*shortopts;	/* without the global ones */
	const struct option	*longopts;	/* ends with the global ones */
	const char		*args;		/* after the words, for usage */
	const char		*what;		/* one sentence */
};

struct ctl {
	const char		*socket;	/* -s, or from the config */
	const char		*conffile;	/* -c */
	int			 conf_given;
	int			 conf_loaded;
	enum ctl_format		 format;
	struct mcpgated_conf	 conf;
	const struct ctl_cmd	*cmd;		/* the one running */
	char			**args;		/* its operands */
	int			 nargs;
};

extern struct ctl	 ctl;

void	 ctl_usage_exit(int) __attribute__((noreturn));
void	 ctl_cmd_usage_exit(int) __attribute__((noreturn));
int	 ctl_getopt(int, char **);
void	 ctl_operands(int, char **, int, int);
void	 ctl_nargs(int, int);
int	 ctl_load_conf(int);
json_t	*ctl_request(json_t *);
void	 ctl_print_json(json_t *);

/* admin.c */
int	 cmd_users_add(int, char **);
int	 cmd_users_ls(int, char **);
int	 cmd_users_get(int, char **);
int	 cmd_users_update(int, char **);
int	 cmd_users_reset(int, char **);
int	 cmd_users_lock(int, char **);
int	 cmd_users_unlock(int, char **);
int	 cmd_users_rm(int, char **);
int	 cmd_create(int, char **);
int	 cmd_get(int, char **);
int	 cmd_rm(int, char **);
int	 cmd_tokens_add(int, char **);
int	 cmd_tokens_ls(int, char **);
int	 cmd_tokens_rm(int, char **);

/* audit.c */
int	 cmd_audit_verify(int, char **);
int	 cmd_audit_search(int, char **);
int	 cmd_audit_tail(int, char **);

#endif
