/*
 * Server-sent events (text/event-stream, the WHATWG HTML standard's
 * "event stream interpretation"), read incrementally from the chunks
 * that an HTTP body arrives in: what a Streamable HTTP or SSE MCP server
 * sends.  Memory is bounded: the data of one event at most max bytes,
 * an event type and an id a few hundred; nothing else is kept, however
 * long a comment or an unknown field's line.
 */
#ifndef MCPGATE_SSE_H
#define MCPGATE_SSE_H

#include <stddef.h>

#include "buf.h"

#define SSE_FIELD_MAX	8	/* longest field name that means something */
#define SSE_TYPE_MAX	64	/* an event type */
#define SSE_ID_MAX	1024	/* an event id */
#define SSE_RETRY_MAX	86400000L	/* a retry, in milliseconds */

struct sse_event {
	const char	*type;		/* "message" unless the event named one */
	const char	*data;		/* NUL-terminated; may hold NULs */
	size_t		 len;
	const char	*id;		/* the last event id; "" when none */
};

/* Called for each event; -1 stops sse_feed, which returns -1 too. */
typedef int	(*sse_cb)(const struct sse_event *, void *);

enum sse_field {
	SSE_F_NAME,			/* reading a field's name */
	SSE_F_SPACE,			/* after its colon: one space skipped */
	SSE_F_DATA,
	SSE_F_EVENT,
	SSE_F_ID,
	SSE_F_RETRY,
	SSE_F_SKIP			/* a comment or an unknown field */
};

struct sse {
	struct buf	 data;		/* this event's data, LF-joined */
	size_t		 max;
	enum sse_field	 state;
	enum sse_field	 field;		/* after SSE_F_SPACE */
	char		 name[SSE_FIELD_MAX + 1];
	size_t		 namelen;
	char		 type[SSE_TYPE_MAX + 1];
	size_t		 typelen;
	char		 id[SSE_ID_MAX + 1];	/* being read */
	size_t		 idlen;
	int		 idnul;		/* it held a NUL: ignored */
	char		 idbuf[SSE_ID_MAX + 1];	/* the last one read */
	char		 lastid[SSE_ID_MAX + 1];	/* at the last event */
	long		 retry;		/* -1 until the server sets one */
	long		 retrynew;
	int		 retrybad;
	int		 cr;		/* the last byte was a CR */
	int		 bom;		/* bytes of a leading BOM seen; -1 past */
	const char	*error;		/* why sse_feed returned -1 */
};

void	 sse_init(struct sse *, size_t);
int	 sse_feed(struct sse *, const void *, size_t, sse_cb, void *);
void	 sse_free(struct sse *);

#endif
