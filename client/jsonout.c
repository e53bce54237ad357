/*
 * What jansson cannot do for JSON text that people edit; json_dumps does
 * the rest (two spaces of indent or one line, keys in the order they
 * came, the escapes).
 *
 * - Reals as short as they read back.  jansson writes every real with 17
 *   significant digits, 0.1 as 0.10000000000000001, which would change
 *   the look of a value mcpgate never meant to touch in a client's file.
 *   json_text takes jansson's text and writes each real in it again.
 * - Where in a text a key's value is, so that a refusal names the line
 *   and column: jansson tells positions only of its own parse errors.
 */
#include <sys/types.h>

#include <ctype.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "client.h"

/* The shortest form that reads back as the same double, still a real. */
static void
put_real(struct buf *b, double d)
{
	char	 num[64];
	int	 p;

	for (p = 1; p <= 17; p++) {
		snprintf(num, sizeof(num), "%.*g", p, d);
		if (strtod(num, NULL) == d)
			break;
	}
	/* Still a real when read again: 100.0, not 100. */
	if (strpbrk(num, ".eEn") == NULL)
		strlcat(num, ".0", sizeof(num));
	buf_puts(b, num);
}

/*
 * v as text, pretty or on one line, with a final newline.  In jansson's
 * text a number starts with a digit or '-' outside a string, and is a
 * real when it has a point or an exponent.
 */
char *
json_text(json_t *v, int pretty, size_t *lenp)
{
	struct buf	 b;
	char		*text, *p, *end;
	size_t		 n;

	if ((text = json_dumps(v, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |
	    (pretty ? JSON_INDENT(2) : JSON_COMPACT))) == NULL)
		errx(CLIENT_EXIT_FAIL, "cannot encode JSON");
	buf_init(&b, 0);
	for (p = text; *p != '\0'; p = end) {
		if (*p == '"') {
			for (end = p + 1; *end != '"'; end++)
				if (*end == '\\')
					end++;
			buf_add(&b, p, (size_t)(++end - p));
		} else if (*p == '-' || isdigit((unsigned char)*p)) {
			n = strspn(p, "-+.0123456789eE");
			end = p + n;
			if (strcspn(p, ".eE") < n)
				put_real(&b, strtod(p, NULL));
			else
				buf_add(&b, p, n);
		} else {
			n = strcspn(p, "\"-0123456789");
			buf_add(&b, p, n);
			end = p + n;
		}
	}
	free(text);
	buf_add(&b, "\n", 1);
	if ((text = buf_release(&b, lenp)) == NULL)
		errx(CLIENT_EXIT_FAIL, "out of memory");
	return (text);
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
