/*
 * mcpgate mcp ls: the MCP servers the gateway lets the user see, with
 * the tools the user's roles allow, as a table, JSON or YAML.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "client.h"
#include "utf8.h"

/* Without -v, in characters: */
#define LS_DESC_MAX	50	/* a description */
#define LS_TOOLS_MAX	40	/* a list of tools */
#define LS_COLS		6

#define LS_OPT_SEARCH	CLIENT_OPT_FIRST

struct ls_opts {
	int		 verbose;
	json_t		*labels;	/* each pair must match */
	char		*search;	/* each word must occur somewhere */
};

/* A table: rows of cells, the first row the header. */
struct table {
	char		**cell;
	size_t		  rows;
	size_t		  cols;
};

static int
contains(const char *hay, const char *word)
{
	return (hay != NULL && strcasestr(hay, word) != NULL);
}

/* Whether one search word occurs in the name, description or a label. */
static int
word_matches(json_t *app, const char *word)
{
	json_t		*v;
	const char	*k;

	if (contains(jstr(app, "name"), word) ||
	    contains(jstr(app, "description"), word))
		return (1);
	json_object_foreach(json_object_get(app, "labels"), k, v)
		if (contains(k, word) || contains(json_string_value(v), word))
			return (1);
	return (0);
}

/* Words are separated by commas or white space; each must occur. */
static int
search_matches(json_t *app, const char *search)
{
	char	*copy, *word, *p;
	int	 ok = 1;

	if (search == NULL)
		return (1);
	if ((copy = strdup(search)) == NULL)
		err(CLIENT_EXIT_FAIL, NULL);
	for (p = copy; ok && (word = strsep(&p, ", \t\n")) != NULL; )
		if (word[0] != '\0' && !word_matches(app, word))
			ok = 0;
	free(copy);
	return (ok);
}

static json_t *
ls_filter(json_t *apps, const struct ls_opts *o)
{
	json_t	*out, *app;
	size_t	 i;

	if ((out = json_array()) == NULL)
		err(CLIENT_EXIT_FAIL, NULL);
	json_array_foreach(apps, i, app) {
		if (!json_is_object(app))
			continue;
		if ((o->labels == NULL || app_labels_select(app, o->labels)) &&
		    search_matches(app, o->search))
			json_array_append(out, app);
	}
	return (out);
}

/* s cut to at most max characters, "..." marking the cut. */
static char *
shorten(const char *s, size_t max)
{
	char	*t;

	if (utf8_chars(s) <= max)
		return (strdup(s));
	if (asprintf(&t, "%.*s...", (int)utf8_offset(s, max - 3), s) == -1)
		err(CLIENT_EXIT_FAIL, NULL);
	return (t);
}

/*
 * Tool names joined with ", ".  With a limit, whole names are kept while
 * they fit and the rest are counted: "a, b, +3 more".
 */
static char *
tool_list(json_t *tools, size_t max)
{
	json_t	*v;
	char	*s = NULL, *t;
	size_t	 i, n = json_array_size(tools);

	json_array_foreach(tools, i, v) {
		if (asprintf(&t, "%s%s%s", s != NULL ? s : "", i > 0 ?
		    ", " : "", json_string_value(v) != NULL ?
		    json_string_value(v) : "?") == -1)
			err(CLIENT_EXIT_FAIL, NULL);
		if (max > 0 && i > 0 && utf8_chars(t) > max && i + 1 <= n) {
			free(t);
			if (asprintf(&t, "%s, +%zu more", s, n - i) == -1)
				err(CLIENT_EXIT_FAIL, NULL);
			free(s);
			return (t);
		}
		free(s);
		s = t;
	}
	return (s != NULL ? s : strdup(""));
}

static char *
allowed_cell(json_t *app, int verbose, int *warn)
{
	json_t	*tools = json_object_get(app, "tools");
	json_t	*allowed = json_object_get(tools, "allowed");

	if (json_is_true(json_object_get(tools, "all")))
		return (strdup("[*]"));
	if (json_array_size(allowed) == 0) {
		*warn = 1;
		return (strdup("(none) [!]"));
	}
	return (tool_list(allowed, verbose ? 0 : LS_TOOLS_MAX));
}

static char *
denied_cell(json_t *app)
{
	json_t	*denied = json_object_get(json_object_get(app, "tools"),
	    "denied");

	if (json_array_size(denied) == 0)
		return (strdup("-"));
	return (tool_list(denied, 0));
}

