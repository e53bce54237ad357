/*
 * mcpgated configure and mcpgated install: the commands that write a
 * first mcpgated.conf and the systemd unit, run by an administrator
 * before the daemon ever starts.
 */
#ifndef MCPGATE_CONFIGURE_H
#define MCPGATE_CONFIGURE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdio.h>

/* An --app NAME=COMMAND: a stdio app, its command split on spaces. */
struct configure_app {
	char	 *name;
	char	 *command;		/* absolute */
	char	**args;			/* nargs of them */
	size_t	  nargs;
};

struct configure_opts {
	const char		*name;		/* --name, or NULL */
	const char		*listen;	/* --listen, or NULL */
	int			 demo;		/* --mcp-demo-server */
	const char		*run_as;	/* --run-as, or NULL */
	struct configure_app	*apps;
	size_t			 napps;
};

int	 configure_app_parse(const char *, struct configure_app *, char *,
	    size_t);
void	 configure_app_free(struct configure_app *);
int	 configure_check(const struct configure_opts *, char *, size_t);
int	 configure_write(FILE *, const struct configure_opts *);
__attribute__((noreturn)) void configure_main(int, char **);
__attribute__((noreturn)) void install_main(int, char **);

#endif
