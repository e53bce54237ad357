#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Append; once an append fails the buffer stays failed. */
int
buf_add(struct buf *b, const void *data, size_t len)
{
	size_t	 cap;
	char	*nd;

	if (b->failed)
		return (-1);
	if (len > SIZE_MAX - b->len - 1 ||
	    (b->max != 0 && b->len + len > b->max)) {
		b->failed = 1;
		return (-1);
	}
	if (b->len + len + 1 > b->cap) {
		cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((nd = realloc(b->data, cap)) == NULL) {
			b->failed = 1;
			return (-1);
		}
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return (0);
}

int
buf_puts(struct buf *b, const char *s)
{
	return (buf_add(b, s, strlen(s)));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n, ret;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return (-1);
	}
	ret = buf_add(b, s, (size_t)n);
	free(s);
	return (ret);
}

/* The text, handed to the caller; NULL if anything failed. */
char *
buf_release(struct buf *b, size_t *lenp)
{
	char	*s;

	if (b->failed) {
		buf_free(b);
		return (NULL);
	}
	if (b->data == NULL && buf_add(b, "", 0) == -1)
		return (NULL);
	s = b->data;
	if (lenp != NULL)
		*lenp = b->len;
	memset(b, 0, sizeof(*b));
	return (s);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
