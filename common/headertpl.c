/*
 * Header templates: what an administrator writes in rewrite.headers of
 * an HTTP app, and what the gateway sends to its server for a session.
 * A template is "Name: value"; the name an HTTP token (RFC 9110, 5.6.2)
 * that is not one of the headers the gateway sets itself, the value
 * visible ASCII, spaces, tabs and UTF-8 with placeholders in "{{ }}".
 *
 * One walker serves header_check() (the parser of the configuration and
 * of kind: app resources) and header_render() (the parent, at session
 * start), so that what the check accepts renders the same way.  What a
 * placeholder stands for comes from the user: a value holding a line
 * break would write a header of its own (header injection) and is
 * refused, as is a control character, and a trait without exactly one
 * value, rather than sending a header empty or cut.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "headertpl.h"
#include "resource.h"
#include "utf8.h"

/* The headers the gateway writes for MCP and HTTP: never a template's. */
static const char *const header_reserved_names[] = {
	"Host", "Content-Length", "Content-Type", "Accept", "Accept-Encoding",
	"Transfer-Encoding", "Connection", "Keep-Alive", "TE", "Trailer",
	"Upgrade", "Expect", "Mcp-Session-Id", "MCP-Protocol-Version",
	"Last-Event-ID", NULL
};

_Static_assert(HEADER_TPL_MAX == APP_HEADER_MAX,
    "a template's bound is the configuration's");

#define HEADER_PLACEHOLDERS	"{{internal.user}}, {{internal.jwt}}, " \
				"{{internal.session}} or {{external.TRAIT}}"

enum header_var {
	HV_USER,
	HV_JWT,
	HV_SESSION,
	HV_TRAIT,
};

static int
header_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Say why in err, when there is one; -1. */
static int
header_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* Whether name (case aside) is a header the gateway sets itself. */
int
header_name_reserved(const char *name)
{
	size_t	 i;

	if (strncasecmp(name, "Proxy-", 6) == 0)
		return (1);
	for (i = 0; header_reserved_names[i] != NULL; i++)
		if (strcasecmp(name, header_reserved_names[i]) == 0)
			return (1);
	return (0);
}

/* RFC 9110 tchar. */
static int
header_tchar(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL));
}

/*
 * The first control character of s (C0 but the tab, DEL, C1 as UTF-8),
 * its code in *cp, or -1 when there is none.  s is UTF-8.
 */
static ssize_t
header_control(const char *s, size_t len, unsigned int *cp)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < len; i++) {
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
			*cp = u[i];
			return ((ssize_t)i);
		}
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f) {
			*cp = u[i + 1];
			return ((ssize_t)i);
		}
	}
	return (-1);
}

/* A character of a name as a message shows it. */
static void
header_char_name(int c, char *buf, size_t len)
{
	if (c == ' ')
		strlcpy(buf, "a space", len);
	else if (c == '\t')
		strlcpy(buf, "a tab", len);
	else if (c < 0x21 || c > 0x7e)
		snprintf(buf, len, "byte 0x%02x", c & 0xff);
	else
		snprintf(buf, len, "'%c'", c);
}

/*
 * What "{{ p }}" stands for, len bytes between the braces, spaces
 * around it allowed; the trait's name in trait.  -1 when it is none of
 * the placeholders.
 */
static int
header_placeholder(const char *p, size_t len, char *trait, size_t traitlen)
{
	size_t	 n;

	while (len > 0 && p[0] == ' ') {
		p++;
		len--;
	}
	while (len > 0 && p[len - 1] == ' ')
		len--;
	if (len == 13 && strncmp(p, "internal.user", 13) == 0)
		return (HV_USER);
	if (len == 12 && strncmp(p, "internal.jwt", 12) == 0)
		return (HV_JWT);
	if (len == 16 && strncmp(p, "internal.session", 16) == 0)
		return (HV_SESSION);
	if (len <= 9 || strncmp(p, "external.", 9) != 0)
		return (-1);
	p += 9;
	len -= 9;
	/* A trait's name, as mcpgate-roles(5) has them. */
	for (n = 0; n < len; n++)
		if (!((p[n] >= 'a' && p[n] <= 'z') ||
		    (p[n] >= '0' && p[n] <= '9') || p[n] == '_'))
			return (-1);
	if (len >= RES_NAMELEN || len >= traitlen)
		return (-1);
	memcpy(trait, p, len);
	trait[len] = '\0';
	return (HV_TRAIT);
}

