/*
 * The patterns of a role: "*" and shell globs, "^...$" an anchored POSIX
 * extended regular expression, "{{internal.NAME}}" a user's trait.  The
 * parser of roles checks them (pattern_ok) and mcpd compiles and matches
 * them (pattern_compile, pattern_match) with one regular expression
 * compiler, so that what passes the check compiles in mcpd.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pattern.h"
#include "resource.h"

/*
 * What a regular expression's repetitions cost to compile, roughly in NFA
 * states: glibc copies a sub-expression once per bound of a repetition,
 * so "(a{1000}){1000}" is a million of them.  The estimate walks the
 * expression: an atom costs 1, a group the sum of its contents, and a
 * bound {m}, {m,}, {m,n} or {,n} multiplies what it follows; *rep sums
 * what the bounds made, which is what grows.  It saturates above the
 * limit.
 */
#define REGEX_MAX_COST		1000

static uint64_t
regex_cost(const char **pp, int depth, uint64_t *rep)
{
	const char	*p = *pp;
	uint64_t	 total = 0, atom, m, n;
	char		*end;

	while (*p != '\0' && *p != ')') {
		if (*p == '|' || *p == '^' || *p == '$') {
			p++;
			continue;
		}
		atom = 1;
		if (*p == '(') {
			p++;
			if (depth > 32)
				return (*rep = REGEX_MAX_COST + 1);
			atom = regex_cost(&p, depth + 1, rep);
			if (*p == ')')
				p++;
		} else if (*p == '[') {
			/* A bracket expression: "[]a]" and "[^]a]" too. */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']')
				p++;
			if (*p == ']')
				p++;
		} else if (*p == '\\' && p[1] != '\0')
			p += 2;
		else
			p++;
		while (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
			if (*p != '{') {
				p++;
				continue;
			}
			m = strtoull(p + 1, &end, 10);
			n = m;
			if (*end == ',') {
				n = isdigit((unsigned char)end[1]) ?
				    strtoull(end + 1, &end, 10) : m;
				if (*end == ',' || n == 0)
					end++;
			}
			if (*end != '}')
				break;		/* not a bound: a literal { */
			p = end + 1;
			if (n < m)
				n = m;
			if (n > REGEX_MAX_COST)
				return (*rep = REGEX_MAX_COST + 1);
			atom *= n > 0 ? n : 1;
			if (n > 1)
				*rep += atom;
			if (atom > REGEX_MAX_COST || *rep > REGEX_MAX_COST)
				return (*rep = REGEX_MAX_COST + 1);
		}
		total += atom;
	}
	*pp = p;
	return (total);
}

/*
 * Compile a "^...$" pattern as mcpd matches it: anchored as a whole, so
 * that "^a|b$" is "a" or "b" and nothing longer.  What is between ^ and
 * $ must be a regular expression of its own, so that a ")|(" cannot
 * break out of the group.  The one compiler for the check here and for
 * mcpd, so that what passes one compiles in the other.  Returns 0, a
 * regcomp(3) error (re then holds nothing to free), or -1 with errno.
 */
int
pattern_regcomp(regex_t *re, const char *p)
{
	const char	*q;
	char		*s;
	uint64_t	 rep = 0;
	size_t		 n = strlen(p);
	int		 r;

	if (n < 2 || p[0] != '^' || p[n - 1] != '$') {
		errno = EINVAL;
		return (-1);
	}
	/*
	 * regcomp takes a ')' that closes no group as a literal, but once
	 * wrapped it would close ours, and what follows would repeat it.
	 */
	q = p;
	(void)regex_cost(&q, 0, &rep);
	if (*q != '\0')
		return (REG_EPAREN);
	if ((s = strndup(p + 1, n - 2)) == NULL)
		return (-1);
	r = regcomp(re, s, REG_EXTENDED | REG_NOSUB);
	free(s);
	if (r != 0)
		return (r);
	regfree(re);
	if (asprintf(&s, "^(%.*s)$", (int)(n - 2), p + 1) == -1)
		return (-1);
	r = regcomp(re, s, REG_EXTENDED | REG_NOSUB);
	free(s);
	return (r);
}

/*
 * A pattern in a role: "*" and shell globs, "^...$" an anchored POSIX
 * extended regular expression, or "{{internal.NAME}}" a user's trait.
 */
