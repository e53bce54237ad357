/*
 * Unit tests of mcpgated configure (privsep/configure.c) and the writer
 * of common/config.c under it: every key of the tables is in the output,
 * commented, with the value the parser reads back as the default; the
 * options come back as given, however their strings must be quoted; bad
 * options are refused with what is wrong.
 */
#include <sys/types.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "../../privsep/configure.h"
#include "../../privsep/privsep.h"
#include "unit.h"

#define NAME	"configured.conf"

/*
 * app_check() is in privsep/apps.c, with the parent's app table that
 * sends to the children: never called here.
 */
struct parent		*parent;

void
parent_send(enum proc_id id, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	(void)id; (void)type; (void)peerid; (void)fd; (void)data; (void)len;
	abort();
}

void
parent_sendv(enum proc_id id, uint32_t type, uint32_t peerid,
    const struct iovec *iov, int iovcnt)
{
	(void)id; (void)type; (void)peerid; (void)iov; (void)iovcnt;
	abort();
}

static char *
run_write(const struct configure_opts *o)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return (NULL);
	if (configure_write(fp, o) == -1) {
		fclose(fp);
		free(buf);
		return (NULL);
	}
	fclose(fp);
	return (buf);
}

static int
parse(const char *text, struct mcpgated_conf *c)
{
	struct conf_errors	 errs;
	int			 i;

	if (config_parse_buffer(NAME, text, strlen(text), c, &errs) == 0)
		return (0);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	return (-1);
}

/* The defaults, written and read back: the defaults, every byte. */
static void
test_defaults_round_trip(void)
{
	struct configure_opts	 o;
	struct mcpgated_conf	 c, def;
	char			*text;

	memset(&o, 0, sizeof(o));
	T_ASSERT((text = run_write(&o)) != NULL);
	T_ASSERTF(parse(text, &c) == 0, "the output does not parse");
	free(text);
	config_defaults(&def);
	strlcpy(def.path, NAME, sizeof(def.path));
	T_ASSERT(c.napps == 0 && c.apps == NULL);
	T_ASSERTF(memcmp(&c, &def, sizeof(c)) == 0,
	    "what was read back differs from config_defaults()");
}

struct seen {
	const char	*text;
	int		 missing;
	char		 what[256];
};

/* Each key under its section, a comment line right above it. */
static int
find_key(void *arg, const char *section, const char *key, const char *v)
{
	struct seen	*s = arg;
	char		 hdr[128], line[128];
	const char	*sec, *k, *end, *prev;

	(void)v;
	snprintf(hdr, sizeof(hdr), "\n%s:\n", section);
	snprintf(line, sizeof(line), "\n  %s:", key);
	if ((sec = strstr(s->text, hdr)) == NULL) {
		snprintf(s->what, sizeof(s->what), "no section %s", section);
		s->missing++;
		return (0);
	}
	sec += strlen(hdr) - 1;
	/* The section ends at the next line that does not start blank. */
	for (end = sec + 1; (end = strchr(end, '\n')) != NULL; end++)
		if (end[1] != ' ')
			break;
	if ((k = strstr(sec, line)) == NULL || (end != NULL && k > end)) {
		snprintf(s->what, sizeof(s->what), "no %s.%s", section, key);
		s->missing++;
		return (0);
	}
	for (prev = k - 1; prev > s->text && *prev != '\n'; prev--)
		;
	if (strncmp(prev, "\n  #", 4) != 0) {
		snprintf(s->what, sizeof(s->what), "%s.%s has no comment",
		    section, key);
		s->missing++;
	}
	return (0);
}

static void
test_every_key(void)
{
	struct configure_opts	 o;
	struct mcpgated_conf	 c;
	struct seen		 s;
	char			*text;

	memset(&o, 0, sizeof(o));
	T_ASSERT((text = run_write(&o)) != NULL);
	memset(&s, 0, sizeof(s));
	s.text = text;
	config_defaults(&c);
	T_ASSERT(config_foreach_key(&c, find_key, &s) == 0);
	free(text);
	T_ASSERTF(s.missing == 0, "%d keys: %s", s.missing, s.what);
}

/* Strings YAML would read as something else, and each comes back. */
static const char *const hard[] = {
	"plain", "-x", "a: b", "#c", "x #y", "true", "null", "~", "", "'",
	"\"q\"", "back\\slash", "tab\there", "[1]", "{a: 1}", "*ref", "&a",
	"!tag", "%dir", "@at", "`tick", "42", "0x1f", "y", "yes", "No",
	"caf\xc3\xa9", "trailing:", "|", ">", "?", ",", "nel\xc2\x85",
	"\xc2\x85", "c1\xc2\x80\xc2\x9f", "ls\xe2\x80\xa8ps\xe2\x80\xa9",
	"\xef\xbb\xbf",
	"\xef\xbf\xbe\xef\xbf\xbf", "\xe2\x82\xac", NULL
};

