/*
 * mcpgatectl: the administrator's tool.  Commands that change the daemon
 * go over the control socket; the audit commands read the audit files
 * directly, so they work when the daemon is down.
 */
#ifndef MCPGATE_CTL_H
#define MCPGATE_CTL_H

#include <jansson.h>

#include "config.h"

#define CTL_EXIT_OK	0
#define CTL_EXIT_FAIL	1
#define CTL_EXIT_USAGE	2

enum ctl_format {
	FMT_TEXT,
	FMT_JSON,
};

struct ctl {
	const char		*socket;	/* -s, or from the config */
	const char		*conffile;	/* -c */
	int			 conf_given;
	enum ctl_format		 format;
	struct mcpgated_conf	 conf;
};

extern struct ctl	 ctl;

void	 ctl_usage_exit(int) __attribute__((noreturn));
int	 ctl_load_conf(int);
json_t	*ctl_request(json_t *);
void	 ctl_print_json(json_t *);

/* admin.c */
int	 ctl_admin(int, char **);

/* audit.c */
int	 ctl_audit(int, char **);

#endif
