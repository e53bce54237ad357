/*
 * Unit tests of common/headertpl.c: each rule of a header template
 * (the name a token and not the gateway's, the value's characters, the
 * placeholders and their spaces, an unclosed "{{") and of its rendering
 * (one value per trait, no line break or control character from what a
 * placeholder stands for, the length bound, out unchanged on error).
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "headertpl.h"
#include "unit.h"

/* The traits of the test's user. */
static const char	*team[] = { "blue" };
static const char	*groups[] = { "a", "b" };
static const char	*evil[] = { "x\r\nX-Injected: 1" };
static const char	*lf[] = { "x\ny" };
static const char	*ctl[] = { "x\x01y" };
static const char	*tab[] = { "x\ty" };
static const char	*utf8[] = { "\xc3\xa9quipe" };
static const char	*badutf8[] = { "\xc3" };
static const char	*c1[] = { "x\xc2\x85y" };
static const char	*empty[] = { "" };

static size_t
trait_cb(void *arg, const char *name, const char **value)
{
	static const struct {
		const char	*name;
		const char	**v;
		size_t		 n;
	} t[] = {
		{ "team", team, 1 }, { "groups", groups, 2 },
		{ "evil", evil, 1 }, { "lf", lf, 1 }, { "ctl", ctl, 1 },
		{ "tab", tab, 1 }, { "utf8", utf8, 1 },
		{ "badutf8", badutf8, 1 }, { "c1", c1, 1 },
		{ "empty", empty, 1 },
	};
	size_t	 i;

	(void)arg;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(t[i].name, name) == 0) {
			*value = t[i].v[0];
			return (t[i].n);
		}
	}
	return (0);
}

static struct header_vars	 vars = {
	"alice", "eyJ.payload.sig", "0123abcd", trait_cb, NULL
};
static char	 err[512];

static int
check(const char *tpl)
{
	char	 name[HEADER_NAME_MAX + 1];

	err[0] = '\0';
	return (header_check(tpl, name, sizeof(name), err, sizeof(err)));
}

/* Rendered, or NULL with err set; the buffer's text. */
static struct buf	 out;

static const char *
render(const char *tpl)
{
	buf_free(&out);
	buf_init(&out, 0);
	buf_add(&out, "", 0);
	err[0] = '\0';
	if (header_render(tpl, &vars, &out, err, sizeof(err)) == -1)
		return (NULL);
	return (out.data);
}

#define T_OK(tpl, want) do {						\
	const char	*got_;						\
									\
	T_ASSERTF(check(tpl) == 0, "'%s' refused: %s", (tpl), err);	\
	got_ = render(tpl);						\
	T_ASSERTF(got_ != NULL && strcmp(got_, (want)) == 0,		\
	    "'%s' rendered '%s', want '%s' (%s)", (tpl),		\
	    got_ ? got_ : "(null)", (want), err);			\
} while (0)

#define T_REFUSED(tpl, phrase) do {					\
	T_ASSERTF(check(tpl) == -1, "'%s' accepted", (tpl));		\
	T_ASSERTF(strstr(err, (phrase)) != NULL, "'%s': '%s', want "	\
	    "'%s'", (tpl), err, (phrase));				\
	T_ASSERTF(render(tpl) == NULL, "'%s' rendered", (tpl));	\
	T_ASSERTF(out.len == 0, "'%s': %zu bytes left", (tpl), out.len);\
} while (0)

/* Valid, but its rendering for the test's user fails. */
#define T_RENDER_FAILS(tpl, phrase) do {				\
	T_ASSERTF(check(tpl) == 0, "'%s' refused: %s", (tpl), err);	\
	T_ASSERTF(render(tpl) == NULL, "'%s' rendered '%s'", (tpl),	\
	    out.data);							\
	T_ASSERTF(strstr(err, (phrase)) != NULL, "'%s': '%s', want "	\
	    "'%s'", (tpl), err, (phrase));				\
	T_ASSERTF(out.len == 0, "'%s': %zu bytes left", (tpl), out.len);\
} while (0)

