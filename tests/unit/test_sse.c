/*
 * Unit tests of common/sse.c: the event stream interpretation of the
 * WHATWG standard (line ends, comments, fields, the optional space, data
 * joined with LF, id and retry, the BOM), the same events however the
 * stream is cut into chunks, and the bounds.
 */
#include <sys/types.h>

#include <string.h>

#include "buf.h"
#include "sse.h"
#include "unit.h"

/* Events written out as "type|id|data\n" for comparison. */
struct seen {
	struct buf	 out;
	int		 stop_after;	/* cb returns -1 at this event; 0 never */
	int		 n;
};

static int
seen_cb(const struct sse_event *ev, void *arg)
{
	struct seen	*sn = arg;

	buf_printf(&sn->out, "%s|%s|", ev->type, ev->id);
	buf_add(&sn->out, ev->data, ev->len);
	buf_add(&sn->out, "\n", 1);
	if (++sn->n == sn->stop_after)
		return (-1);
	return (0);
}

/* Feed s in chunks of step bytes (0: whole); the events, or NULL. */
static char *
events(const char *s, size_t len, size_t step, size_t max, long *retry,
    const char **error)
{
	struct sse	 sse;
	struct seen	 sn;
	size_t		 off, n;
	int		 r = 0;

	memset(&sn, 0, sizeof(sn));
	buf_init(&sn.out, 0);
	buf_add(&sn.out, "", 0);
	sse_init(&sse, max);
	for (off = 0; off < len && r == 0; off += n) {
		n = step == 0 ? len : step;
		if (n > len - off)
			n = len - off;
		r = sse_feed(&sse, s + off, n, seen_cb, &sn);
	}
	if (retry != NULL)
		*retry = sse.retry;
	if (error != NULL)
		*error = sse.error;
	sse_free(&sse);
	if (r == -1) {
		buf_free(&sn.out);
		return (NULL);
	}
	return (buf_release(&sn.out, NULL));
}

static void
expect(const char *in, const char *want)
{
	size_t	 step, len = strlen(in);
	char	*got;

	for (step = 0; step <= len; step++) {
		got = events(in, len, step, 1024, NULL, NULL);
		T_ASSERTF(got != NULL && strcmp(got, want) == 0,
		    "input \"%s\" in chunks of %zu: got \"%s\", want \"%s\"",
		    in, step, got == NULL ? "(error)" : got, want);
		free(got);
	}
}

static void
test_sse_fields(void)
{
	expect("data: hello\n\n", "message||hello\n");
	expect("data:hello\n\n", "message||hello\n");
	/* Only one space is skipped. */
	expect("data:  two\n\n", "message|| two\n");
	expect("data: a\ndata: b\n\n", "message||a\nb\n");
	expect("event: endpoint\ndata: /messages?s=1\n\n",
	    "endpoint||/messages?s=1\n");
	/* The type lasts one event; the id lasts until changed. */
	expect("event: x\nid: 7\ndata: 1\n\ndata: 2\n\n",
	    "x|7|1\nmessage|7|2\n");
	expect("id: 7\ndata: 1\n\nid\ndata: 2\n\n", "message|7|1\nmessage||2\n");
	/* Comments, unknown fields, a field without a colon. */
	expect(": keep-alive\n\ndata: x\n\n", "message||x\n");
	expect("foo: bar\ndata: x\nbogus\n\n", "message||x\n");
	expect("data\n\n", "message||\n");
	/* An event with no data is not dispatched; "data:" is data. */
	expect("event: x\n\ndata: y\n\n", "message||y\n");
	expect("id: 1\ndata:\n\n", "message|1|\n");
	expect("id: 1\n\n", "");
	/* No blank line yet: nothing. */
	expect("data: unfinished\n", "");
	/* Field names are case-sensitive. */
	expect("Data: x\ndata: y\n\n", "message||y\n");
}

static void
test_sse_line_ends(void)
{
	expect("data: a\r\n\r\ndata: b\r\rdata: c\n\n",
	    "message||a\nmessage||b\nmessage||c\n");
	expect("data: a\r\ndata: b\r\n\r\n", "message||a\nb\n");
	/* A CR alone, then an LF: two line ends, so a blank line. */
	expect("data: a\r\r\n", "message||a\n");
	/* A leading BOM is skipped, only at the start. */
	expect("\xef\xbb\xbf" "data: a\n\n", "message||a\n");
	expect("\xef\xbb" "data: a\n\n", "");
	expect("data: \xef\xbb\xbf" "a\n\n", "message||\xef\xbb\xbf" "a\n");
}

static void
test_sse_nul_in_id(void)
{
	static const char	 in[] = "id: 5\ndata: a\n\nid: 6\0x\ndata: b\n\n";
	char			*got;

	got = events(in, sizeof(in) - 1, 0, 1024, NULL, NULL);
	T_ASSERT(got != NULL && strcmp(got, "message|5|a\nmessage|5|b\n") == 0);
	free(got);
}

