/*
 * Server-sent events, read as the WHATWG HTML standard's "event stream
 * interpretation" says: lines end with CRLF, LF or CR (a CRLF may be cut
 * between two chunks); a leading BOM is skipped; a line starting with a
 * colon is a comment; "field: value" with one optional space after the
 * colon; data lines join with LF; a blank line dispatches the event when
 * it has data; the id persists from event to event and one holding a NUL
 * is ignored; retry is digits only.  Unknown fields are ignored.  What
 * the standard leaves unbounded is bounded here, and going past a bound
 * is an error, not a cut: an event's data (max), its type and its id.
 */
#include <sys/types.h>

#include <string.h>

#include "sse.h"

#define SSE_KEEP	65536	/* a data buffer larger is freed after use */

static const unsigned char sse_bom[] = { 0xef, 0xbb, 0xbf };

void
sse_init(struct sse *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->data, max + 1);	/* and the LF that ends the last line */
	s->max = max;
	s->state = SSE_F_NAME;
	s->retry = -1;
}

void
sse_free(struct sse *s)
{
	buf_free(&s->data);
	buf_init(&s->data, s->max + 1);
}

static enum sse_field
sse_field(const struct sse *s)
{
	if (s->namelen > SSE_FIELD_MAX)
		return (SSE_F_SKIP);
	if (strcmp(s->name, "data") == 0)
		return (SSE_F_DATA);
	if (strcmp(s->name, "event") == 0)
		return (SSE_F_EVENT);
	if (strcmp(s->name, "id") == 0)
		return (SSE_F_ID);
	if (strcmp(s->name, "retry") == 0)
		return (SSE_F_RETRY);
	return (SSE_F_SKIP);
}

/* A field's value begins: reset what it will be read into. */
static void
sse_begin(struct sse *s, enum sse_field f)
{
	s->state = f;
	switch (f) {
	case SSE_F_EVENT:
		s->typelen = 0;
		break;
	case SSE_F_ID:
		s->idlen = 0;
		s->idnul = 0;
		break;
	case SSE_F_RETRY:
		s->retrynew = 0;
		s->retrybad = 1;	/* until a digit comes */
		break;
	default:
		break;
	}
}

/* Bytes of a value, none of them CR or LF. */
static int
sse_value(struct sse *s, const unsigned char *p, size_t n)
{
	size_t	 i;

	switch (s->state) {
	case SSE_F_DATA:
		if (s->data.len + n > s->max) {
			s->error = "an event's data is too long";
			return (-1);
		}
		if (buf_add(&s->data, p, n) == -1) {
			s->error = "out of memory";
			return (-1);
		}
		return (0);
	case SSE_F_EVENT:
		if (n > SSE_TYPE_MAX - s->typelen) {
			s->error = "an event type is too long";
			return (-1);
		}
		memcpy(s->type + s->typelen, p, n);
		s->typelen += n;
		return (0);
	case SSE_F_ID:
		if (n > SSE_ID_MAX - s->idlen) {
			s->error = "an event id is too long";
			return (-1);
		}
		if (memchr(p, '\0', n) != NULL)
			s->idnul = 1;
		memcpy(s->id + s->idlen, p, n);
		s->idlen += n;
		return (0);
	case SSE_F_RETRY:
		for (i = 0; i < n; i++) {
			if (p[i] < '0' || p[i] > '9' ||
			    s->retrynew > SSE_RETRY_MAX) {
				s->retrybad = 2;	/* never a value now */
				return (0);
			}
			s->retrynew = s->retrynew * 10 + (p[i] - '0');
			if (s->retrybad == 1)
				s->retrybad = 0;
		}
		return (0);
	default:
		return (0);
	}
}