static void
test_good(void)
{
	char	 name[HEADER_NAME_MAX + 1];

	T_OK("Authorization: Bearer {{internal.jwt}}",
	    "Authorization: Bearer eyJ.payload.sig");
	T_OK("X-Mcpgate-User: {{internal.user}}", "X-Mcpgate-User: alice");
	T_OK("X-Session: {{internal.session}}", "X-Session: 0123abcd");
	T_OK("X-Team: {{external.team}}", "X-Team: blue");
	/* Spaces inside the braces, as Teleport takes them. */
	T_OK("X-Team: {{ external.team }}", "X-Team: blue");
	T_OK("X-Team: {{   internal.user}}", "X-Team: alice");
	/* Several, and literal text around them; white space trimmed. */
	T_OK("X-Both:   {{internal.user}}/{{external.team}}-x \t",
	    "X-Both: alice/blue-x");
	T_OK("X-Api-Key: s3cret", "X-Api-Key: s3cret");
	/* Every tchar in a name. */
	T_OK("!#$%&'*+-.^_`|~09azAZ: v", "!#$%&'*+-.^_`|~09azAZ: v");
	/* Braces that are not a placeholder's. */
	T_OK("X-J: {\"a\": 1} }} {", "X-J: {\"a\": 1} }} {");
	/* A tab and UTF-8 in a value, literal or the user's. */
	T_OK("X-T: a\tb \xc3\xa9", "X-T: a\tb \xc3\xa9");
	T_OK("X-T: {{external.tab}}", "X-T: x\ty");
	T_OK("X-T: {{external.utf8}}", "X-T: \xc3\xa9quipe");
	/* Authorization is the template's to set, not the client's. */
	T_ASSERT(header_check("authorization: x", name, sizeof(name), NULL,
	    0) == 0 && strcmp(name, "authorization") == 0);
	/* header_render appends. */
	buf_free(&out);
	buf_init(&out, 0);
	buf_puts(&out, "A: b\r\n");
	T_ASSERT(header_render("X-U: {{internal.user}}", &vars, &out, err,
	    sizeof(err)) == 0);
	T_ASSERT(strcmp(out.data, "A: b\r\nX-U: alice") == 0);
}

static void
test_names(void)
{
	static const char *const reserved[] = {
		"Host", "content-length", "CONTENT-TYPE", "Accept",
		"Accept-Encoding", "Transfer-Encoding", "Connection",
		"Keep-Alive", "TE", "Trailer", "Upgrade", "Expect",
		"Proxy-Authorization", "proxy-anything", "Mcp-Session-Id",
		"mcp-protocol-version", "Last-Event-ID",
	};
	char	 tpl[256];
	size_t	 i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		snprintf(tpl, sizeof(tpl), "%s: x", reserved[i]);
		T_REFUSED(tpl, "one the gateway sets itself");
		T_ASSERT(header_name_reserved(reserved[i]));
	}
	T_ASSERT(!header_name_reserved("Proxy"));
	T_ASSERT(!header_name_reserved("Hosts"));
	T_ASSERT(!header_name_reserved("X-Accept"));
	T_REFUSED("no colon", "has no ':'");
	T_REFUSED(": value", "has no name before ':'");
	T_REFUSED("X Y: v", "is not an HTTP token: a space");
	T_REFUSED("X-Y : v", "a space is not allowed");
	T_REFUSED("X\tY: v", "a tab is not allowed");
	T_REFUSED("X(Y): v", "'(' is not allowed");
	T_REFUSED("X/Y: v", "'/' is not allowed");
	T_REFUSED("X@Y: v", "'@'");
	T_REFUSED("X\"Y: v", "'\"'");
	T_REFUSED("\xc3\xa9: v", "byte 0xc3");
	T_REFUSED("X\x01: v", "holds control character 0x01, at byte 2");
	/* 128 bytes of name, then 129. */
	memset(tpl, 'n', 128);
	snprintf(tpl + 128, sizeof(tpl) - 128, ": v");
	T_ASSERTF(check(tpl) == 0, "%s", err);
	memset(tpl, 'n', 129);
	snprintf(tpl + 129, sizeof(tpl) - 129, ": v");
	T_REFUSED(tpl, "longer than 128 bytes");
}

/* A template of HEADER_TPL_MAX bytes, then one more. */
static void
test_template_bound(void)
{
	static char	 tpl[HEADER_TPL_MAX + 2];

	memcpy(tpl, "X: ", 3);
	memset(tpl + 3, 'v', HEADER_TPL_MAX - 3);
	tpl[HEADER_TPL_MAX] = '\0';
	T_ASSERTF(check(tpl) == 0, "%s", err);
	tpl[HEADER_TPL_MAX] = 'v';
	tpl[HEADER_TPL_MAX + 1] = '\0';
	T_REFUSED(tpl, "longer than 1024 bytes");
}

static void
test_values(void)
{
	T_REFUSED("X-A:", "has no value");
	T_REFUSED("X-A:  \t ", "has no value");
	T_REFUSED("X-A: a\rb", "control character 0x0d");
	T_REFUSED("X-A: a\nB: c", "control character 0x0a");
	T_REFUSED("X-A: a\x7f", "control character 0x7f");
	T_REFUSED("X-A: a\x1b[0m", "control character 0x1b");
	T_REFUSED("X-A: a\xc2\x85", "control character 0x85");
	T_REFUSED("X-A: a\xff", "a header template is not UTF-8");
	T_REFUSED("X-\xff: a", "a header template is not UTF-8");
	T_REFUSED("X-A: a\x01", "control character 0x01, at byte 7");
	T_REFUSED("X-A: a\xc3", "not UTF-8");
	T_REFUSED("X-A: \xed\xa0\x80", "not UTF-8");
}

