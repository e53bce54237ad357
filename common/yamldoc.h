/*
 * Reading YAML documents with libyaml: errors that name the file, line
 * and column, collected so that one run reports them all, and the small
 * accessors the configuration and resource parsers share.
 */
#ifndef MCPGATE_YAMLDOC_H
#define MCPGATE_YAMLDOC_H

#include <stddef.h>

#include <yaml.h>

#define CONF_MAXERRORS		32
#define CONF_ERRLEN		512

struct conf_errors {
	int			 n;
	int			 dropped;
	char			 msg[CONF_MAXERRORS][CONF_ERRLEN];
};

struct ydoc {
	const char		*file;
	yaml_document_t		*doc;
	struct conf_errors	*errs;
};

typedef int	(*ydoc_fn)(struct ydoc *, yaml_node_t *, void *);

void		 ydoc_errors_add(struct conf_errors *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 ydoc_error(struct ydoc *, yaml_node_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
int		 ydoc_is_null(yaml_node_t *);
const char	*ydoc_scalar(struct ydoc *, yaml_node_t *, const char *);
yaml_node_t	*ydoc_node(struct ydoc *, int);
void		 ydoc_syntax_error(yaml_parser_t *, const char *, const char *,
		    size_t, struct conf_errors *);
int		 ydoc_parse_stream(const char *, const char *, size_t,
		    struct conf_errors *, size_t, ydoc_fn, void *);

#endif
