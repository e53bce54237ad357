/*
 * JSON text for files people edit: the layout their editors and MCP
 * clients write (two spaces of indent, or one line), keys in the order
 * they came, and numbers as short as they can be.  jansson's own dump
 * writes 0.1 as 0.10000000000000001, which would change the look of a
 * value mcpgate never meant to touch.  And where in a text a value is,
 * so that a refusal names the line and column.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"

static void	 json_put(FILE *, json_t *, int, int);

static void
put_string(FILE *fp, const char *s, size_t len)
{
	size_t		 i;
	unsigned char	 c;

	putc('"', fp);
	for (i = 0; i < len; i++) {
		switch ((c = (unsigned char)s[i])) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\b':
			fputs("\\b", fp);
			break;
		case '\f':
			fputs("\\f", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (c < 0x20)
				fprintf(fp, "\\u%04x", c);
			else
				putc(c, fp);
			break;
		}
	}
	putc('"', fp);
}

/* The shortest form that reads back as the same double. */
static void
put_real(FILE *fp, double d)
{
	char	 buf[64];
	int	 p;

	for (p = 1; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* Still a real when read again: 100.0, not 100. */
	if (strpbrk(buf, ".eEn") == NULL)
		strlcat(buf, ".0", sizeof(buf));
	fputs(buf, fp);
}

static void
newline(FILE *fp, int pretty, int depth)
{
	if (!pretty)
		return;
	fprintf(fp, "\n%*s", depth * 2, "");
}

static void
put_object(FILE *fp, json_t *v, int pretty, int depth)
{
	json_t		*e;
	const char	*k;
	int		 first = 1;

	if (json_object_size(v) == 0) {
		fputs("{}", fp);
		return;
	}
	putc('{', fp);
	json_object_foreach(v, k, e) {
		if (!first)
			putc(',', fp);
		first = 0;
		newline(fp, pretty, depth + 1);
		put_string(fp, k, strlen(k));
		fputs(pretty ? ": " : ":", fp);
		json_put(fp, e, pretty, depth + 1);
	}
	newline(fp, pretty, depth);
	putc('}', fp);
}

static void
put_array(FILE *fp, json_t *v, int pretty, int depth)
{
	json_t	*e;
	size_t	 i;

	if (json_array_size(v) == 0) {
		fputs("[]", fp);
		return;
	}
	putc('[', fp);
	json_array_foreach(v, i, e) {
		if (i > 0)
			putc(',', fp);
		newline(fp, pretty, depth + 1);
		json_put(fp, e, pretty, depth + 1);
	}
	newline(fp, pretty, depth);
	putc(']', fp);
}

static void
json_put(FILE *fp, json_t *v, int pretty, int depth)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		put_object(fp, v, pretty, depth);
		break;
	case JSON_ARRAY:
		put_array(fp, v, pretty, depth);
		break;
	case JSON_STRING:
		put_string(fp, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		put_real(fp, json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", fp);
		break;
	case JSON_FALSE:
		fputs("false", fp);
		break;
	default:
		fputs("null", fp);
		break;
	}
}

/* v as text, pretty or on one line, with a final newline. */
char *
json_text(json_t *v, int pretty, size_t *lenp)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		err(CLIENT_EXIT_FAIL, "open_memstream");
	json_put(fp, v, pretty, 0);
	putc('\n', fp);
	if (ferror(fp) || fclose(fp) == EOF)
		err(CLIENT_EXIT_FAIL, "cannot encode JSON");
	*lenp = len;
	return (buf);
}

/* The line and column, from 1, of a byte offset; columns in characters. */
void
json_text_pos(const char *text, size_t len, size_t off, int *line,
    int *col)
{
	size_t	 i;

	*line = *col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

static size_t
skip_space(const char *text, size_t len, size_t i)
{
	while (i < len && strchr(" \t\r\n", text[i]) != NULL)
		i++;
	return (i);
}

/*
 * Where the value of a key of the top-level object starts, in a text
 * already known to be valid JSON: 0 and the position, or -1.  The key is
 * compared as written, which is how people write these keys.
 */
int
json_key_pos(const char *text, size_t len, const char *key, int *line,
    int *col)
{
	size_t	 i, start, klen = strlen(key);
	int	 depth = 0, want_key = 0;

	for (i = 0; i < len; i++) {
		switch (text[i]) {
		case '"':
			for (start = ++i; i < len && text[i] != '"'; i++)
				if (text[i] == '\\')
					i++;
			if (depth != 1 || !want_key)
				break;
			want_key = 0;
			if (i - start != klen || memcmp(text + start, key,
			    klen) != 0)
				break;
			i = skip_space(text, len, i + 1);
			if (i < len && text[i] == ':')
				i = skip_space(text, len, i + 1);
			json_text_pos(text, len, i, line, col);
			return (0);
		case '{':
			if (++depth == 1)
				want_key = 1;
			break;
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ',':
			if (depth == 1)
				want_key = 1;
			break;
		}
	}
	return (-1);
}