static void
test_placeholders(void)
{
	T_REFUSED("X-A: {{internal.user", "that no '}}' closes");
	T_REFUSED("X-A: {{internal.user}", "that no '}}' closes");
	T_REFUSED("X-A: {{internal.user}} {{", "that no '}}' closes");
	T_REFUSED("X-A: {{internal.password}}",
	    "'{{internal.password}}' is not a placeholder");
	T_REFUSED("X-A: {{internal.mcp_tools}}", "is not a placeholder");
	T_REFUSED("X-A: {{external.}}", "is not a placeholder");
	T_REFUSED("X-A: {{external.Team}}", "is not a placeholder");
	T_REFUSED("X-A: {{external.a-b}}", "is not a placeholder");
	T_REFUSED("X-A: {{external.a.b}}", "is not a placeholder");
	T_REFUSED("X-A: {{external. team}}", "is not a placeholder");
	T_REFUSED("X-A: {{internal .user}}", "is not a placeholder");
	T_REFUSED("X-A: {{\tinternal.user}}", "is not a placeholder");
	T_REFUSED("X-A: {{}}", "'{{}}' is not a placeholder");
	T_REFUSED("X-A: {{ }}", "is not a placeholder");
	T_REFUSED("X-A: {{{internal.user}}}", "is not a placeholder");
	T_REFUSED("X-A: {{user}}", "write {{internal.user}}");
	/* A trait's name: 63 bytes, then 64. */
	T_ASSERTF(check("X-A: {{external.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaa}}") == 0, "%s", err);
	T_REFUSED("X-A: {{external.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa}}", "is not a placeholder");
}

static void
test_render_errors(void)
{
	struct header_vars	 saved = vars;

	T_RENDER_FAILS("X-G: {{external.groups}}",
	    "trait groups has 2 values; a header takes one");
	T_RENDER_FAILS("X-G: {{external.nothing}}",
	    "the user has no trait nothing");
	/* Header injection, through a trait or a user's name. */
	T_RENDER_FAILS("X-E: {{external.evil}}", "holds a line break");
	T_RENDER_FAILS("X-E: {{external.lf}}", "holds a line break");
	T_RENDER_FAILS("X-E: {{external.ctl}}", "control character 0x01");
	T_RENDER_FAILS("X-E: {{external.c1}}", "control character 0x85");
	T_RENDER_FAILS("X-E: {{external.badutf8}}", "is not UTF-8");
	/* Nothing to send is no header. */
	T_RENDER_FAILS("X-E: {{external.empty}}", "would be empty");
	T_OK("X-E: a{{external.empty}}", "X-E: a");
	vars.user = "bob\r\nX-Admin: yes";
	T_RENDER_FAILS("X-U: {{internal.user}}", "holds a line break");
	vars.jwt = NULL;
	T_RENDER_FAILS("X-J: {{internal.jwt}}", "{{internal.jwt}} has no "
	    "value");
	vars.trait = NULL;
	T_RENDER_FAILS("X-T: {{external.team}}", "no trait team");
	vars = saved;
	/* An error leaves what out held, and zeroes what it wrote. */
	buf_free(&out);
	buf_init(&out, 0);
	buf_puts(&out, "A: b");
	T_ASSERT(header_render("X: {{internal.jwt}} {{external.groups}}",
	    &vars, &out, err, sizeof(err)) == -1);
	T_ASSERT(out.len == 4 && strcmp(out.data, "A: b") == 0);
	T_ASSERT(memmem(out.data, out.cap, "eyJ", 3) == NULL);
	T_ASSERT(header_render("X: v", NULL, &out, err, sizeof(err)) == -1);
}

/* A rendered header is at most HEADER_LINE_MAX bytes. */
static void
test_render_bound(void)
{
	static char	 big[HEADER_LINE_MAX + 2];
	const char	*saved = vars.jwt;
	size_t		 room;

	/* "X: " and the token: exactly the bound, then one byte over. */
	room = HEADER_LINE_MAX - 3;
	memset(big, 'j', room);
	big[room] = '\0';
	vars.jwt = big;
	T_ASSERTF(render("X: {{internal.jwt}}") != NULL &&
	    out.len == HEADER_LINE_MAX, "%s", err);
	big[room] = 'j';
	big[room + 1] = '\0';
	T_ASSERT(render("X: {{internal.jwt}}") == NULL);
	T_ASSERTF(strstr(err, "longer than 16384 bytes") != NULL, "%s", err);
	T_ASSERT(out.len == 0);
	vars.jwt = saved;
}

int
main(void)
{
	t_suite = "headertpl";
	T_RUN(test_good);
	T_RUN(test_names);
	T_RUN(test_template_bound);
	T_RUN(test_values);
	T_RUN(test_placeholders);
	T_RUN(test_render_errors);
	T_RUN(test_render_bound);
	buf_free(&out);
	return (t_done());
}
