/*
 * Fuzz common/sse.c, the event stream reader for what a Streamable HTTP
 * or SSE MCP server sends.  Byte 0 of the input picks the size of the
 * chunks (1 to 256) and byte 1 the bound on an event's data; the rest is
 * the stream.  It is read twice, whole and in chunks: both readings must
 * give the same events, in the same order, and fail at the same point
 * when they fail; no event may break a bound.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sse.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct out {
	struct buf	 b;
	size_t		 max;
};

static int
record(const struct sse_event *ev, void *arg)
{
	struct out	*o = arg;

	if (ev->len > o->max || strlen(ev->type) > SSE_TYPE_MAX ||
	    strlen(ev->id) > SSE_ID_MAX || ev->data[ev->len] != '\0')
		abort();
	buf_printf(&o->b, "%zu:%s:%s:", ev->len, ev->type, ev->id);
	buf_add(&o->b, ev->data, ev->len);
	return (0);
}

static int
readall(const uint8_t *p, size_t len, size_t step, size_t max,
    struct out *o, long *retry)
{
	struct sse	 s;
	size_t		 off, n;
	int		 r = 0;

	buf_init(&o->b, 0);
	buf_add(&o->b, "", 0);
	o->max = max;
	sse_init(&s, max);
	for (off = 0; off < len && r == 0; off += n) {
		n = len - off < step ? len - off : step;
		r = sse_feed(&s, p + off, n, record, o);
	}
	if (r == -1 && (s.error == NULL || s.error[0] == '\0'))
		abort();
	*retry = s.retry;
	sse_free(&s);
	return (r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out	 whole, cut;
	size_t		 step, max;
	long		 r1, r2;
	int		 e1, e2;

	if (size < 2)
		return (0);
	step = (size_t)data[0] + 1;
	max = (size_t)data[1] * 16;
	e1 = readall(data + 2, size - 2, size, max, &whole, &r1);
	e2 = readall(data + 2, size - 2, step, max, &cut, &r2);
	if (e1 != e2 || whole.b.failed || cut.b.failed ||
	    whole.b.len != cut.b.len ||
	    memcmp(whole.b.data, cut.b.data, whole.b.len) != 0 ||
	    (e1 == 0 && r1 != r2) || r1 > SSE_RETRY_MAX || r2 > SSE_RETRY_MAX)
		abort();
	buf_free(&whole.b);
	buf_free(&cut.b);
	return (0);
}