static void
test_options_round_trip(void)
{
	struct configure_opts	 o;
	struct configure_app	 apps[2];
	struct mcpgated_conf	 c;
	char			*text, err[256];
	size_t			 i, n;

	if (getpwnam("nobody") == NULL)
		T_SKIP("no user nobody");
	memset(&o, 0, sizeof(o));
	o.name = "gw-1.example";
	o.listen = "[::1]:3443";
	o.demo = 1;
	o.run_as = "nobody";
	T_ASSERT(configure_app_parse("one=/bin/sh  -c   true ", &apps[0], err,
	    sizeof(err)) == 0);
	T_ASSERT(apps[0].nargs == 2);
	T_ASSERT(strcmp(apps[0].args[1], "true") == 0);
	T_ASSERT(configure_app_parse("two=/bin/sh", &apps[1], err,
	    sizeof(err)) == 0);
	/* The hard strings as its args, set by hand: no spaces via --app. */
	for (n = 0; hard[n] != NULL; n++)
		;
	T_ASSERT((apps[1].args = calloc(n, sizeof(char *))) != NULL);
	for (i = 0; i < n; i++)
		T_ASSERT((apps[1].args[i] = strdup(hard[i])) != NULL);
	apps[1].nargs = n;
	o.apps = apps;
	o.napps = 2;
	T_ASSERTF(configure_check(&o, err, sizeof(err)) == 0, "%s", err);
	T_ASSERT((text = run_write(&o)) != NULL);
	T_ASSERTF(parse(text, &c) == 0, "the output does not parse");
	free(text);
	T_ASSERT(strcmp(c.name, "gw-1.example") == 0);
	T_ASSERT(c.nlisten == 1 && strcmp(c.listen[0].text, "[::1]:3443") == 0);
	T_ASSERT(c.mcp_demo_server == 1);
	T_ASSERT(c.napps == 2);
	T_ASSERT(strcmp(c.apps[0].name, "one") == 0);
	T_ASSERT(strcmp(c.apps[0].command, "/bin/sh") == 0);
	T_ASSERT(c.apps[0].args.n == 2);
	T_ASSERT(strcmp(c.apps[0].run_as, "nobody") == 0);
	T_ASSERT(c.apps[1].args.n == n);
	for (i = 0; i < n; i++)
		T_ASSERTF(strcmp(c.apps[1].args.v[i], hard[i]) == 0,
		    "arg %zu: '%s' came back as '%s'", i, hard[i],
		    c.apps[1].args.v[i]);
	config_free(&c);
	configure_app_free(&apps[0]);
	configure_app_free(&apps[1]);
}

/* config_yaml_scalar: plain only where YAML reads the text as itself. */
static void
test_yaml_scalar(void)
{
	char	*q;

	T_ASSERT((q = config_yaml_scalar("/var/lib/mcpgate")) != NULL);
	T_ASSERT(strcmp(q, "/var/lib/mcpgate") == 0);
	free(q);
	T_ASSERT((q = config_yaml_scalar("True")) != NULL);
	T_ASSERT(strcmp(q, "\"True\"") == 0);
	free(q);
	T_ASSERT((q = config_yaml_scalar("a\"b\\c\n")) != NULL);
	T_ASSERT(strcmp(q, "\"a\\\"b\\\\c\\x0a\"") == 0);
	free(q);
	T_ASSERT((q = config_yaml_scalar("/x\xc2\x85\xe2\x80\xa8\xc3\xa9")) !=
	    NULL);
	T_ASSERT(strcmp(q, "\"/x\\u0085\\u2028\xc3\xa9\"") == 0);
	free(q);
}

/* listen_addr with two addresses: a flow sequence that reads back. */
static int
listen_value(void *arg, const char *section, const char *key, const char *v)
{
	char	**out = arg;

	if (strcmp(section, "proxy_service") == 0 &&
	    strcmp(key, "listen_addr") == 0 && v != NULL)
		*out = strdup(v);
	return (0);
}