/*
 * What placeholder var of header name renders to for v, checked: one
 * value, without a control character.  NULL with the reason in err.
 */
static const char *
header_value(const struct header_vars *v, int var, const char *trait,
    const char *name, char *err, size_t errlen)
{
	const char	*val = NULL, *what;
	char		 ph[RES_NAMELEN + 16];
	unsigned int	 cp;
	size_t		 n;

	switch (var) {
	case HV_USER:
		val = v->user;
		what = "{{internal.user}}";
		break;
	case HV_JWT:
		val = v->jwt;
		what = "{{internal.jwt}}";
		break;
	case HV_SESSION:
		val = v->session;
		what = "{{internal.session}}";
		break;
	default:
		snprintf(ph, sizeof(ph), "{{external.%s}}", trait);
		what = ph;
		n = v->trait != NULL ? v->trait(v->arg, trait, &val) : 0;
		if (n == 0) {
			header_err(err, errlen, "header %s: the user has no "
			    "trait %s; a header takes one value", name, trait);
			return (NULL);
		}
		if (n > 1) {
			header_err(err, errlen, "header %s: trait %s has %zu "
			    "values; a header takes one", name, trait, n);
			return (NULL);
		}
		break;
	}
	if (val == NULL) {
		header_err(err, errlen, "header %s: %s has no value", name,
		    what);
		return (NULL);
	}
	n = strlen(val);
	if (!utf8_valid((const unsigned char *)val, n)) {
		header_err(err, errlen, "header %s: the value of %s is not "
		    "UTF-8", name, what);
		return (NULL);
	}
	if (header_control(val, n, &cp) != -1) {
		if (cp == '\r' || cp == '\n')
			header_err(err, errlen, "header %s: the value of %s "
			    "holds a line break, which would write a header of "
			    "its own: refused", name, what);
		else
			header_err(err, errlen, "header %s: the value of %s "
			    "holds control character 0x%02x: refused", name,
			    what, cp);
		return (NULL);
	}
	return (val);
}

/* Append len bytes of s to out, within HEADER_LINE_MAX from start. */
static int
header_put(struct buf *out, size_t start, const char *s, size_t len,
    const char *name, char *err, size_t errlen)
{
	if (out->len - start + len > HEADER_LINE_MAX)
		return (header_err(err, errlen, "header %s would be longer "
		    "than %d bytes", name, HEADER_LINE_MAX));
	if (buf_add(out, s, len) == -1)
		return (header_err(err, errlen, "header %s: out of memory",
		    name));
	return (0);
}

/*
 * Check template tpl and, with v, render it into out.  The header's name
 * goes to name, when given.
 */