int
pattern_ok(const char *p, char *err, size_t errlen)
{
	regex_t		 re;
	char		 name[RES_NAMELEN], want[RES_NAMELEN + 16];
	const char	*q;
	uint64_t	 rep;
	size_t		 n = strlen(p);
	int		 r;

	if (n == 0 || n > RES_VALUELEN) {
		snprintf(err, errlen, "a pattern must be 1 to %d characters",
		    RES_VALUELEN);
		return (0);
	}
	if (strncmp(p, "{{", 2) == 0) {
		if (sscanf(p, "{{internal.%63[a-z0-9_]", name) == 1 &&
		    snprintf(want, sizeof(want), "{{internal.%s}}", name) > 0 &&
		    strcmp(p, want) == 0)
			return (1);
		if (sscanf(p, "{{ internal.%63[a-z0-9_]", name) == 1 &&
		    snprintf(want, sizeof(want), "{{ internal.%s }}",
		    name) > 0 && strcmp(p, want) == 0)
			return (1);
		snprintf(err, errlen, "'%s' is not a trait: write "
		    "{{internal.NAME}}, for example {{internal.mcp_tools}}", p);
		return (0);
	}
	if (p[0] == '^') {
		if (p[n - 1] != '$') {
			snprintf(err, errlen, "regular expression '%s' must "
			    "end "
			    "with $ (patterns are anchored)", p);
			return (0);
		}
		q = p;
		rep = 0;
		(void)regex_cost(&q, 0, &rep);
		if (*q != '\0') {
			snprintf(err, errlen, "regular expression '%s' has a "
			    "')' that closes no group", p);
			return (0);
		}
		if (rep > REGEX_MAX_COST) {
			snprintf(err, errlen, "regular expression '%s' repeats "
			    "too much: it would compile to more than %d "
			    "states", p, REGEX_MAX_COST);
			return (0);
		}
		if ((r = pattern_regcomp(&re, p)) != 0) {
			char	 why[128];

			if (r == -1)
				strlcpy(why, strerror(errno), sizeof(why));
			else
				regerror(r, &re, why, sizeof(why));
			snprintf(err, errlen, "regular expression '%s': %s", p,
			    why);
			return (0);
		}
		regfree(&re);
	}
	return (1);
}

/*
 * A pattern, as pattern_ok() checked it.  One that still does not
 * compile (out of memory) is marked broken: it then matches nothing in
 * an allow rule and everything in a deny rule.
 */
void
pattern_compile(struct pattern *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	p->text = text;
	if (strcmp(text, "*") == 0) {
		p->any = 1;
		return;
	}
	if (sscanf(text, "{{internal.%63[a-z0-9_]}}", p->trait) == 1 ||
	    sscanf(text, "{{ internal.%63[a-z0-9_] }}", p->trait) == 1)
		return;
	if (text[0] == '^') {
		if (pattern_regcomp(&p->re, text) != 0) {
			log_warnx("pattern '%s' does not compile: it fails "
			    "closed", text);
			p->broken = 1;
			return;
		}
		p->regex = 1;
	}
}

void
pattern_free(struct pattern *p)
{
	if (p->regex)
		regfree(&p->re);
	p->regex = 0;
}

/* A trait's value against s; broken says what a broken one means. */
static int
pattern_match_value(const char *pat, const char *s, int broken)
{
	struct pattern	 p;
	int		 m;

	pattern_compile(&p, pat);
	if (p.broken)
		m = broken;
	else if (p.any)
		m = 1;
	else if (p.regex)
		m = regexec(&p.re, s, 0, NULL, 0) == 0;
	else if (p.trait[0] != '\0')
		m = 0;		/* a trait's value is not a trait */
	else
		m = fnmatch(pat, s, 0) == 0;
	pattern_free(&p);
	return (m);
}

/*
 * Whether s matches p for user u; *via gets the pattern that matched (a
 * trait's value, when the pattern is a trait).  deny says which side p
 * is on, for a pattern that does not compile.
 */
int
pattern_match(const struct pattern *p, const struct user *u, const char *s,
    int deny, const char **via)
{
	size_t	 i, j;

	*via = p->text;
	if (p->broken)
		return (deny);
	if (p->any)
		return (1);
	if (p->regex)
		return (regexec(&p->re, s, 0, NULL, 0) == 0);
	if (p->trait[0] != '\0') {
		for (i = 0; u != NULL && i < u->ntraits; i++) {
			if (strcmp(u->traits[i].key, p->trait) != 0)
				continue;
			for (j = 0; j < u->traits[i].values.n; j++) {
				if (pattern_match_value(
				    u->traits[i].values.v[j], s, deny)) {
					*via = u->traits[i].values.v[j];
					return (1);
				}
			}
		}
		return (0);
	}
	return (fnmatch(p->text, s, 0) == 0);
}
