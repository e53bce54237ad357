#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "yamldoc.h"

void
ydoc_errors_add(struct conf_errors *errs, const char *fmt, ...)
{
	va_list	 ap;

	if (errs->n == CONF_MAXERRORS) {
		errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(errs->msg[errs->n], sizeof(errs->msg[0]), fmt, ap);
	va_end(ap);
	errs->n++;
}

/* An error at a node: "file:line:column: message", counted from 1. */
void
ydoc_error(struct ydoc *y, yaml_node_t *node, const char *fmt, ...)
{
	char	 msg[CONF_ERRLEN];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ydoc_errors_add(y->errs, "%s:%zu:%zu: %s", y->file,
	    node->start_mark.line + 1, node->start_mark.column + 1, msg);
}

/* A plain empty, ~ or null scalar: YAML's null. */
int
ydoc_is_null(yaml_node_t *n)
{
	const char	*v;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return (0);
	v = (const char *)n->data.scalar.value;
	return (v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0);
}

/* The text of a scalar; anything else, or a NUL inside, is an error. */
const char *
ydoc_scalar(struct ydoc *y, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		ydoc_error(y, n, "'%s' must be a single value, not a %s",
		    what, n->type == YAML_MAPPING_NODE ? "mapping" : "list");
		return (NULL);
	}
	if (strlen((const char *)n->data.scalar.value) !=
	    n->data.scalar.length) {
		ydoc_error(y, n, "'%s' contains a NUL byte", what);
		return (NULL);
	}
	return ((const char *)n->data.scalar.value);
}

yaml_node_t *
ydoc_node(struct ydoc *y, int id)
{
	return (yaml_document_get_node(y->doc, id));
}

/*
 * libyaml's reader errors (bad encoding, control characters) give a byte
 * offset, not a mark: count the lines to it.
 */
void
ydoc_syntax_error(yaml_parser_t *parser, const char *name, const char *buf,
    size_t len, struct conf_errors *errs)
{
	size_t	 line, col, i, off;

	line = parser->problem_mark.line;
	col = parser->problem_mark.column;
	if (parser->error == YAML_READER_ERROR) {
		off = parser->problem_offset < len ? parser->problem_offset :
		    len;
		line = col = 0;
		for (i = 0; i < off; i++) {
			/* A line ends with LF, CR LF or CR alone. */
			if (buf[i] == '\n' || (buf[i] == '\r' &&
			    (i + 1 >= len || buf[i + 1] != '\n'))) {
				line++;
				col = 0;
			} else if (buf[i] != '\r' &&
			    ((unsigned char)buf[i] & 0xc0) != 0x80)
				col++;
		}
	}
	ydoc_errors_add(errs, "%s:%zu:%zu: YAML syntax error: %s%s%s", name,
	    line + 1, col + 1, parser->problem ? parser->problem :
	    "unknown problem", parser->context ? " " : "",
	    parser->context ? parser->context : "");
}

/*
 * Every document of a stream, each handed to fn with its root; at most
 * maxdocs of them.  Returns the number of documents, or -1 on a syntax
 * error (reported) or when fn returns -1.
 */
int
ydoc_parse_stream(const char *name, const char *buf, size_t len,
    struct conf_errors *errs, size_t maxdocs, ydoc_fn fn, void *arg)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	yaml_node_t	*root;
	struct ydoc	 y;
	size_t		 ndocs = 0;
	int		 ret = 0;

	if (!yaml_parser_initialize(&parser)) {
		ydoc_errors_add(errs, "%s: out of memory", name);
		return (-1);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	y.file = name;
	y.errs = errs;
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			ydoc_syntax_error(&parser, name, buf, len, errs);
			ret = -1;
			break;
		}
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		if (++ndocs > maxdocs) {
			ydoc_errors_add(errs, "%s:%zu:%zu: more than %zu YAML "
			    "documents", name, doc.start_mark.line + 1,
			    doc.start_mark.column + 1, maxdocs);
			yaml_document_delete(&doc);
			ret = -1;
			break;
		}
		y.doc = &doc;
		if (fn(&y, root, arg) == -1)
			ret = -1;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return (ret == -1 ? -1 : (int)ndocs);
}