static int
header_walk(const char *tpl, const struct header_vars *v, struct buf *out,
    char *name, size_t namelen, char *err, size_t errlen)
{
	const char	*colon, *p, *end, *close, *lit, *val;
	char		 hname[HEADER_NAME_MAX + 1], trait[RES_NAMELEN];
	char		 what[16];
	unsigned int	 cp;
	ssize_t		 at;
	size_t		 n, i, start, vstart;
	int		 var;

	/* Before any of it is quoted in a message. */
	n = strlen(tpl);
	if (n > HEADER_TPL_MAX)
		return (header_err(err, errlen, "a header template is longer "
		    "than %d bytes", HEADER_TPL_MAX));
	if (!utf8_valid((const unsigned char *)tpl, n))
		return (header_err(err, errlen, "a header template is not "
		    "UTF-8"));
	if ((at = header_control(tpl, n, &cp)) != -1)
		return (header_err(err, errlen, "a header template holds "
		    "control character 0x%02x, at byte %zd", cp, at + 1));
	if ((colon = strchr(tpl, ':')) == NULL)
		return (header_err(err, errlen, "header '%.64s' has no ':': "
		    "write it \"Name: value\"", tpl));
	n = (size_t)(colon - tpl);
	if (n == 0)
		return (header_err(err, errlen, "header '%.64s' has no name "
		    "before ':'", tpl));
	if (n > HEADER_NAME_MAX)
		return (header_err(err, errlen, "header '%.32s...' has a name "
		    "longer than %d bytes", tpl, HEADER_NAME_MAX));
	for (i = 0; i < n; i++) {
		if (header_tchar((unsigned char)tpl[i]))
			continue;
		header_char_name((unsigned char)tpl[i], what, sizeof(what));
		return (header_err(err, errlen, "header name '%.*s' is not "
		    "an HTTP token: %s is not allowed in it", (int)n, tpl,
		    what));
	}
	memcpy(hname, tpl, n);
	hname[n] = '\0';
	if (header_name_reserved(hname))
		return (header_err(err, errlen, "header %s is one the gateway "
		    "sets itself: a template may not set it", hname));
	if (name != NULL && strlcpy(name, hname, namelen) >= namelen)
		return (header_err(err, errlen, "header %s: its name is too "
		    "long", hname));

	/* The value, without the white space around it. */
	p = colon + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return (header_err(err, errlen, "header %s has no value",
		    hname));

	start = out != NULL ? out->len : 0;
	if (out != NULL && (header_put(out, start, hname, n, hname, err,
	    errlen) == -1 || header_put(out, start, ": ", 2, hname, err,
	    errlen) == -1))
		goto fail;
	vstart = out != NULL ? out->len : 0;
	while (p < end) {
		for (lit = p; p < end && !(p[0] == '{' && p + 1 < end &&
		    p[1] == '{'); p++)
			;
		if (out != NULL && p > lit && header_put(out, start, lit,
		    (size_t)(p - lit), hname, err, errlen) == -1)
			goto fail;
		if (p == end)
			break;
		close = memmem(p + 2, (size_t)(end - p - 2), "}}", 2);
		if (close == NULL) {
			header_err(err, errlen, "header %s: '%.32s' opens a "
			    "placeholder with '{{' that no '}}' closes", hname,
			    p);
			goto fail;
		}
		var = header_placeholder(p + 2, (size_t)(close - p - 2), trait,
		    sizeof(trait));
		if (var == -1) {
			n = (size_t)(close - p + 2);
			header_err(err, errlen, "header %s: '%.*s' is not a "
			    "placeholder (write " HEADER_PLACEHOLDERS ")",
			    hname, n > 80 ? 80 : (int)n, p);
			goto fail;
		}
		if (v != NULL) {
			if ((val = header_value(v, var, trait, hname, err,
			    errlen)) == NULL)
				goto fail;
			if (header_put(out, start, val, strlen(val), hname,
			    err, errlen) == -1)
				goto fail;
		}
		p = close + 2;
	}
	if (out != NULL && out->len == vstart) {
		header_err(err, errlen, "header %s would be empty", hname);
		goto fail;
	}
	return (0);

 fail:
	/* What was written may hold the token: it goes. */
	if (out != NULL && out->data != NULL && out->len > start) {
		explicit_bzero(out->data + start, out->len - start);
		out->len = start;
		out->data[start] = '\0';
	}
	return (-1);
}

/*
 * Whether tpl is a valid template; its header's name in name (namelen
 * bytes, HEADER_NAME_MAX + 1 is enough), why not in err.  name and err
 * may be NULL.
 */
int
header_check(const char *tpl, char *name, size_t namelen, char *err,
    size_t errlen)
{
	return (header_walk(tpl, NULL, NULL, name, namelen, err, errlen));
}

/*
 * Append tpl rendered for v to out: "Name: value", one line without its
 * end.  On error out is as it was (what was added is zeroed; a buf
 * that failed stays failed) and err says why.
 */
int
header_render(const char *tpl, const struct header_vars *v, struct buf *out,
    char *err, size_t errlen)
{
	if (v == NULL || out == NULL)
		return (header_err(err, errlen, "nothing to render"));
	return (header_walk(tpl, v, out, NULL, 0, err, errlen));
}
