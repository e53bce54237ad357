/*
 * Fuzz common/headertpl.c, the header templates of an HTTP app.  The
 * input is NUL-separated: the template, then what the user's name, the
 * JWT and the session stand for, then the values of every trait (how
 * many the user has of a trait depends on its name).  Whatever
 * header_check() accepts, header_render() renders with plain values;
 * whatever it refuses, the rendering refuses too.  A rendering that
 * succeeds, with any values, is one line "Name: value" of the checked
 * name, without CR, LF or NUL, UTF-8, within HEADER_LINE_MAX; one that
 * fails leaves the buffer as it was.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "headertpl.h"
#include "utf8.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NSEG	8

struct segs {
	const char	*v[NSEG];
	size_t		 n;
};

static size_t
fuzz_trait(void *arg, const char *name, const char **value)
{
	const struct segs	*s = arg;
	size_t			 n;

	if (s->n <= 4) {
		*value = "t";
		return (strlen(name) % 3);
	}
	*value = s->v[4];
	n = (strlen(name) + s->n) % 3;
	return (n);
}

static size_t
plain_trait(void *arg, const char *name, const char **value)
{
	(void)arg;
	(void)name;
	*value = "t";
	return (1);
}

static void
check_line(const struct buf *b, size_t start, const char *name)
{
	const char	*line = b->data + start;
	size_t		 len = b->len - start, nlen = strlen(name);

	if (strlen(line) != len || len > HEADER_LINE_MAX ||
	    memchr(line, '\r', len) != NULL ||
	    memchr(line, '\n', len) != NULL)
		abort();
	if (len < nlen + 3 || memcmp(line, name, nlen) != 0 ||
	    memcmp(line + nlen, ": ", 2) != 0)
		abort();
	if (!utf8_valid((const unsigned char *)line, len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct segs		 s;
	struct header_vars	 v, plain;
	struct buf		 b;
	char			*copy, *p, *end;
	char			 name[HEADER_NAME_MAX + 1], err[512];
	int			 ok, r;

	if ((copy = malloc(size + 1)) == NULL)
		return (0);
	memcpy(copy, data, size);
	copy[size] = '\0';
	memset(&s, 0, sizeof(s));
	for (p = copy, end = copy + size; s.n < NSEG; p += strlen(p) + 1) {
		s.v[s.n++] = p;
		if (p + strlen(p) >= end)
			break;
	}

	memset(&v, 0, sizeof(v));
	v.user = s.n > 1 ? s.v[1] : "alice";
	v.jwt = s.n > 2 ? s.v[2] : NULL;
	v.session = s.n > 3 ? s.v[3] : "s";
	v.trait = fuzz_trait;
	v.arg = &s;
	plain.user = "u";
	plain.jwt = "j";
	plain.session = "s";
	plain.trait = plain_trait;
	plain.arg = NULL;

	err[0] = '\0';
	ok = header_check(s.v[0], name, sizeof(name), err, sizeof(err)) == 0;
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();

	/* The check and the rendering agree. */
	buf_init(&b, 0);
	buf_puts(&b, "Prior: x");
	r = header_render(s.v[0], &plain, &b, err, sizeof(err));
	if ((r == 0) != ok)
		abort();
	if (r == 0)
		check_line(&b, 8, name);
	else if (b.len != 8 || strcmp(b.data, "Prior: x") != 0)
		abort();
	buf_free(&b);

	/* Any values: one line, or the buffer as it was. */
	buf_init(&b, 0);
	buf_puts(&b, "Prior: x");
	r = header_render(s.v[0], &v, &b, err, sizeof(err));
	if (r == 0) {
		if (!ok)
			abort();
		check_line(&b, 8, name);
	} else if (b.len != 8 || strcmp(b.data, "Prior: x") != 0)
		abort();
	buf_free(&b);
	free(copy);
	return (0);
}
