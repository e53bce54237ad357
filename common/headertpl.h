/*
 * The header templates of an HTTP app (rewrite.headers of
 * mcpgated.conf(5)): "Name: value" with {{internal.user}},
 * {{internal.jwt}}, {{internal.session}} and {{external.TRAIT}} in the
 * value.  The parser checks them; the parent renders them for each
 * session.
 */
#ifndef MCPGATE_HEADERTPL_H
#define MCPGATE_HEADERTPL_H

#include <stddef.h>

#include "buf.h"

#define HEADER_TPL_MAX		1024		/* a template, APP_HEADER_MAX */
#define HEADER_NAME_MAX		128		/* bytes of a header's name */
#define HEADER_LINE_MAX		(16 * 1024)	/* a rendered "Name: value" */

/* What a session's headers are made of. */
struct header_vars {
	const char	*user;		/* {{internal.user}} */
	const char	*jwt;		/* {{internal.jwt}} */
	const char	*session;	/* {{internal.session}} */
	/*
	 * {{external.TRAIT}}: how many values the user has for the trait
	 * name, the first of them in *value.
	 */
	size_t		(*trait)(void *arg, const char *name,
			    const char **value);
	void		*arg;
};

int	 header_check(const char *, char *, size_t, char *, size_t);
int	 header_render(const char *, const struct header_vars *,
	    struct buf *, char *, size_t);
int	 header_name_reserved(const char *);

#endif