static void
test_listen_list(void)
{
	static const char	 text[] = "version: v1\nproxy_service:\n"
	    "  listen_addr: [127.0.0.1:3080, '[::1]:3443']\n";
	struct mcpgated_conf	 c, back;
	struct conf_errors	 errs;
	char			*v = NULL, *doc;

	T_ASSERT(config_parse_buffer("t", text, sizeof(text) - 1, &c,
	    &errs) == 0);
	T_ASSERT(c.nlisten == 2);
	T_ASSERT(config_foreach_key(&c, listen_value, &v) == 0);
	T_ASSERTF(v != NULL && strcmp(v, "[127.0.0.1:3080, \"[::1]:3443\"]")
	    == 0, "%s", v != NULL ? v : "(none)");
	T_ASSERT(asprintf(&doc, "version: v1\nproxy_service:\n"
	    "  listen_addr: %s\n", v) != -1);
	T_ASSERT(config_parse_buffer("t", doc, strlen(doc), &back,
	    &errs) == 0);
	T_ASSERT(back.nlisten == 2 &&
	    strcmp(back.listen[1].text, "[::1]:3443") == 0);
	config_free(&back);
	config_free(&c);
	free(doc);
	free(v);
}

static void
test_app_parse_errors(void)
{
	static const struct {
		const char	*spec;
		const char	*says;
	} bad[] = {
		{ "noequals", "must be NAME=COMMAND" },
		{ "x=node index.js", "must be an absolute path" },
		{ "x=", "must be an absolute path" },
		{ "x=   ", "must be an absolute path" },
		{ "X=/bin/sh", "lowercase" },
		{ "=/bin/sh", "lowercase" },
		{ "-x=/bin/sh", "lowercase" },
		{ "mcpgate-demo=/bin/sh", "lowercase" },
		{ "x=/bin/\xff", "not UTF-8" },
	};
	struct configure_app	 a;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_ASSERTF(configure_app_parse(bad[i].spec, &a, err,
		    sizeof(err)) == -1, "'%s' accepted", bad[i].spec);
		T_ASSERTF(strstr(err, bad[i].says) != NULL,
		    "'%s': '%s'", bad[i].spec, err);
		T_ASSERT(a.name == NULL && a.command == NULL);
	}
}

static void
test_check_errors(void)
{
	struct configure_opts	 o;
	struct configure_app	 apps[2];
	char			 err[512];

	if (getpwnam("nobody") == NULL)
		T_SKIP("no user nobody");
	T_ASSERT(configure_app_parse("a=/bin/sh", &apps[0], err,
	    sizeof(err)) == 0);
	T_ASSERT(configure_app_parse("a=/bin/true", &apps[1], err,
	    sizeof(err)) == 0);

	memset(&o, 0, sizeof(o));
	o.name = "bad name";
	T_ASSERT(configure_check(&o, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "--name") != NULL);
	memset(&o, 0, sizeof(o));
	o.listen = "localhost:3080";
	T_ASSERT(configure_check(&o, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "numeric host:port") != NULL);
	memset(&o, 0, sizeof(o));
	o.run_as = "nobody";
	T_ASSERT(configure_check(&o, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "give an --app") != NULL);
	o.run_as = NULL;
	o.apps = apps;
	o.napps = 1;
	T_ASSERT(configure_check(&o, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "needs --run-as") != NULL);
	o.run_as = "root";
	T_ASSERT(configure_check(&o, err, sizeof(err)) == -1);
	T_ASSERTF(strstr(err, "uid 0") != NULL, "%s", err);
	o.run_as = "no-such-user-here";
	T_ASSERT(configure_check(&o, err, sizeof(err)) == -1);
	T_ASSERTF(strstr(err, "does not exist") != NULL, "%s", err);
	o.run_as = "nobody";
	T_ASSERT(configure_check(&o, err, sizeof(err)) == 0);
	o.napps = 2;
	T_ASSERT(configure_check(&o, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "given twice") != NULL);
	o.napps = 1;
	free(apps[0].command);
	T_ASSERT((apps[0].command = strdup("/nonexistent/bin")) != NULL);
	T_ASSERT(configure_check(&o, err, sizeof(err)) == -1);
	T_ASSERTF(strstr(err, "No such file") != NULL, "%s", err);
	configure_app_free(&apps[0]);
	configure_app_free(&apps[1]);
}

int
main(void)
{
	t_suite = "configure";
	T_RUN(test_defaults_round_trip);
	T_RUN(test_every_key);
	T_RUN(test_options_round_trip);
	T_RUN(test_yaml_scalar);
	T_RUN(test_listen_list);
	T_RUN(test_app_parse_errors);
	T_RUN(test_check_errors);
	return (t_done());
}
