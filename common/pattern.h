/*
 * The patterns of a role, checked where roles are parsed and compiled
 * and matched where access is decided; see pattern.c.
 */
#ifndef MCPGATE_PATTERN_H
#define MCPGATE_PATTERN_H

#include <stddef.h>

#include <regex.h>

#include "resource.h"

struct pattern {
	const char	*text;
	int		 any;		/* "*" */
	int		 regex;		/* "^...$", compiled in re */
	regex_t		 re;
	char		 trait[RES_NAMELEN];	/* "{{internal.NAME}}" */
	int		 broken;	/* did not compile: fails closed */
};

int	 pattern_ok(const char *, char *, size_t);
int	 pattern_regcomp(regex_t *, const char *);
void	 pattern_compile(struct pattern *, const char *);
void	 pattern_free(struct pattern *);
int	 pattern_match(const struct pattern *, const struct user *,
	    const char *, int, const char **);

#endif