static void
test_sse_retry(void)
{
	long	 retry;
	char	*got;

	got = events("retry: 3000\n", 12, 0, 64, &retry, NULL);
	T_ASSERT(got != NULL && retry == 3000);
	free(got);
	got = events("retry: 3000\nretry: 12x\nretry:\n", 31, 0, 64, &retry,
	    NULL);
	T_ASSERT(got != NULL && retry == 3000);
	free(got);
	got = events("retry: 99999999999999999999\n", 28, 0, 64, &retry, NULL);
	T_ASSERT(got != NULL && retry == -1);
	free(got);
}

static void
test_sse_bounds(void)
{
	char		 big[4096];
	const char	*error;
	char		*got;
	size_t		 n;

	/* Data of exactly max bytes passes; one more is an error. */
	memcpy(big, "data: ", 6);
	memset(big + 6, 'x', 100);
	memcpy(big + 106, "\n\n", 2);
	got = events(big, 108, 0, 100, NULL, &error);
	T_ASSERT(got != NULL && strlen(got) == strlen("message||") + 101);
	free(got);
	got = events(big, 108, 7, 99, NULL, &error);
	T_ASSERT(got == NULL && error != NULL &&
	    strstr(error, "too long") != NULL);
	/* Counting the LFs that join lines. */
	got = events("data: 12345\ndata: 1234\n\n", 24, 0, 10, NULL, &error);
	T_ASSERT(got != NULL);
	free(got);
	got = events("data: 12345\ndata: 12345\n\n", 26, 0, 10, NULL, &error);
	T_ASSERT(got == NULL);
	/* Empty data lines cannot grow it past max either. */
	for (n = 0; n < 40; n += 5)
		memcpy(big + n, "data\n", 5);
	got = events(big, 40, 3, 4, NULL, &error);
	T_ASSERT(got == NULL);
	/* A type and an id past their bounds. */
	memcpy(big, "event: ", 7);
	memset(big + 7, 'e', SSE_TYPE_MAX + 1);
	got = events(big, 7 + SSE_TYPE_MAX + 1, 0, 64, NULL, &error);
	T_ASSERT(got == NULL && strstr(error, "type") != NULL);
	memcpy(big, "id: ", 4);
	memset(big + 4, 'i', SSE_ID_MAX + 1);
	got = events(big, 4 + SSE_ID_MAX + 1, 5, 64, NULL, &error);
	T_ASSERT(got == NULL && strstr(error, "id") != NULL);
	/* A long comment or unknown field costs nothing and is fine. */
	big[0] = ':';
	memset(big + 1, 'c', sizeof(big) - 1);
	got = events(big, sizeof(big), 0, 8, NULL, &error);
	T_ASSERT(got != NULL && got[0] == '\0');
	free(got);
	memset(big, 'f', sizeof(big));
	big[2000] = ':';
	got = events(big, sizeof(big), 100, 8, NULL, &error);
	T_ASSERT(got != NULL && got[0] == '\0');
	free(got);
}

static void
test_sse_stop(void)
{
	struct sse	 sse;
	struct seen	 sn;
	static const char in[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";

	memset(&sn, 0, sizeof(sn));
	buf_init(&sn.out, 0);
	sn.stop_after = 2;
	sse_init(&sse, 64);
	T_ASSERT(sse_feed(&sse, in, sizeof(in) - 1, seen_cb, &sn) == -1);
	T_ASSERT(sn.n == 2 && sse.error != NULL && sse.error[0] == '\0');
	sse_free(&sse);
	buf_free(&sn.out);
}

/* A large event frees its buffer once dispatched; the next is fine. */
static void
test_sse_reuse(void)
{
	struct sse	 sse;
	struct seen	 sn;
	static char	 big[200000];

	memset(&sn, 0, sizeof(sn));
	buf_init(&sn.out, 0);
	sse_init(&sse, sizeof(big));
	memcpy(big, "data: ", 6);
	memset(big + 6, 'y', sizeof(big) - 8);
	memcpy(big + sizeof(big) - 2, "\n\n", 2);
	T_ASSERT(sse_feed(&sse, big, sizeof(big), seen_cb, &sn) == 0);
	T_ASSERT(sn.n == 1 && sse.data.cap == 0);
	T_ASSERT(sse_feed(&sse, "data: z\n\n", 9, seen_cb, &sn) == 0);
	T_ASSERT(sn.n == 2 && sse.data.cap > 0 && sse.data.cap <= 65536);
	sse_free(&sse);
	buf_free(&sn.out);
}

int
main(void)
{
	t_suite = "sse";
	T_RUN(test_sse_fields);
	T_RUN(test_sse_line_ends);
	T_RUN(test_sse_nul_in_id);
	T_RUN(test_sse_retry);
	T_RUN(test_sse_bounds);
	T_RUN(test_sse_stop);
	T_RUN(test_sse_reuse);
	return (t_done());
}