static char *
labels_cell(json_t *app)
{
	json_t		*v;
	const char	*k;
	char		*s = NULL, *t;

	json_object_foreach(json_object_get(app, "labels"), k, v) {
		if (asprintf(&t, "%s%s%s=%s", s != NULL ? s : "", s != NULL ?
		    "," : "", k, json_string_value(v) != NULL ?
		    json_string_value(v) : "") == -1)
			err(CLIENT_EXIT_FAIL, NULL);
		free(s);
		s = t;
	}
	return (s != NULL ? s : strdup(""));
}

static void
table_add(struct table *t, size_t row, size_t col, char *s)
{
	if (s == NULL)
		err(CLIENT_EXIT_FAIL, NULL);
	t->cell[row * t->cols + col] = s;
}

/* Columns as wide as their widest cell, dashes under the header. */
static void
table_print(struct table *t)
{
	size_t	 w[LS_COLS], r, c, n;

	for (c = 0; c < t->cols; c++) {
		w[c] = 0;
		for (r = 0; r < t->rows; r++)
			if ((n = utf8_chars(t->cell[r * t->cols + c])) > w[c])
				w[c] = n;
	}
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->cols; c++) {
			fputs(t->cell[r * t->cols + c], stdout);
			if (c + 1 == t->cols)
				break;
			n = utf8_chars(t->cell[r * t->cols + c]);
			printf("%*s", (int)(w[c] - n + 1), "");
		}
		putchar('\n');
		if (r > 0)
			continue;
		for (c = 0; c < t->cols; c++) {
			for (n = 0; n < w[c]; n++)
				putchar('-');
			putchar(c + 1 == t->cols ? '\n' : ' ');
		}
	}
}

static void
ls_text(json_t *apps, const struct ls_opts *o)
{
	static const char *const head[] = { "Name", "Description", "Type",
	    "Allowed Tools", "Denied Tools", "Labels" };
	struct table	 t;
	json_t		*app;
	size_t		 i, c, col;
	int		 warn = 0;

	t.cols = o->verbose ? 6 : 5;
	t.rows = json_array_size(apps) + 1;
	if ((t.cell = calloc(t.rows * t.cols, sizeof(*t.cell))) == NULL)
		err(CLIENT_EXIT_FAIL, NULL);
	for (c = col = 0; c < LS_COLS; c++)
		if (o->verbose || c != 4)
			table_add(&t, 0, col++, strdup(head[c]));
	json_array_foreach(apps, i, app) {
		col = 0;
		table_add(&t, i + 1, col++, strdup(jstr(app, "name")));
		table_add(&t, i + 1, col++, o->verbose ?
		    strdup(jstr(app, "description")) :
		    shorten(jstr(app, "description"), LS_DESC_MAX));
		table_add(&t, i + 1, col++, strdup(jstr(app, "type")));
		table_add(&t, i + 1, col++, allowed_cell(app, o->verbose,
		    &warn));
		if (o->verbose)
			table_add(&t, i + 1, col++, denied_cell(app));
		table_add(&t, i + 1, col++, labels_cell(app));
	}
	table_print(&t);
	if (warn)
		printf("\n[!] Warning: you do not have access to any tools on "
		    "the MCP server(s) marked [!];\n    ask your administrator "
		    "for a role that allows them.\n");
	for (i = 0; i < t.rows * t.cols; i++)
		free(t.cell[i]);
	free(t.cell);
}

/*
 * A string YAML would read as something else (a number, a boolean,
 * null) or that starts like YAML syntax is quoted; the emitter quotes
 * the rest as it must.
 */
static int
yaml_needs_quotes(const char *s)
{
	static const char *const words[] = { "null", "true", "false", "yes",
	    "no", "on", "off", "y", "n", "~", ".nan", ".inf", "-.inf",
	    ".NaN", ".Inf", "-.Inf" };
	char	*end;
	size_t	 i;

	if (s[0] == '\0' || strchr("-+.0123456789", s[0]) != NULL) {
		strtod(s, &end);
		if (s[0] == '\0' || *end == '\0' || strspn(s,
		    "0123456789-+.:_eExXoObBabcdefABCDEF") == strlen(s))
			return (1);
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return (1);
	return (0);
}

static int
yaml_scalar(yaml_emitter_t *em, const char *s, int plain)
{
	yaml_event_t	 ev;
	int		 quote = !plain && yaml_needs_quotes(s);

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)s, (int)strlen(s), !quote, 1, quote ?
	    YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE))
		return (0);
	return (yaml_emitter_emit(em, &ev));
}

