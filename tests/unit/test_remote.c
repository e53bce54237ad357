/*
 * Unit tests of mcpd/remote.c's reading of an SSE server's endpoint
 * event: the path it names, resolved against the stream's, of the same
 * origin only.
 */
#include <sys/types.h>

#include <string.h>

#include "../../mcpd/mcpd.h"
#include "unit.h"

static const struct {
	const char	*base;
	const char	*uri;
	const char	*want;		/* NULL: refused */
} cases[] = {
	{ "/sse", "/messages?sessionId=abc", "/messages?sessionId=abc" },
	{ "/rel/sse", "msg?s=1", "/rel/msg?s=1" },
	{ "/rel/sse", "?s=1", "/rel/sse?s=1" },
	{ "/rel/sse?x=1", "?s=1", "/rel/sse?s=1" },
	{ "/rel/sse?x=/y", "msg", "/rel/msg" },
	{ "/a/b/sse", "c/d", "/a/b/c/d" },
	{ "/sse", "/m?next=/../x", "/m?next=/../x" },	/* a query */
	/* another origin, or what could become one */
	{ "/sse", "http://127.0.0.2:1/x", NULL },
	{ "/sse", "https://example.org/x", NULL },
	{ "/sse", "//example.org/x", NULL },
	{ "/sse", "mailto:x", NULL },
	{ "/sse", "javascript:x", NULL },
	/* dot segments, fragments, bytes that are not visible ASCII */
	{ "/rel/sse", "../x", NULL },
	{ "/rel/sse", "./x", NULL },
	{ "/rel/sse", "x/..", NULL },
	{ "/rel/sse", "x/.", NULL },
	{ "/sse", "/a/../b", NULL },
	{ "/sse", "/a#frag", NULL },
	{ "/sse", "/a b", NULL },
	{ "/sse", "/a\tb", NULL },
	{ "/sse", "/caf\xc3\xa9", NULL },
	{ "/sse", "", NULL },
};

static void
test_endpoints(void)
{
	char	 out[1024];
	size_t	 i;
	int	 r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'Z', sizeof(out));
		r = remote_endpoint_path(cases[i].base, cases[i].uri,
		    strlen(cases[i].uri), out, sizeof(out));
		if (cases[i].want == NULL) {
			T_ASSERTF(r == -1, "%s against %s: taken as %s",
			    cases[i].uri, cases[i].base, out);
			continue;
		}
		T_ASSERTF(r == 0 && strcmp(out, cases[i].want) == 0,
		    "%s against %s: %d %s, want %s", cases[i].uri,
		    cases[i].base, r, r == 0 ? out : "", cases[i].want);
	}
}

static void
test_bounds(void)
{
	char	 uri[2048], out[1024], small[8];

	/* An endpoint that does not fit is refused, never cut. */
	memset(uri, 'a', sizeof(uri));
	uri[0] = '/';
	T_ASSERT(remote_endpoint_path("/sse", uri, 1024, out,
	    sizeof(out)) == -1);
	T_ASSERT(remote_endpoint_path("/sse", uri, 1023, out,
	    sizeof(out)) == 0 && strlen(out) == 1023);
	uri[1] = '?';
	T_ASSERT(remote_endpoint_path("/sse", uri + 1, 1020, out,
	    sizeof(out)) == -1);		/* "/sse" + it is too long */
	T_ASSERT(remote_endpoint_path("/sse", "/abcdefgh", 9, small,
	    sizeof(small)) == -1);
	/* The length given, not a NUL, ends the endpoint. */
	T_ASSERT(remote_endpoint_path("/sse", "/ok\0/../x", 9, out,
	    sizeof(out)) == -1);
	T_ASSERT(remote_endpoint_path("/sse", "/ok#", 3, out,
	    sizeof(out)) == 0 && strcmp(out, "/ok") == 0);
}

int
main(void)
{
	t_suite = "remote";
	T_RUN(test_endpoints);
	T_RUN(test_bounds);
	return (t_done());
}