/* A blank line: the event, when it has data. */
static int
sse_dispatch(struct sse *s, sse_cb cb, void *arg)
{
	struct sse_event	 ev;
	int			 r;

	memcpy(s->lastid, s->idbuf, sizeof(s->lastid));
	if (s->data.len == 0) {
		s->type[0] = '\0';
		return (0);
	}
	s->data.data[--s->data.len] = '\0';	/* the last line's LF */
	ev.type = s->type[0] != '\0' ? s->type : "message";
	ev.data = s->data.data;
	ev.len = s->data.len;
	ev.id = s->lastid;
	r = cb(&ev, arg);
	s->type[0] = '\0';
	if (s->data.cap > SSE_KEEP)
		sse_free(s);
	else {
		s->data.len = 0;
		s->data.data[0] = '\0';
	}
	if (r == -1 && s->error == NULL)
		s->error = "";
	return (r == -1 ? -1 : 0);
}

/* The end of a line. */
static int
sse_eol(struct sse *s, sse_cb cb, void *arg)
{
	enum sse_field	 f = s->state;

	if (f == SSE_F_NAME) {
		if (s->namelen == 0)
			return (sse_dispatch(s, cb, arg));
		sse_begin(s, sse_field(s));	/* a field with no value */
		f = s->state;
	} else if (f == SSE_F_SPACE) {
		sse_begin(s, s->field);
		f = s->state;
	}
	s->state = SSE_F_NAME;
	s->namelen = 0;
	switch (f) {
	case SSE_F_DATA:
		if (s->data.len + 1 > s->max + 1) {
			s->error = "an event's data is too long";
			return (-1);
		}
		if (buf_add(&s->data, "\n", 1) == -1) {
			s->error = "out of memory";
			return (-1);
		}
		break;
	case SSE_F_EVENT:
		s->type[s->typelen] = '\0';
		break;
	case SSE_F_ID:
		if (!s->idnul) {
			memcpy(s->idbuf, s->id, s->idlen);
			s->idbuf[s->idlen] = '\0';
		}
		break;
	case SSE_F_RETRY:
		if (s->retrybad == 0 && s->retrynew <= SSE_RETRY_MAX)
			s->retry = s->retrynew;
		break;
	default:
		break;
	}
	return (0);
}

/*
 * Read a chunk of the stream, calling cb for each event it completes.
 * Returns -1 with s->error set when the stream breaks a bound ("" when
 * cb returned -1); the stream cannot go on after that.
 */
int
sse_feed(struct sse *s, const void *buf, size_t len, sse_cb cb, void *arg)
{
	const unsigned char	*p = buf, *q;
	size_t			 i = 0, n;
	int			 skipped;

	s->error = NULL;
	while (i < len) {
		if (s->bom >= 0) {
			if (p[i] == sse_bom[s->bom]) {
				i++;
				if (++s->bom == (int)sizeof(sse_bom))
					s->bom = -1;
				continue;
			}
			/* Not a BOM after all: what was taken for one is text. */
			skipped = s->bom;
			s->bom = -1;
			if (skipped > 0 &&
			    sse_feed(s, sse_bom, (size_t)skipped, cb, arg) == -1)
				return (-1);
		}
		if (s->cr) {
			s->cr = 0;
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		if (p[i] == '\r' || p[i] == '\n') {
			s->cr = p[i] == '\r';
			i++;
			if (sse_eol(s, cb, arg) == -1)
				return (-1);
			continue;
		}
		switch (s->state) {
		case SSE_F_NAME:
			if (p[i] == ':') {
				if (s->namelen == 0)
					sse_begin(s, SSE_F_SKIP);  /* comment */
				else {
					s->field = sse_field(s);
					s->state = SSE_F_SPACE;
				}
			} else if (s->namelen < SSE_FIELD_MAX) {
				s->name[s->namelen++] = (char)p[i];
				s->name[s->namelen] = '\0';
			} else
				s->namelen = SSE_FIELD_MAX + 1;	/* unknown */
			i++;
			continue;
		case SSE_F_SPACE:
			sse_begin(s, s->field);
			if (p[i] == ' ') {
				i++;
				continue;
			}
			break;
		default:
			break;
		}
		/* A value: up to the end of its line or of the chunk. */
		n = len - i;
		for (q = p + i; q < p + len; q++)
			if (*q == '\r' || *q == '\n') {
				n = (size_t)(q - (p + i));
				break;
			}
		if (sse_value(s, p + i, n) == -1)
			return (-1);
		i += n;
	}
	return (0);
}