/* A JSON value as YAML events, in the order jansson keeps. */
static int
yaml_value(yaml_emitter_t *em, json_t *v)
{
	yaml_event_t	 ev;
	json_t		*e;
	const char	*k;
	char		 num[64];
	size_t		 i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_ANY_MAPPING_STYLE) || !yaml_emitter_emit(em, &ev))
			return (0);
		json_object_foreach(v, k, e)
			if (!yaml_scalar(em, k, 0) || !yaml_value(em, e))
				return (0);
		return (yaml_mapping_end_event_initialize(&ev) &&
		    yaml_emitter_emit(em, &ev));
	case JSON_ARRAY:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_ANY_SEQUENCE_STYLE) || !yaml_emitter_emit(em, &ev))
			return (0);
		json_array_foreach(v, i, e)
			if (!yaml_value(em, e))
				return (0);
		return (yaml_sequence_end_event_initialize(&ev) &&
		    yaml_emitter_emit(em, &ev));
	case JSON_STRING:
		return (yaml_scalar(em, json_string_value(v), 0));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return (yaml_scalar(em, num, 1));
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		return (yaml_scalar(em, num, 1));
	case JSON_TRUE:
		return (yaml_scalar(em, "true", 1));
	case JSON_FALSE:
		return (yaml_scalar(em, "false", 1));
	default:
		return (yaml_scalar(em, "null", 1));
	}
}

static int
yaml_write(void *data, unsigned char *buf, size_t len)
{
	(void)data;
	return (fwrite(buf, 1, len, stdout) == len);
}

static void
ls_yaml(json_t *apps)
{
	yaml_emitter_t	 em;
	yaml_event_t	 ev;
	int		 ok;

	if (!yaml_emitter_initialize(&em))
		errx(CLIENT_EXIT_FAIL, "cannot write YAML");
	yaml_emitter_set_output(&em, yaml_write, NULL);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_value(&em, apps) &&
	    yaml_document_end_event_initialize(&ev, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_stream_end_event_initialize(&ev) &&
	    yaml_emitter_emit(&em, &ev);
	if (!ok)
		errx(CLIENT_EXIT_FAIL, "cannot write YAML: %s", em.problem !=
		    NULL ? em.problem : "out of memory");
	yaml_emitter_delete(&em);
}

static void
ls_none(const struct ls_opts *o, size_t total, int offered)
{
	if (total == 0 && offered == 0)
		printf("The gateway offers no MCP servers yet; ask your "
		    "administrator to set one up.\n");
	else if (total == 0)
		printf("You may not use any MCP server on this gateway; ask "
		    "your administrator for a role that allows one.\n");
	else if (o->search != NULL && o->labels != NULL)
		printf("None of your %zu MCP server(s) matches both the "
		    "search and the labels.\n", total);
	else if (o->search != NULL)
		printf("None of your %zu MCP server(s) matches '%s'.\n", total,
		    o->search);
	else
		printf("None of your %zu MCP server(s) has those labels.\n",
		    total);
}

static void
ls_args(int argc, char **argv, struct ls_opts *o)
{
	static const struct option	 longopts[] = {
		{ "verbose",	no_argument,		NULL,	'v' },
		{ "search",	required_argument,	NULL,	LS_OPT_SEARCH },
		CLIENT_LONGOPTS,
		{ NULL,		0,			NULL,	0 }
	};
	int	 ch;

	memset(o, 0, sizeof(*o));
	while ((ch = client_getopt(argc, argv, "hv", longopts)) != -1) {
		switch (ch) {
		case 'v':
			o->verbose = 1;
			break;
		case LS_OPT_SEARCH:
			o->search = optarg;
			break;
		}
	}
	for (; optind < argc; optind++) {
		if (o->labels == NULL && (o->labels = json_object()) == NULL)
			err(CLIENT_EXIT_FAIL, NULL);
		if (app_labels_parse(o->labels, argv[optind]) == -1) {
			warnx("'%s' is not LABEL=VALUE[,LABEL=VALUE...]",
			    argv[optind]);
			client_usage(CLIENT_EXIT_USAGE);
		}
	}
}

int
cmd_mcp_ls(int argc, char **argv)
{
	struct ls_opts	 o;
	json_t		*apps, *sel;
	char		 errbuf[1024], *s;
	int		 offered;

	ls_args(argc, argv, &o);
	if ((apps = mcp_apps(&offered, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "mcpgate: %s\n", errbuf);
		json_decref(o.labels);
		return (CLIENT_EXIT_FAIL);
	}
	sel = ls_filter(apps, &o);
	if (client_format == CFMT_JSON) {
		if ((s = json_dumps(sel, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER)) == NULL)
			errx(CLIENT_EXIT_FAIL, "cannot encode the list");
		printf("%s\n", s);
		free(s);
	} else if (client_format == CFMT_YAML)
		ls_yaml(sel);
	else if (json_array_size(sel) == 0)
		ls_none(&o, json_array_size(apps), offered);
	else
		ls_text(sel, &o);
	json_decref(sel);
	json_decref(apps);
	json_decref(o.labels);
	return (CLIENT_EXIT_OK);
}
