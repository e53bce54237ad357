/*
 * Unit tests for common/config.c (mcpgated.conf through libyaml) and the
 * value parsers of common/util.c it and mcpgatectl rely on.  Every error
 * must name the file, the line and column (1-based) of the offending node
 * and say what is wrong in words a user can act on.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"
#include "unit.h"

#define NAME	"t.conf"

static struct mcpgated_conf	 conf, def;
static struct conf_errors	 errs;

static const char example[] =
    "version: v1\n"
    "mcpgated:\n"
    "  user: _mcpgate\n"
    "  audit_user: _mcpgate-audit\n"
    "  chroot: /var/empty\n"
    "  state_dir: /var/lib/mcpgate\n"
    "  control_socket: /run/mcpgated.sock\n"
    "  log_level: info\n"
    "proxy_service:\n"
    "  enabled: true\n"
    "  name: mcpgate\n"
    "  listen_addr: 127.0.0.1:3080\n"
    "  public_addr: \"\"\n"
    "  cert_ttl: 12h\n"
    "app_service:\n"
    "  enabled: true\n"
    "  mcp_demo_server: true\n"
    "audit:\n"
    "  dir: /var/log/mcpgate\n"
    "  fsync: always\n"
    "  max_file_size: 64MiB\n"
    "  on_failure: deny\n"
    "limits:\n"
    "  max_message_size: 4MiB\n"
    "  max_connections: 10000\n"
    "  handshake_timeout: 10s\n";

static int
parse(const char *text)
{
	config_free(&conf);
	return (config_parse_buffer(NAME, text, strlen(text), &conf, &errs));
}

/* Every message, one a line, for a failure report. */
static const char *
all_errors(void)
{
	static char	 buf[CONF_MAXERRORS * (CONF_ERRLEN + 2) + 32];
	int		 i;

	if (errs.n == 0)
		return (" (none)");
	buf[0] = '\0';
	for (i = 0; i < errs.n; i++) {
		strlcat(buf, "\n\t", sizeof(buf));
		strlcat(buf, errs.msg[i], sizeof(buf));
	}
	return (buf);
}

/*
 * The index of the message that starts "t.conf:where: " (or "t.conf: "
 * when where is NULL) and contains phrase, or -1.
 */
static int
find_error(const char *where, const char *phrase)
{
	char	 prefix[64];
	int	 i;

	if (where != NULL)
		snprintf(prefix, sizeof(prefix), "%s:%s: ", NAME, where);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", NAME);
	for (i = 0; i < errs.n; i++)
		if (strncmp(errs.msg[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs.msg[i], phrase) != NULL)
			return (i);
	return (-1);
}

static const char *
where_str(const char *where)
{
	return (where != NULL ? where : "");
}

/* The text must be refused with exactly this one error. */
#define T_BAD(text, where, phrase) do {					\
	T_ASSERTF(parse(text) == -1, "accepted:\n%s", (text));		\
	T_ASSERTF(find_error((where), (phrase)) != -1 && errs.n == 1,	\
	    "want one error %s:%s: ...%s..., got:%s\nfor:\n%s", NAME,	\
	    where_str(where), (phrase), all_errors(), (text));		\
} while (0)

#define T_GOOD(text) do {						\
	T_ASSERTF(parse(text) == 0, "refused:%s\nfor:\n%s",		\
	    all_errors(), (text));					\
} while (0)

/* "version: v1", a section and one key line in it, as a file. */
static const char *
one_key(const char *section, const char *line)
{
	static char	 buf[8192];

	snprintf(buf, sizeof(buf), "version: v1\n%s:\n  %s\n", section, line);
	return (buf);
}

/* Where one_key() puts the value: line 3, after "  key: ". */
static const char *
value_pos(const char *line)
{
	static char	 buf[32];
	const char	*colon = strstr(line, ": ");

	snprintf(buf, sizeof(buf), "3:%d", (int)(colon - line) + 5);
	return (buf);
}

static void
test_example(void)
{
	struct sockaddr_in	*sin;

	T_GOOD(example);
	T_ASSERT(errs.n == 0 && errs.dropped == 0);
	T_ASSERT(strcmp(conf.path, NAME) == 0);
	T_ASSERT(strcmp(conf.user, "_mcpgate") == 0);
	T_ASSERT(strcmp(conf.audit_user, "_mcpgate-audit") == 0);
	T_ASSERT(strcmp(conf.chroot, "/var/empty") == 0);
	T_ASSERT(strcmp(conf.state_dir, "/var/lib/mcpgate") == 0);
	T_ASSERT(strcmp(conf.control_socket, "/run/mcpgated.sock") == 0);
	T_ASSERT(conf.log_level == LOG_LVL_INFO);
	T_ASSERT(conf.proxy_enabled == 1);
	T_ASSERT(strcmp(conf.name, "mcpgate") == 0);
	T_ASSERT(conf.nlisten == 1);
	T_ASSERT(strcmp(conf.listen[0].text, "127.0.0.1:3080") == 0);
	T_ASSERT(conf.listen[0].ss.ss_family == AF_INET);
	T_ASSERT(conf.listen[0].sslen == sizeof(struct sockaddr_in));
	sin = (struct sockaddr_in *)&conf.listen[0].ss;
	T_ASSERT(ntohs(sin->sin_port) == 3080);
	T_ASSERT(ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK);
	T_ASSERT(strcmp(conf.public_addr, "") == 0);
	T_ASSERT(conf.cert_ttl == 12ULL * 3600 * 1000);
	T_ASSERT(conf.app_enabled == 1);
	T_ASSERT(conf.mcp_demo_server == 1);
	T_ASSERT(strcmp(conf.audit_dir, "/var/log/mcpgate") == 0);
	T_ASSERT(conf.audit_fsync == AUDIT_FSYNC_ALWAYS);
	T_ASSERT(conf.audit_max_file_size == 64ULL * 1024 * 1024);
	T_ASSERT(conf.audit_on_failure == AUDIT_FAIL_DENY);
	T_ASSERT(conf.audit_syslog == 0);
	T_ASSERT(conf.audit_syslog_facility == LOG_AUTHPRIV);
	T_ASSERT(strcmp(conf.audit_syslog_tag, "mcpgated-audit") == 0);
	T_ASSERT(conf.max_message_size == 4ULL * 1024 * 1024);
	T_ASSERT(conf.max_connections == 10000);
	T_ASSERT(conf.handshake_timeout == 10000);

	/* The example is the defaults, written out, with the demo on. */
	config_defaults(&def);
	strlcpy(def.path, NAME, sizeof(def.path));
	def.mcp_demo_server = 1;
	T_ASSERT(memcmp(&conf, &def, sizeof(conf)) == 0);
}

static void
test_defaults(void)
{
	static const char *const texts[] = {
		"version: v1\n",
		"version: \"v1\"\n",
		"# a comment\nversion: v1\n",
		"version: v1\nmcpgated:\nproxy_service: ~\napp_service: null\n"
		    "audit:\nlimits: {}\n",
		"---\nversion: v1\n...\n",
		"{version: v1}",
	};
	size_t	 i;

	config_defaults(&def);
	strlcpy(def.path, NAME, sizeof(def.path));
	T_ASSERT(strcmp(def.user, "_mcpgate") == 0);
	T_ASSERT(def.nlisten == 1 && def.listen[0].sslen > 0);
	T_ASSERT(def.cert_ttl == 43200000 && def.handshake_timeout == 10000);
	T_ASSERT(def.max_buffered == 256ULL << 20 &&
	    def.max_json_values == 100000 && def.max_sessions_per_user == 64 &&
	    def.max_connections_per_address == 64 &&
	    def.init_timeout == 30000 && def.idle_timeout == 0);
	/* As in the reference: the demo server only when asked for. */
	T_ASSERT(def.app_enabled == 1 && def.mcp_demo_server == 0);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		T_GOOD(texts[i]);
		T_ASSERTF(memcmp(&conf, &def, sizeof(conf)) == 0,
		    "not the defaults:\n%s", texts[i]);
	}
}

static void
test_other_values(void)
{
	static const char text[] =
	    "version: v1\n"
	    "mcpgated:\n"
	    "  user: gw\n"
	    "  audit_user: 'gw-audit'\n"
	    "  chroot: /\n"
	    "  state_dir: /tmp/state\n"
	    "  control_socket: \"/tmp/ctl.sock\"\n"
	    "  log_level: debug\n"
	    "proxy_service:\n"
	    "  enabled: false\n"
	    "  name: gw.example_1-a\n"
	    "  listen_addr:\n"
	    "    - 0.0.0.0:0\n"
	    "    - \"[::1]:8443\"\n"
	    "    - 192.0.2.1:65535\n"
	    "  public_addr: gw.example.com:443\n"
	    "  cert_ttl: 1h30m\n"
	    "app_service:\n"
	    "  enabled: False\n"
	    "  mcp_demo_server: FALSE\n"
	    "audit:\n"
	    "  dir: /var/log/x\n"
	    "  fsync: batch\n"
	    "  max_file_size: 1GiB\n"
	    "  on_failure: allow\n"
	    "limits:\n"
	    "  max_message_size: 65536\n"
	    "  max_connections: 1\n"
	    "  handshake_timeout: 250ms\n";
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	T_GOOD(text);
	T_ASSERT(strcmp(conf.user, "gw") == 0);
	T_ASSERT(strcmp(conf.audit_user, "gw-audit") == 0);
	T_ASSERT(strcmp(conf.chroot, "/") == 0);
	T_ASSERT(strcmp(conf.state_dir, "/tmp/state") == 0);
	T_ASSERT(strcmp(conf.control_socket, "/tmp/ctl.sock") == 0);
	T_ASSERT(conf.log_level == LOG_LVL_DEBUG);
	T_ASSERT(conf.proxy_enabled == 0);
	T_ASSERT(strcmp(conf.name, "gw.example_1-a") == 0);
	T_ASSERT(conf.nlisten == 3);
	T_ASSERT(strcmp(conf.listen[0].text, "0.0.0.0:0") == 0);
	T_ASSERT(conf.listen[0].ss.ss_family == AF_INET);
	sin = (struct sockaddr_in *)&conf.listen[0].ss;
	T_ASSERT(sin->sin_port == 0 && sin->sin_addr.s_addr == INADDR_ANY);
	T_ASSERT(strcmp(conf.listen[1].text, "[::1]:8443") == 0);
	T_ASSERT(conf.listen[1].ss.ss_family == AF_INET6);
	T_ASSERT(conf.listen[1].sslen == sizeof(struct sockaddr_in6));
	sin6 = (struct sockaddr_in6 *)&conf.listen[1].ss;
	T_ASSERT(ntohs(sin6->sin6_port) == 8443);
	T_ASSERT(memcmp(&sin6->sin6_addr, &in6addr_loopback,
	    sizeof(in6addr_loopback)) == 0);
	sin = (struct sockaddr_in *)&conf.listen[2].ss;
	T_ASSERT(ntohs(sin->sin_port) == 65535);
	T_ASSERT(ntohl(sin->sin_addr.s_addr) == 0xc0000201);
	T_ASSERT(strcmp(conf.public_addr, "gw.example.com:443") == 0);
	T_ASSERT(conf.cert_ttl == 90ULL * 60 * 1000);
	T_ASSERT(conf.app_enabled == 0 && conf.mcp_demo_server == 0);
	T_ASSERT(strcmp(conf.audit_dir, "/var/log/x") == 0);
	T_ASSERT(conf.audit_fsync == AUDIT_FSYNC_BATCH);
	T_ASSERT(conf.audit_max_file_size == 1ULL << 30);
	T_ASSERT(conf.audit_on_failure == AUDIT_FAIL_ALLOW);
	T_ASSERT(conf.max_message_size == 65536);
	T_ASSERT(conf.max_connections == 1);
	T_ASSERT(conf.handshake_timeout == 250);

	T_GOOD(one_key("mcpgated", "log_level: warning"));
	T_ASSERT(conf.log_level == LOG_LVL_WARNING);
	T_GOOD(one_key("mcpgated", "log_level: error"));
	T_ASSERT(conf.log_level == LOG_LVL_ERROR);
	T_GOOD(one_key("audit", "fsync: none"));
	T_ASSERT(conf.audit_fsync == AUDIT_FSYNC_NONE);
	T_GOOD(one_key("audit", "syslog: {enabled: true, facility: local7, "
	    "tag: gw.audit_1-a}"));
	T_ASSERT(conf.audit_syslog == 1);
	T_ASSERT(conf.audit_syslog_facility == LOG_LOCAL7);
	T_ASSERT(strcmp(conf.audit_syslog_tag, "gw.audit_1-a") == 0);
	T_ASSERT(strcmp(config_facility_name(LOG_LOCAL7), "local7") == 0);
	T_GOOD(one_key("audit", "syslog: {facility: auth}"));
	T_ASSERT(conf.audit_syslog == 0 && conf.audit_syslog_facility ==
	    LOG_AUTH);
	T_BAD(one_key("audit", "syslog: {facility: kern}"), "3:22",
	    "'facility' must be one of auth | authpriv | daemon | local0");
	T_BAD(one_key("audit", "syslog: {tag: \"\"}"), "3:17",
	    "'tag' must be at most 32 letters");
	T_BAD(one_key("audit", "syslog: {tag: "
	    "abcdefghijabcdefghijabcdefghijabc}"), "3:17",
	    "'tag' must be at most 32 letters");
	T_BAD(one_key("audit", "syslog: {port: 514}"), "3:12",
	    "unknown key 'port' in section 'audit.syslog'");
	T_BAD(one_key("audit", "syslog: true"), "3:11",
	    "section 'audit.syslog' must be a mapping of keys");
	T_ASSERT(strcmp(config_fsync_name(AUDIT_FSYNC_BATCH), "batch") == 0);
	T_ASSERT(strcmp(config_log_level_name(LOG_LVL_DEBUG), "debug") == 0);
	T_ASSERT(strcmp(config_fsync_name(99), "?") == 0);
	T_GOOD(one_key("proxy_service", "enabled: True"));
	T_ASSERT(conf.proxy_enabled == 1);
	T_GOOD(one_key("proxy_service", "enabled: TRUE"));
	T_GOOD(one_key("audit", "max_file_size: 300000"));
	T_ASSERT(conf.audit_max_file_size == 300000);
	T_GOOD(one_key("audit", "max_file_size: 1 GB"));
	T_ASSERT(conf.audit_max_file_size == 1000000000ULL);
}

/* Each limit's smallest and largest value is accepted. */
static void
test_boundaries(void)
{
	char	 line[256];

	T_GOOD(one_key("proxy_service", "cert_ttl: 1m"));
	T_ASSERT(conf.cert_ttl == 60000);
	T_GOOD(one_key("proxy_service", "cert_ttl: 30d"));
	T_ASSERT(conf.cert_ttl == 30ULL * 86400 * 1000);
	T_GOOD(one_key("limits", "handshake_timeout: 100ms"));
	T_ASSERT(conf.handshake_timeout == 100);
	T_GOOD(one_key("limits", "handshake_timeout: 5m"));
	T_ASSERT(conf.handshake_timeout == 300000);
	T_GOOD(one_key("limits", "max_message_size: 64KiB"));
	T_ASSERT(conf.max_message_size == 65536);
	T_GOOD(one_key("limits", "max_message_size: 256MiB"));
	T_ASSERT(conf.max_message_size == 256ULL << 20);
	T_GOOD(one_key("audit", "max_file_size: 64KiB"));
	T_ASSERT(conf.audit_max_file_size == 64ULL << 10);
	T_GOOD(one_key("audit", "max_file_size: 1TiB"));
	T_ASSERT(conf.audit_max_file_size == 1ULL << 40);
	T_GOOD(one_key("limits", "max_connections: 1000000"));
	T_ASSERT(conf.max_connections == 1000000);
	T_GOOD("version: v1\nlimits:\n  max_buffered: 1MiB\n"
	    "  max_message_size: 1MiB\n");
	T_ASSERT(conf.max_buffered == 1ULL << 20);
	T_GOOD(one_key("limits", "max_buffered: 1TiB"));
	T_ASSERT(conf.max_buffered == 1ULL << 40);
	T_GOOD(one_key("limits", "max_json_values: 100"));
	T_ASSERT(conf.max_json_values == 100);
	T_GOOD(one_key("limits", "max_json_values: 100000000"));
	T_GOOD(one_key("limits", "max_sessions_per_user: 1"));
	T_ASSERT(conf.max_sessions_per_user == 1);
	T_GOOD(one_key("limits", "max_sessions_per_user: 1000000"));
	T_GOOD(one_key("limits", "max_connections_per_address: 1"));
	T_ASSERT(conf.max_connections_per_address == 1);
	T_GOOD(one_key("limits", "max_connections_per_address: 1000000"));
	T_GOOD(one_key("limits", "init_timeout: 100ms"));
	T_ASSERT(conf.init_timeout == 100);
	T_GOOD(one_key("limits", "init_timeout: 1h"));
	T_ASSERT(conf.init_timeout == 3600000);
	/* 0 is no idle limit at all. */
	T_GOOD(one_key("limits", "idle_timeout: 0"));
	T_ASSERT(conf.idle_timeout == 0);
	T_GOOD(one_key("limits", "idle_timeout: 1ms"));
	T_ASSERT(conf.idle_timeout == 1);
	T_GOOD(one_key("limits", "idle_timeout: 30d"));
	T_ASSERT(conf.idle_timeout == 30ULL * 86400 * 1000);

	/* The longest socket path that fits sun_path with its NUL. */
	memset(line, 0, sizeof(line));
	strlcpy(line, "control_socket: /", sizeof(line));
	memset(line + strlen(line), 'a', sizeof(conf.control_socket) - 2);
	T_GOOD(one_key("mcpgated", line));
	T_ASSERT(strlen(conf.control_socket) == sizeof(conf.control_socket)
	    - 1);
	/* The longest user name and gateway name. */
	memset(line, 0, sizeof(line));
	strlcpy(line, "user: u", sizeof(line));
	memset(line + strlen(line), 'x', CONF_USERLEN - 2);
	T_GOOD(one_key("mcpgated", line));
	T_ASSERT(strlen(conf.user) == CONF_USERLEN - 1);
	memset(line, 0, sizeof(line));
	strlcpy(line, "name: n", sizeof(line));
	memset(line + strlen(line), 'x', CONF_NAMELEN - 2);
	T_GOOD(one_key("proxy_service", line));
	T_ASSERT(strlen(conf.name) == CONF_NAMELEN - 1);
}

static void
test_public_addr(void)
{
	static const char *const good[] = {
		"public_addr: \"\"", "public_addr:", "public_addr: ~",
		"public_addr: null", "public_addr: gw.example.com",
		"public_addr: gw.example.com:443", "public_addr: 192.0.2.1",
		"public_addr: 192.0.2.1:8443", "public_addr: \"[2001:db8::1]\"",
		"public_addr: \"[2001:db8::1]:443\"", "public_addr: localhost",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		T_GOOD(one_key("proxy_service", good[i]));
		if (i < 4)
			T_ASSERT(conf.public_addr[0] == '\0');
	}
	T_ASSERT(strcmp(conf.public_addr, "localhost") == 0);
}

static void
test_syntax_errors(void)
{
	T_BAD("version: v1\nfoo: bar: baz\n", "2:9",
	    "YAML syntax error: mapping values are not allowed");
	T_BAD("version: v1\nmcpgated:\n\tuser: x\n", "3:1",
	    "YAML syntax error: found character that cannot start any token");
	T_BAD("version: v1\nmcpgated: {user: x\n", "3:1",
	    "YAML syntax error");
	T_BAD("version: v1\nname: \"unterminated\n", "3:1",
	    "YAML syntax error");
	/* In a second document too, after a first that parsed. */
	T_BAD("version: v1\n---\nfoo: bar: baz\n", "3:9",
	    "YAML syntax error: mapping values are not allowed");
	/* Only one document. */
	T_BAD("version: v1\n---\nversion: v1\n", "2:1",
	    "only one YAML document is allowed");
}

static void
test_structure_errors(void)
{
	T_BAD("", "1:1", "the file is empty");
	T_BAD("# nothing here\n\n", "1:1", "the file is empty");
	T_BAD("- a\n- b\n", "1:1",
	    "the configuration must be a mapping that starts with "
	    "'version: v1'");
	T_BAD("hello\n", "1:1", "must be a mapping");
	T_BAD("mcpgated:\n  user: x\n", "1:1", "missing 'version: v1'");
	T_BAD("# c\naudit: ~\n", "2:1", "missing 'version: v1'");
	T_BAD("version: v2\n", "1:10",
	    "unsupported version 'v2' (this mcpgated reads v1)");
	T_BAD("version: 1\n", "1:10", "unsupported version '1'");
	T_BAD("version: [v1]\n", "1:10",
	    "'version' must be a single value, not a list");
	T_BAD("version: v1\nversion: v1\n", "2:1", "duplicate key 'version'");
	T_BAD("version: v1\nbogus:\n  a: 1\n", "2:1",
	    "unknown section 'bogus' (expected version, mcpgated, "
	    "proxy_service, app_service, audit, auth or limits)");
	T_BAD("version: v1\nAudit: ~\n", "2:1", "unknown section 'Audit'");
	T_BAD("version: v1\naudit:\n  fsync: none\nlimits: ~\n"
	    "audit:\n  fsync: batch\n", "5:1", "duplicate section 'audit'");
	T_BAD("version: v1\nmcpgated:\n  user: a\n  chroot: /x\n  user: b\n",
	    "5:3", "duplicate key 'user' in section 'mcpgated'");
	T_BAD("version: v1\naudit:\n  - fsync\n", "3:3",
	    "section 'audit' must be a mapping of keys");
	T_BAD("version: v1\nlimits: [1, 2]\n", "2:9",
	    "section 'limits' must be a mapping of keys");
	T_BAD("version: v1\naudit: on\n", "2:8",
	    "section 'audit' must be a mapping of keys");
	T_BAD("version: v1\nmcpgated:\n  user:\n    name: x\n", "4:5",
	    "'user' must be a single value, not a mapping");
	T_BAD("version: v1\nmcpgated:\n  chroot: [/a, /b]\n", "3:11",
	    "'chroot' must be a single value, not a list");
	T_BAD("version: v1\nlimits:\n  max_connections:\n    - 1\n", "4:5",
	    "'max_connections' must be a single value, not a list");
	T_BAD("version: v1\n[a]: b\n", "2:1", "top-level keys must be names");
	T_BAD("version: v1\naudit:\n  [a]: b\n", "3:3",
	    "keys in 'audit' must be names");
	T_BAD("version: v1\nmcpgated:\n  user: \"a\\0b\"\n", "3:9",
	    "'user' contains a NUL byte");
}

static void
test_unknown_keys(void)
{
	static const char *const sections[] = {
		"mcpgated", "proxy_service", "app_service", "audit", "limits",
	};
	char	 phrase[128];
	size_t	 i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		snprintf(phrase, sizeof(phrase),
		    "unknown key 'bogus' in section '%s'", sections[i]);
		T_BAD(one_key(sections[i], "bogus: 1"), "3:3", phrase);
		/* A key of another section is unknown here, too. */
		snprintf(phrase, sizeof(phrase),
		    "unknown key '%s' in section '%s'",
		    i == 0 ? "fsync" : "chroot", sections[i]);
		T_BAD(one_key(sections[i], i == 0 ? "fsync: none" :
		    "chroot: /x"), "3:3", phrase);
	}
}

/* One bad value per line; the error is at the value. */
static void
test_bad_values(void)
{
	static char	 longsock[256], longpath[PATH_MAX + 32];
	static char	 longuser[64], longname[128], longpub[400];
	static const struct {
		const char	*section;
		const char	*line;
		const char	*phrase;
	} t[] = {
		{ "mcpgated", "user: \"bad user\"",
		    "'user' is not a valid user name: bad user" },
		{ "mcpgated", "user: -dash", "not a valid user name: -dash" },
		{ "mcpgated", "user: a/b", "not a valid user name: a/b" },
		{ "mcpgated", "user: r\xc3\xa9mi", "not a valid user name" },
		{ "mcpgated", "audit_user: x:y",
		    "'audit_user' is not a valid user name: x:y" },
		{ "mcpgated", "user: ~", "'user' needs a value" },
		{ "mcpgated", "chroot: var/empty",
		    "'chroot' must be an absolute path: var/empty" },
		{ "mcpgated", "state_dir: \"\"",
		    "'state_dir' must be an absolute path" },
		{ "mcpgated", "state_dir: ./x",
		    "'state_dir' must be an absolute path: ./x" },
		{ "mcpgated", "control_socket: run/mcpgated.sock",
		    "'control_socket' must be an absolute path" },
		{ "mcpgated", "log_level: verbose",
		    "'log_level' must be one of debug | info | warning | "
		    "error, not 'verbose'" },
		{ "mcpgated", "log_level: INFO",
		    "'log_level' must be one of debug | info | warning | "
		    "error, not 'INFO'" },
		{ "proxy_service", "enabled: yes",
		    "'enabled' must be true or false" },
		{ "proxy_service", "enabled: 1",
		    "'enabled' must be true or false" },
		{ "proxy_service", "enabled: on",
		    "'enabled' must be true or false" },
		{ "proxy_service", "enabled: \"true\"",
		    "'enabled' must be true or false" },
		{ "proxy_service", "enabled: ~", "'enabled' needs a value" },
		{ "proxy_service", "name: \"my gw\"",
		    "'name' must be at most 63 letters, digits, '.', '_' or "
		    "'-'" },
		{ "proxy_service", "name: gw/1", "'name' must be at most 63" },
		{ "proxy_service", "cert_ttl: 10",
		    "'cert_ttl' must be a duration such as 10s, 30m or 12h, "
		    "not '10'" },
		{ "proxy_service", "cert_ttl: 10x",
		    "'cert_ttl' must be a duration such as 10s, 30m or 12h, "
		    "not '10x'" },
		{ "proxy_service", "cert_ttl: 0s",
		    "'cert_ttl' must be a duration such as 10s, 30m or 12h, "
		    "not '0s'" },
		{ "proxy_service", "cert_ttl: -1h", "not '-1h'" },
		{ "proxy_service", "cert_ttl: 1.5h", "not '1.5h'" },
		{ "proxy_service", "cert_ttl: 59s",
		    "'cert_ttl' must be between 1m and 30d" },
		{ "proxy_service", "cert_ttl: 30d1ms",
		    "'cert_ttl' must be between 1m and 30d" },
		{ "proxy_service", "cert_ttl: 365d",
		    "'cert_ttl' must be between 1m and 30d" },
		{ "proxy_service", "public_addr: bad host",
		    "'public_addr' must be host or host:port: bad host" },
		{ "proxy_service", "public_addr: \"[::1\"",
		    "'public_addr' must be host or host:port: [::1" },
		{ "proxy_service", "public_addr: \"host:\"",
		    "'public_addr' must be host or host:port: host:" },
		{ "proxy_service", "public_addr: host:99999",
		    "'public_addr' must be host or host:port: host:99999" },
		{ "proxy_service", "public_addr: host:123456",
		    "must be host or host:port" },
		{ "proxy_service", "public_addr: host:80:80",
		    "must be host or host:port" },
		{ "proxy_service", "public_addr: host:http",
		    "must be host or host:port" },
		{ "proxy_service", "public_addr: \"[zz]:80\"",
		    "must be host or host:port" },
		{ "proxy_service", "public_addr: \"[::1]x\"",
		    "must be host or host:port" },
		{ "proxy_service", "public_addr: a_b.example",
		    "must be host or host:port" },
		{ "proxy_service", "public_addr: \":443\"",
		    "must be host or host:port" },
		{ "proxy_service", "public_addr: [a, b]",
		    "'public_addr' must be a single value, not a list" },
		{ "app_service", "mcp_demo_server: yes",
		    "'mcp_demo_server' must be true or false" },
		{ "app_service", "enabled: 'false'",
		    "'enabled' must be true or false" },
		{ "audit", "dir: log", "'dir' must be an absolute path: log" },
		{ "audit", "fsync: sometimes",
		    "'fsync' must be one of always | batch | none, not "
		    "'sometimes'" },
		{ "audit", "fsync: ~", "'fsync' needs a value" },
		{ "audit", "on_failure: ignore",
		    "'on_failure' must be one of deny | allow, not 'ignore'" },
		{ "audit", "max_file_size: 64XB",
		    "'max_file_size' must be a size such as 64KiB or 4MiB, "
		    "not '64XB'" },
		{ "audit", "max_file_size: 1.5MiB", "not '1.5MiB'" },
		{ "audit", "max_file_size: -1", "not '-1'" },
		{ "audit", "max_file_size: MiB", "not 'MiB'" },
		{ "audit", "max_file_size: 99999999999999999999",
		    "must be a size such as" },
		{ "audit", "max_file_size: 63KiB",
		    "'max_file_size' must be between 64KiB and 1024GiB" },
		{ "audit", "max_file_size: 2TiB",
		    "'max_file_size' must be between 64KiB and 1024GiB" },
		{ "limits", "max_message_size: 4 MiB 2",
		    "'max_message_size' must be a size such as 64KiB or 4MiB, "
		    "not '4 MiB 2'" },
		{ "limits", "max_message_size: 1KiB",
		    "'max_message_size' must be between 64KiB and 256MiB" },
		{ "limits", "max_message_size: 65535",
		    "'max_message_size' must be between 64KiB and 256MiB" },
		{ "limits", "max_message_size: 257MiB",
		    "'max_message_size' must be between 64KiB and 256MiB" },
		{ "limits", "max_connections: 0",
		    "'max_connections' must be a whole number from 1 to "
		    "1000000, not '0'" },
		{ "limits", "max_connections: 1000001",
		    "from 1 to 1000000, not '1000001'" },
		{ "limits", "max_connections: lots",
		    "from 1 to 1000000, not 'lots'" },
		{ "limits", "max_connections: -5",
		    "from 1 to 1000000, not '-5'" },
		{ "limits", "max_connections: \"+5\"",
		    "from 1 to 1000000, not '+5'" },
		{ "limits", "max_connections: 10k",
		    "from 1 to 1000000, not '10k'" },
		{ "limits", "max_connections: 1e3",
		    "from 1 to 1000000, not '1e3'" },
		{ "limits", "max_connections: 99999999999999999999999",
		    "from 1 to 1000000" },
		{ "limits", "max_connections: \"\"", "from 1 to 1000000" },
		{ "limits", "handshake_timeout: 10",
		    "'handshake_timeout' must be a duration such as 10s, 30m "
		    "or 12h, not '10'" },
		{ "limits", "handshake_timeout: 50ms",
		    "'handshake_timeout' must be between 100ms and 5m" },
		{ "limits", "handshake_timeout: 301s",
		    "'handshake_timeout' must be between 100ms and 5m" },
		{ "limits", "handshake_timeout: 1h",
		    "'handshake_timeout' must be between 100ms and 5m" },
		{ "limits", "max_buffered: 1023KiB",
		    "'max_buffered' must be between 1MiB and 1024GiB" },
		{ "limits", "max_json_values: 99", "from 100 to 100000000" },
		{ "limits", "max_sessions_per_user: 0", "from 1 to 1000000" },
		{ "limits", "max_connections_per_address: 0",
		    "from 1 to 1000000" },
		{ "limits", "init_timeout: 0",
		    "'init_timeout' must be a duration" },
		{ "limits", "init_timeout: 2h",
		    "'init_timeout' must be between 100ms and 1h" },
		{ "limits", "idle_timeout: 31d",
		    "'idle_timeout' must be between 0ms and 30d" },
		{ "limits", "idle_timeout: 00",
		    "'idle_timeout' must be a duration" },
		{ "mcpgated", longsock,
		    "'control_socket' is too long (at most 107 bytes)" },
		{ "mcpgated", longpath, "'chroot' is too long (at most 4095 "
		    "bytes)" },
		{ "mcpgated", longuser, "'user' is not a valid user name" },
		{ "proxy_service", longname, "'name' must be at most 63" },
		{ "proxy_service", longpub, "'public_addr' must be host or "
		    "host:port" },
	};
	size_t	 i;

	strlcpy(longsock, "control_socket: /", sizeof(longsock));
	memset(longsock + strlen(longsock), 's', sizeof(conf.control_socket)
	    - 1);
	strlcpy(longpath, "chroot: /", sizeof(longpath));
	memset(longpath + strlen(longpath), 'p', PATH_MAX - 1);
	strlcpy(longuser, "user: ", sizeof(longuser));
	memset(longuser + strlen(longuser), 'u', CONF_USERLEN);
	strlcpy(longname, "name: ", sizeof(longname));
	memset(longname + strlen(longname), 'n', CONF_NAMELEN);
	strlcpy(longpub, "public_addr: ", sizeof(longpub));
	memset(longpub + strlen(longpub), 'h', CONF_ADDRLEN + 1);

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_BAD(one_key(t[i].section, t[i].line), value_pos(t[i].line),
		    t[i].phrase);
	/* An empty value is an empty scalar just after the colon. */
	T_BAD(one_key("mcpgated", "audit_user:"), "3:14",
	    "'audit_user' needs a value");
}

static void
test_listen_errors(void)
{
	static const char *const bad[] = {
		"localhost:3080", "127.0.0.1", "\"127.0.0.1:\"",
		"127.0.0.1:65536",
		"127.0.0.1:http", "127.0.0.1:-1", "127.0.0.1:+80",
		"256.0.0.1:80", "1.2.3.4.5:80", "\"::1:3080\"",
		"\"[::1]3080\"", "\"[::1\"", "\"[]:80\"", "\"[::1]:\"",
		"\"[::1]:99999\"", "\"[127.0.0.1]:80\"", "\"[host]:80\"",
		"\"127.0.0.1:80 \"", "\":80\"", "\"\"", "~",
	};
	char	 line[128], text[4096], phrase[128];
	size_t	 i;
	int	 n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "listen_addr: %s", bad[i]);
		T_BAD(one_key("proxy_service", line), value_pos(line),
		    "is not a numeric host:port such as 127.0.0.1:3080 or "
		    "[::1]:3080");
	}
	T_BAD("version: v1\nproxy_service:\n  listen_addr: localhost:80\n",
	    "3:16", "listen_addr 'localhost:80' is not a numeric host:port");

	T_BAD(one_key("proxy_service", "listen_addr: []"), "3:16",
	    "'listen_addr' is an empty list");
	T_BAD(one_key("proxy_service", "listen_addr: {a: b}"), "3:16",
	    "'listen_addr' must be host:port or a list of them");
	T_BAD("version: v1\nproxy_service:\n  listen_addr:\n"
	    "    - 127.0.0.1:1\n    - a: b\n", "5:7",
	    "'listen_addr' must be a single value, not a mapping");
	T_BAD("version: v1\nproxy_service:\n  listen_addr:\n"
	    "    - [127.0.0.1:1]\n", "4:7",
	    "'listen_addr' must be a single value, not a list");
	T_BAD("version: v1\nproxy_service:\n  listen_addr:\n"
	    "    - 127.0.0.1:1\n    - 127.0.0.1:x\n    - 127.0.0.1:3\n",
	    "5:7", "listen_addr '127.0.0.1:x' is not a numeric host:port");

	/* Sixteen addresses fit; the seventeenth is refused where it is. */
	n = snprintf(text, sizeof(text),
	    "version: v1\nproxy_service:\n  listen_addr:\n");
	for (i = 0; i < CONF_MAXLISTEN; i++)
		n += snprintf(text + n, sizeof(text) - n,
		    "    - 127.0.0.1:%zu\n", 1000 + i);
	T_GOOD(text);
	T_ASSERT(conf.nlisten == CONF_MAXLISTEN);
	T_ASSERT(strcmp(conf.listen[15].text, "127.0.0.1:1015") == 0);
	snprintf(text + n, sizeof(text) - n, "    - 127.0.0.1:2000\n");
	snprintf(phrase, sizeof(phrase), "more than %d listen addresses",
	    CONF_MAXLISTEN);
	T_BAD(text, "20:7", phrase);
}

static void
test_many_errors(void)
{
	static const char text[] =
	    "version: v1\n"
	    "mcpgated:\n"
	    "  user: \"bad user\"\n"
	    "  chroot: relative\n"
	    "proxy_service:\n"
	    "  enabled: yes\n"
	    "  bogus: 1\n"
	    "audit:\n"
	    "  fsync: sometimes\n"
	    "limits:\n"
	    "  max_connections: 0\n"
	    "  handshake_timeout: 10\n"
	    "extra: 1\n";
	char	 big[8192];
	int	 i, n;

	T_ASSERT(parse(text) == -1);
	T_ASSERTF(errs.n == 8, "%d errors:%s", errs.n, all_errors());
	T_ASSERT(find_error("3:9", "not a valid user name") == 0);
	T_ASSERT(find_error("4:11", "absolute path") == 1);
	T_ASSERT(find_error("6:12", "true or false") == 2);
	T_ASSERT(find_error("7:3", "unknown key 'bogus'") == 3);
	T_ASSERT(find_error("9:10", "'fsync' must be one of") == 4);
	T_ASSERT(find_error("11:20", "'max_connections'") == 5);
	T_ASSERT(find_error("12:22", "'handshake_timeout'") == 6);
	T_ASSERT(find_error("13:1", "unknown section 'extra'") == 7);
	T_ASSERT(errs.dropped == 0);

	/* Past CONF_MAXERRORS the rest are counted, not kept. */
	n = snprintf(big, sizeof(big), "version: v1\n");
	for (i = 0; i < CONF_MAXERRORS + 8; i++)
		n += snprintf(big + n, sizeof(big) - n, "s%d: 1\n", i);
	T_ASSERT(parse(big) == -1);
	T_ASSERT(errs.n == CONF_MAXERRORS && errs.dropped == 8);
	T_ASSERT(find_error("2:1", "unknown section 's0'") == 0);
	T_ASSERT(find_error("33:1", "unknown section 's31'") == 31);
}

static void
test_cross_checks(void)
{
	T_BAD("version: v1\nmcpgated:\n  user: same\n  audit_user: same\n",
	    NULL, "'user' and 'audit_user' must differ");
	/* The default audit user, given as user. */
	T_BAD(one_key("mcpgated", "user: _mcpgate-audit"), NULL,
	    "'user' and 'audit_user' must differ");
	T_BAD(one_key("mcpgated", "audit_user: _mcpgate"), NULL,
	    "'user' and 'audit_user' must differ");

	/* An enabled proxy needs somewhere to listen. */
	T_ASSERT(parse("version: v1\nproxy_service:\n  enabled: true\n"
	    "  listen_addr: []\n") == -1);
	T_ASSERTF(find_error("4:16", "listen_addr") != -1 ||
	    find_error(NULL, "has no listen_addr") != -1, "got:%s",
	    all_errors());
	/* Disabled, it keeps the default and needs nothing. */
	T_GOOD("version: v1\nproxy_service:\n  enabled: false\n");
	T_ASSERT(conf.proxy_enabled == 0 && conf.nlisten == 1);

	/* The budget must hold at least one message of the largest size. */
	T_BAD("version: v1\nlimits:\n  max_message_size: 8MiB\n"
	    "  max_buffered: 4MiB\n", NULL, "limits.max_buffered must be at least "
	    "limits.max_message_size");
}

/* The auth section: login throttling and the lock, and the keys gone. */
static void
test_auth(void)
{
	static const char text[] =
	    "version: v1\n"
	    "auth:\n"
	    "  password_min_length: 16\n"
	    "  throttle_failures: 5\n"
	    "  throttle_prefix_failures: 50\n"
	    "  throttle_delay: 500ms\n"
	    "  throttle_max_delay: 10m\n"
	    "  throttle_entries: 1000\n"
	    "  lock_failures: 200\n"
	    "  lock_prefixes: 8\n"
	    "  lock_duration: 2h\n"
	    "  failure_memory: 1d\n";

	config_defaults(&def);
	T_ASSERT(def.password_min_length == 12);
	T_ASSERT(def.throttle_failures == 3);
	T_ASSERT(def.throttle_prefix_failures == 30);
	T_ASSERT(def.throttle_delay == 1000);
	T_ASSERT(def.throttle_max_delay == 300000);
	T_ASSERT(def.throttle_entries == 16384);
	T_ASSERT(def.lock_failures == 100);
	T_ASSERT(def.lock_prefixes == 5);
	T_ASSERT(def.lock_duration == 3600000);
	T_ASSERT(def.failure_memory == 3600000);

	T_GOOD(text);
	T_ASSERT(conf.password_min_length == 16);
	T_ASSERT(conf.throttle_failures == 5);
	T_ASSERT(conf.throttle_prefix_failures == 50);
	T_ASSERT(conf.throttle_delay == 500);
	T_ASSERT(conf.throttle_max_delay == 600000);
	T_ASSERT(conf.throttle_entries == 1000);
	T_ASSERT(conf.lock_failures == 200);
	T_ASSERT(conf.lock_prefixes == 8);
	T_ASSERT(conf.lock_duration == 7200000);
	T_ASSERT(conf.failure_memory == 86400000);

	/* Each key's ends. */
	T_GOOD(one_key("auth", "throttle_entries: 16"));
	T_BAD(one_key("auth", "throttle_entries: 15"), "3:21",
	    "'throttle_entries' must be a whole number from 16 to 1000000");
	T_BAD(one_key("auth", "lock_prefixes: 33"), "3:18",
	    "'lock_prefixes' must be a whole number from 1 to 32");
	T_BAD(one_key("auth", "throttle_failures: 0"), "3:22",
	    "'throttle_failures' must be a whole number from 1 to 1000");
	T_BAD(one_key("auth", "throttle_delay: 50ms"), "3:19",
	    "'throttle_delay' must be between 100ms and 1h");
	T_BAD(one_key("auth", "failure_memory: 30s"), "3:19",
	    "'failure_memory' must be between 1m and 7d");

	/* Together: the cap is no smaller than the first delay ... */
	T_BAD("version: v1\nauth:\n  throttle_delay: 10s\n"
	    "  throttle_max_delay: 5s\n", NULL,
	    "'throttle_max_delay' must be at least 'throttle_delay'");
	/* ... and failures are remembered longer than the cap. */
	T_BAD(one_key("auth", "failure_memory: 5m"), NULL,
	    "'failure_memory' must be longer than 'throttle_max_delay'");
	T_GOOD("version: v1\nauth:\n  throttle_max_delay: 1m\n"
	    "  failure_memory: 2m\n");

	/* The keys of the old lockout say what replaced them. */
	T_BAD(one_key("auth", "lockout_user_failures: 5"), "3:3",
	    "'lockout_user_failures' in section 'auth' is gone: use "
	    "throttle_failures and lock_failures");
	T_BAD(one_key("auth", "lockout_address_failures: 5"), "3:3",
	    "use throttle_prefix_failures");
	T_BAD(one_key("auth", "lockout_window: 15m"), "3:3",
	    "use failure_memory");
	T_BAD(one_key("auth", "lockout_duration: 15m"), "3:3",
	    "use throttle_max_delay and lock_duration");
	/* Only in their section. */
	T_BAD(one_key("limits", "lockout_window: 15m"), "3:3",
	    "unknown key 'lockout_window' in section 'limits'");
}

/*
 * An empty string is no user name (the field names a system account)
 * and no gateway name (it becomes the CA's and the server certificate's
 * common name); paths and enums already refuse "".
 */
static void
test_empty_names(void)
{
	static const struct {
		const char	*section;
		const char	*line;
		const char	*phrase;
	} t[] = {
		{ "mcpgated", "user: \"\"", "'user' is not a valid user name" },
		{ "mcpgated", "audit_user: ''",
		    "'audit_user' is not a valid user name" },
		{ "proxy_service", "name: \"\"", "'name' must be" },
	};
	char	 accepted[256] = "";
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (parse(one_key(t[i].section, t[i].line)) == 0) {
			strlcat(accepted, " [", sizeof(accepted));
			strlcat(accepted, t[i].line, sizeof(accepted));
			strlcat(accepted, "]", sizeof(accepted));
			continue;
		}
		T_ASSERTF(errs.n == 1 && find_error(value_pos(t[i].line),
		    t[i].phrase) == 0, "%s:%s", t[i].line, all_errors());
	}
	T_ASSERTF(accepted[0] == '\0', "accepted:%s", accepted);
}

/* "[]" is no host at all. */
static void
test_public_addr_empty_brackets(void)
{
	T_BAD(one_key("proxy_service", "public_addr: \"[]\""), "3:16",
	    "'public_addr' must be host or host:port");
	T_BAD(one_key("proxy_service", "public_addr: \"[]:443\""), "3:16",
	    "'public_addr' must be host or host:port");
}

static void
test_parse_file(void)
{
	char	 dir[] = "/tmp/mcpgate-test-config.XXXXXX";
	char	 path[PATH_MAX], sub[PATH_MAX], big[PATH_MAX];
	int	 fd;

	T_ASSERT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/mcpgated.conf", dir);
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	snprintf(big, sizeof(big), "%s/big.conf", dir);

	/* Missing. */
	T_ASSERT(config_parse_file(path, &conf, &errs) == -1);
	T_ASSERTF(errs.n == 1 && strncmp(errs.msg[0], path,
	    strlen(path)) == 0 && strstr(errs.msg[0],
	    "No such file or directory") != NULL, "got:%s", all_errors());
	T_ASSERT(strcmp(conf.user, "_mcpgate") == 0);	/* defaults */

	/* A directory. */
	T_ASSERT(mkdir(sub, 0700) == 0);
	T_ASSERT(config_parse_file(sub, &conf, &errs) == -1);
	T_ASSERTF(errs.n == 1 && strncmp(errs.msg[0], sub,
	    strlen(sub)) == 0, "got:%s", all_errors());

	/* Too big. */
	T_ASSERT((fd = open(big, O_WRONLY | O_CREAT | O_EXCL, 0600)) != -1);
	T_ASSERT(ftruncate(fd, CONF_MAXFILE + 1) == 0);
	close(fd);
	T_ASSERT(config_parse_file(big, &conf, &errs) == -1);
	T_ASSERTF(errs.n == 1 && strstr(errs.msg[0], "larger than 1 MiB") !=
	    NULL, "got:%s", all_errors());

	/* A good one; messages then name the real path. */
	T_ASSERT((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) != -1);
	T_ASSERT(write(fd, example, strlen(example)) ==
	    (ssize_t)strlen(example));
	close(fd);
	T_ASSERTF(config_parse_file(path, &conf, &errs) == 0, "%s",
	    all_errors());
	T_ASSERT(strcmp(conf.path, path) == 0);
	T_ASSERT(conf.max_connections == 10000);
	T_ASSERT((fd = open(path, O_WRONLY | O_TRUNC)) != -1);
	T_ASSERT(write(fd, "version: v1\nlimits:\n  bogus: 1\n", 31) == 31);
	close(fd);
	T_ASSERT(config_parse_file(path, &conf, &errs) == -1);
	T_ASSERTF(errs.n == 1 && strncmp(errs.msg[0], path,
	    strlen(path)) == 0 && strstr(errs.msg[0] + strlen(path),
	    ":3:3: unknown key 'bogus'") != NULL, "got:%s", all_errors());

	unlink(path);
	unlink(big);
	rmdir(sub);
	T_ASSERT(rmdir(dir) == 0);
}

static void
test_parse_hostport(void)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len = 0;

	T_ASSERT(config_parse_hostport("[::]:0", &ss, &len) == 0);
	T_ASSERT(ss.ss_family == AF_INET6 && len == sizeof(*sin6));
	T_ASSERT(sin6->sin6_port == 0);
	T_ASSERT(memcmp(&sin6->sin6_addr, &in6addr_any,
	    sizeof(in6addr_any)) == 0);
	T_ASSERT(config_parse_hostport("10.1.2.3:443", &ss, &len) == 0);
	T_ASSERT(ss.ss_family == AF_INET);
	T_ASSERT(config_parse_hostport("example.com:443", &ss, &len) == -1);
	T_ASSERT(config_parse_hostport("[::1]:65536", &ss, &len) == -1);
	T_ASSERT(config_parse_hostport("", &ss, &len) == -1);
	T_ASSERT(config_parse_hostport("[", &ss, &len) == -1);
	T_ASSERT(config_parse_hostport(":", &ss, &len) == -1);
}

static void
test_parse_duration(void)
{
	static const struct {
		const char	*s;
		uint64_t	 ms;
	} good[] = {
		{ "1ms", 1 }, { "250ms", 250 }, { "10s", 10000 },
		{ "30m", 1800000 }, { "12h", 43200000 }, { "1d", 86400000 },
		{ "1h30m", 5400000 }, { "1m1ms", 60001 },
		{ "2d3h4m5s6ms", 2 * 86400000ULL + 3 * 3600000 + 4 * 60000 +
		    5 * 1000 + 6 },
		{ "007s", 7000 },
		{ "213503982334d", 213503982334ULL * 86400000 },
	};
	static const char *const bad[] = {
		"", "10", "10x", "0s", "0h0m", "0ms", "s", "h1", "1h 30m",
		" 1h", "1h ", "-5s", "+5s", "5min", "5sec", "1.5h", "1H",
		"1hh", "1m30", "18446744073709551615d", "213503982335d",
		"99999999999999999999ms",
	};
	uint64_t	 ms;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 0;
		T_ASSERTF(parse_duration(good[i].s, &ms) == 0,
		    "refused '%s'", good[i].s);
		T_ASSERTF(ms == good[i].ms, "'%s' is %llu ms, want %llu",
		    good[i].s, (unsigned long long)ms,
		    (unsigned long long)good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		T_ASSERTF(parse_duration(bad[i], &ms) == -1,
		    "accepted '%s' as %llu ms", bad[i],
		    (unsigned long long)ms);
		T_ASSERT(ms == 12345);
	}
}

static void
test_parse_size(void)
{
	static const struct {
		const char	*s;
		uint64_t	 n;
	} good[] = {
		{ "0", 0 }, { "1", 1 }, { "1B", 1 }, { "4096", 4096 },
		{ "64KiB", 65536 }, { "4MiB", 4194304 },
		{ "1GiB", 1ULL << 30 }, { "1TiB", 1ULL << 40 },
		{ "1KB", 1000 }, { "1MB", 1000000 }, { "1GB", 1000000000 },
		{ "1TB", 1000000000000ULL }, { "1K", 1024 },
		{ "1M", 1048576 }, { "1G", 1ULL << 30 }, { "4 MiB", 4194304 },
		{ "16777215TiB", 16777215ULL << 40 },
	};
	static const char *const bad[] = {
		"", "MiB", " 4MiB", "4XB", "4mib", "4 m", "-1", "+1", "1.5MiB",
		"4MiB ", "4MiBx", "0x10", "1e3", "16777216TiB",
		"18446744073709551616", "99999999999999999999KiB",
	};
	uint64_t	 n;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = 7;
		T_ASSERTF(parse_size(good[i].s, &n) == 0, "refused '%s'",
		    good[i].s);
		T_ASSERTF(n == good[i].n, "'%s' is %llu, want %llu",
		    good[i].s, (unsigned long long)n,
		    (unsigned long long)good[i].n);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 7;
		T_ASSERTF(parse_size(bad[i], &n) == -1, "accepted '%s' as %llu",
		    bad[i], (unsigned long long)n);
		T_ASSERT(n == 7);
	}
}

static void
test_parse_time(void)
{
	static const struct {
		const char	*s;
		int64_t		 us;
	} good[] = {
		{ "2026-11-26T17:36:41Z", 1795714601000000LL },
		{ "2026-11-26 17:36:41Z", 1795714601000000LL },
		{ "2026-11-26T17:36:41.123456Z", 1795714601123456LL },
		{ "2026-11-26T17:36:41.5Z", 1795714601500000LL },
		{ "2026-11-26T17:36:41.000001Z", 1795714601000001LL },
		{ "2026-11-26T17:36:41.1234569Z", 1795714601123456LL },
		{ "2026-11-26", 1795651200000000LL },
		{ "1970-01-01", 0 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1969-12-31T23:59:59.999999Z", -1 },
		{ "1900-01-01", -2208988800000000LL },
		{ "2000-02-29T12:00:00Z", 951825600000000LL },
		{ "2016-12-31T23:59:60Z", 1483228800000000LL },
	};
	static const char *const bad[] = {
		"", "yesterday", "2026", "2026-11", "2026-1-26", "26-11-2026",
		"2026/11/26", "2026-11-26Z", "2026-11-26T", "2026-11-26x",
		"2026-11-26T17:36:41", "2026-11-26T17:36:41z",
		"2026-11-26T17:36:41+00:00", "2026-11-26T17:36Z",
		"2026-11-26T7:36:41Z", "2026-11-26T17:36:41Z ",
		"2026-13-01", "2026-00-01", "2026-01-00", "2026-01-32",
		"2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
		"2026-01-01T00:00:61Z", "2026-01-01T-1:00:00Z", " 2026-11-26",
		"20266-11-26", "0s",
	};
	const time_t	 now = 1795714601;
	int64_t		 us;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		us = 42;
		T_ASSERTF(parse_time(good[i].s, now, &us) == 0, "refused '%s'",
		    good[i].s);
		T_ASSERTF(us == good[i].us, "'%s' is %lld, want %lld",
		    good[i].s, (long long)us, (long long)good[i].us);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		us = 42;
		T_ASSERTF(parse_time(bad[i], now, &us) == -1,
		    "accepted '%s' as %lld", bad[i], (long long)us);
	}

	/* A duration means that long before now. */
	T_ASSERT(parse_time("1h", now, &us) == 0);
	T_ASSERT(us == (int64_t)(now - 3600) * 1000000);
	T_ASSERT(parse_time("90s", now, &us) == 0);
	T_ASSERT(us == (int64_t)now * 1000000 - 90000000);
	T_ASSERT(parse_time("1500ms", now, &us) == 0);
	T_ASSERT(us == (int64_t)now * 1000000 - 1500000);
	T_ASSERT(parse_time("1d", 0, &us) == 0);
	T_ASSERT(us == -86400LL * 1000000);
}

static int
child_signed_year(void)
{
	int64_t	 us;

	/* 0: refused, as it should be; 2: accepted. */
	return (parse_time("-001-01-01", 0, &us) == -1 ? 0 : 2);
}

static int
child_signed_year_full(void)
{
	int64_t	 us;

	return (parse_time("-999-12-31T23:59:59Z", 0, &us) == -1 ? 0 : 2);
}

/*
 * sscanf's %4u takes a sign, so "-001" is a year of 4294967295: the date
 * must be refused, not turned into an int64_t overflow (undefined
 * behaviour, which UBSan reports).
 */
static void
test_parse_time_signed_year(void)
{
	int	 r;

	r = t_in_child(child_signed_year);
	T_ASSERTF(r == 0, r == 2 ? "parse_time(\"-001-01-01\") accepted a "
	    "signed year" : "parse_time(\"-001-01-01\") died, status %d "
	    "(signed overflow in the seconds-to-microseconds arithmetic)", r);
	r = t_in_child(child_signed_year_full);
	T_ASSERTF(r == 0, r == 2 ? "parse_time(\"-999-12-31T23:59:59Z\") "
	    "accepted a signed year" : "parse_time(\"-999-12-31T23:59:59Z\") "
	    "died, status %d", r);
}

static void
test_fmt_time_us(void)
{
	static const struct {
		int64_t		 us;
		const char	*s;
	} t[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ 1, "1970-01-01T00:00:00.000001Z" },
		{ -1, "1969-12-31T23:59:59.999999Z" },
		{ -1000000, "1969-12-31T23:59:59.000000Z" },
		{ 1795714601123456LL, "2026-11-26T17:36:41.123456Z" },
		{ 951825600000000LL, "2000-02-29T12:00:00.000000Z" },
		{ -2208988800000000LL, "1900-01-01T00:00:00.000000Z" },
	};
	char		 buf[TIME_RFC3339_LEN];
	int64_t		 us, back;
	uint64_t	 x = 88172645463325252ULL;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fmt_time_us(t[i].us, buf, sizeof(buf));
		T_ASSERTF(strcmp(buf, t[i].s) == 0, "%lld: '%s', want '%s'",
		    (long long)t[i].us, buf, t[i].s);
		T_ASSERT(parse_time(buf, 0, &back) == 0 && back == t[i].us);
	}
	/* Round trip over 1900 to 2100, by xorshift. */
	for (i = 0; i < 5000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		us = -2208988800000000LL + (int64_t)(x % 6311433600000000ULL);
		fmt_time_us(us, buf, sizeof(buf));
		T_ASSERT(strlen(buf) == 27);
		T_ASSERTF(parse_time(buf, 0, &back) == 0 && back == us,
		    "%lld -> '%s' -> %lld", (long long)us, buf,
		    (long long)back);
	}
	/* A short buffer is cut, not overrun. */
	memset(buf, 'x', sizeof(buf));
	fmt_time_us(0, buf, 11);
	T_ASSERT(strcmp(buf, "1970-01-01") == 0 && buf[11] == 'x');
}

static void
test_hex_decode(void)
{
	unsigned char	 out[8], want[4] = { 0x00, 0xff, 0xab, 0x19 };
	char		 hex[2 * sizeof(out) + 1];

	memset(out, 0xee, sizeof(out));
	T_ASSERT(hex_decode("00ffab19", out, 4) == 0);
	T_ASSERT(memcmp(out, want, 4) == 0 && out[4] == 0xee);
	T_ASSERT(hex_decode("00FFAB19", out, 4) == 0);
	T_ASSERT(memcmp(out, want, 4) == 0);
	T_ASSERT(hex_decode("00fFaB19", out, 4) == 0);
	T_ASSERT(hex_decode("", out, 0) == 0);
	T_ASSERT(hex_decode("00ffab1", out, 4) == -1);	/* odd */
	T_ASSERT(hex_decode("00ffab190", out, 4) == -1);
	T_ASSERT(hex_decode("00ffab", out, 4) == -1);	/* short */
	T_ASSERT(hex_decode("00ffab1900", out, 4) == -1);	/* long */
	T_ASSERT(hex_decode("00ffag19", out, 4) == -1);
	T_ASSERT(hex_decode("0x00ffab", out, 4) == -1);
	T_ASSERT(hex_decode(" 0ffab19", out, 4) == -1);
	T_ASSERT(hex_decode("00ffab1-", out, 4) == -1);

	hex_encode(want, sizeof(want), hex, sizeof(hex));
	T_ASSERT(strcmp(hex, "00ffab19") == 0);
	T_ASSERT(hex_decode(hex, out, 4) == 0 && memcmp(out, want, 4) == 0);
	hex_encode(want, sizeof(want), hex, 5);	/* two bytes and NUL */
	T_ASSERT(strcmp(hex, "00ff") == 0);
}

static void
test_fmt_duration_size(void)
{
	char	 buf[32];

	fmt_duration(0, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "0s") == 0);
	fmt_duration(59, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "59s") == 0);
	fmt_duration(60, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "1m") == 0);
	fmt_duration(3 * 3600 + 61, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "3h1m1s") == 0);
	fmt_duration(30 * 86400 + 3600, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "30d1h") == 0);
	fmt_size(0, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "0B") == 0);
	fmt_size(1000, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "1000B") == 0);
	fmt_size(65536, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "64KiB") == 0);
	fmt_size(3ULL << 20, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "3MiB") == 0);
	fmt_size(1ULL << 40, buf, sizeof(buf));
	T_ASSERT(strcmp(buf, "1024GiB") == 0);
}

/* --- app_service.apps ---------------------------------------------------- */

#define APPS_HEAD	"version: v1\napp_service:\n  apps:\n"

/* The example: the fields of a kind: app resource, flat. */
static void
test_apps_good(void)
{
	const struct app_res	*a;

	T_GOOD(APPS_HEAD
	    "  - name: everything\n"
	    "    description: \"The reference test server\"\n"
	    "    labels: {env: dev, team: platform}\n"
	    "    uri: mcp+stdio://\n"
	    "    mcp:\n"
	    "      command: /usr/bin/node\n"
	    "      args: [\"/opt/mcp/everything/dist/index.js\", \"stdio\"]\n"
	    "      run_as_host_user: mcp-everything\n"
	    "      env: {LOG_LEVEL: info}\n"
	    "      cwd: /var/lib/mcp-everything\n"
	    "      sandbox:\n"
	    "        network: none\n"
	    "        read_only_paths: [/usr, /opt/mcp, /etc]\n"
	    "        writable_paths: [/var/lib/mcp-everything]\n"
	    "        memory_max: 512MiB\n"
	    "        tasks_max: 64\n"
	    "  - name: memory\n"
	    "    mcp: {command: /usr/bin/node, run_as_host_user: nobody}\n");
	T_ASSERT(conf.napps == 2);
	a = &conf.apps[0];
	T_ASSERT(strcmp(a->name, "everything") == 0 && a->from_config);
	T_ASSERT(a->nlabels == 2 && a->args.n == 2 && a->nenv == 1);
	T_ASSERT(a->sandbox.network == APP_NET_NONE);
	T_ASSERT(a->sandbox.memory_max == 512ULL << 20);
	T_ASSERT(a->init_timeout == RES_APP_INIT_TIMEOUT);
	a = &conf.apps[1];
	T_ASSERT(strcmp(a->name, "memory") == 0 && a->from_config);
	T_ASSERT(strcmp(a->uri, RES_APP_URI_STDIO) == 0);
	/* None, or an empty list. */
	T_GOOD("version: v1\napp_service:\n  apps:\n");
	T_ASSERT(conf.napps == 0 && conf.apps == NULL);
	T_GOOD("version: v1\napp_service:\n  apps: []\n");
	T_ASSERT(conf.napps == 0);
	config_free(&conf);
	T_ASSERT(conf.apps == NULL && conf.napps == 0);
}

static void
test_apps_bad(void)
{
	T_BAD(APPS_HEAD "  - name: a\n    mcp: {command: /bin/true, "
	    "run_as_host_user: x}\n  - name: a\n    mcp: {command: "
	    "/bin/false, run_as_host_user: x}\n", "6:5",
	    "app 'a' is in app_service.apps twice");
	T_BAD(APPS_HEAD "  - name: mcpgate-demo\n    mcp: {command: "
	    "/bin/true, run_as_host_user: x}\n", "4:11",
	    "name of the built-in demo server");
	T_BAD(APPS_HEAD "  - name: A\n    mcp: {command: /bin/true, "
	    "run_as_host_user: x}\n", "4:11", "must be lowercase letters");
	T_BAD(APPS_HEAD "  - mcp: {command: /bin/true, run_as_host_user: "
	    "x}\n", "4:5", "an app needs a name");
	T_BAD(APPS_HEAD "  - name: a\n", "4:5",
	    "app 'a' needs 'mcp' with a command and run_as_host_user");
	T_BAD(APPS_HEAD "  - name: a\n    mcp: {command: /bin/true, "
	    "run_as_host_user: root}\n", "5:49", "may not be root");
	T_BAD(APPS_HEAD "  - name: a\n    uri: http://h/mcp\n    mcp: "
	    "{command: /bin/true, run_as_host_user: x}\n", "5:10",
	    "needs the transport in its scheme");
	T_BAD(APPS_HEAD "  - name: a\n    spec: {}\n", "5:5",
	    "unknown key 'spec' in an app (expected name, description, "
	    "labels, uri, tls, rewrite, timeout or mcp)");
	T_BAD(APPS_HEAD "  - a\n", "4:5", "an app is a mapping");
	T_BAD("version: v1\napp_service:\n  apps: {a: b}\n", "3:9",
	    "'apps' must be a list of apps");
	T_BAD("version: v1\napp_service:\n  apps: []\n  apps: []\n", "4:3",
	    "duplicate key 'apps'");
	/* A refused file hands back no app. */
	T_ASSERT(conf.apps == NULL && conf.napps == 0);
	/* One bad app among good ones: only its error. */
	T_BAD(APPS_HEAD "  - name: a\n    mcp: {command: /bin/true, "
	    "run_as_host_user: x}\n  - name: b\n    mcp: {command: "
	    "bin, run_as_host_user: x}\n", "7:20", "'command' must be an "
	    "absolute path");
	T_ASSERT(conf.apps == NULL && conf.napps == 0);
}

/* HTTP and SSE apps: the example, flat, and what goes with what. */
static void
test_apps_http(void)
{
	const struct app_res	*a;

	T_GOOD(APPS_HEAD
	    "  - name: tickets\n"
	    "    description: \"Ticket system\"\n"
	    "    labels: {env: prod}\n"
	    "    uri: mcp+https://tickets.internal.example:8443/mcp\n"
	    "    tls:\n"
	    "      ca_file: /etc/mcpgate/tickets-ca.pem\n"
	    "      insecure_skip_verify: false\n"
	    "    rewrite:\n"
	    "      jwt_claims: roles-and-traits\n"
	    "      headers:\n"
	    "      - \"Authorization: Bearer {{internal.jwt}}\"\n"
	    "      - \"X-Mcpgate-User: {{internal.user}}\"\n"
	    "      - \"X-Team: {{external.team}}\"\n"
	    "    timeout: 30s\n"
	    "  - name: legacy\n"
	    "    uri: mcp+sse+http://127.0.0.1:3001/sse\n"
	    "  - name: local\n"
	    "    mcp: {command: /bin/true, run_as_host_user: x}\n");
	T_ASSERT(conf.napps == 3);
	a = &conf.apps[0];
	T_ASSERT(a->transport == APP_HTTP && a->from_config);
	T_ASSERT(a->remote.tls && a->remote.port == 8443);
	T_ASSERT(strcmp(a->remote.url,
	    "https://tickets.internal.example:8443/mcp") == 0);
	T_ASSERT(a->remote.headers.n == 3 && a->remote.timeout == 30000);
	T_ASSERT(a->command == NULL);
	a = &conf.apps[1];
	T_ASSERT(a->transport == APP_SSE && !a->remote.tls);
	T_ASSERT(a->remote.port == 3001 && a->remote.timeout == 60000);
	a = &conf.apps[2];
	T_ASSERT(a->transport == APP_STDIO && a->command != NULL);
	T_BAD(APPS_HEAD "  - name: a\n    uri: mcp+http://h/\n    mcp: "
	    "{command: /bin/true, run_as_host_user: x}\n", "6:10",
	    "an HTTP app has no mcp: block, it runs nowhere");
	T_BAD(APPS_HEAD "  - name: a\n    mcp: {command: /bin/true, "
	    "run_as_host_user: x}\n    timeout: 5s\n", "6:14",
	    "'timeout' is for HTTP and SSE apps");
	T_BAD(APPS_HEAD "  - name: a\n    uri: mcp+http://h/\n    tls: "
	    "{ca_file: /ca.pem}\n", "6:10", "'tls' is for an https server");
	T_BAD(APPS_HEAD "  - name: a\n    uri: mcp+https://u:p@h/\n", "5:10",
	    "credentials belong in rewrite.headers");
	T_BAD(APPS_HEAD "  - name: a\n    uri: mcp+https://h/\n    rewrite:\n"
	    "      headers: [\"Content-Type: x\"]\n", "7:17",
	    "header Content-Type is one the gateway sets itself");
	T_BAD(APPS_HEAD "  - name: a\n", "4:5", "app 'a' needs 'mcp' with a "
	    "command and run_as_host_user, or the uri of an HTTP server");
	T_ASSERT(conf.apps == NULL && conf.napps == 0);
	config_free(&conf);
}

/* CONF_MAXAPPS apps, then one more; each with the bounds of create. */
static void
test_apps_bounds(void)
{
	char	*text;
	size_t	 len = 256 * 1024, off;
	int	 i;

	if ((text = malloc(len)) == NULL)
		T_SKIP("out of memory");
	off = (size_t)snprintf(text, len, APPS_HEAD);
	for (i = 0; i < CONF_MAXAPPS; i++)
		off += (size_t)snprintf(text + off, len - off, "  - {name: "
		    "a%d, mcp: {command: /bin/true, run_as_host_user: x}}\n",
		    i);
	T_ASSERTF(parse(text) == 0, "%s", all_errors());
	T_ASSERT(conf.napps == CONF_MAXAPPS);
	snprintf(text + off, len - off, "  - {name: over, mcp: {command: "
	    "/bin/true, run_as_host_user: x}}\n");
	T_ASSERTF(parse(text) == -1 && errs.n == 1 &&
	    find_error("260:5", "more than 256 apps in app_service.apps") !=
	    -1, "%s", all_errors());
	/* 65 variables in env: more than an app may have. */
	off = (size_t)snprintf(text, len, APPS_HEAD "  - name: a\n    mcp:\n"
	    "      command: /bin/true\n      run_as_host_user: x\n"
	    "      env:\n");
	for (i = 0; i <= RES_ADMIN_MAXENV; i++)
		off += (size_t)snprintf(text + off, len - off,
		    "        V%d: x\n", i);
	T_ASSERTF(parse(text) == -1 && find_error("73:9", "more than 64 "
	    "entries in 'env', the most an app may have") != -1, "%s",
	    all_errors());
	free(text);
	config_free(&conf);
}

int
main(void)
{
	t_suite = "config";
	T_RUN(test_example);
	T_RUN(test_defaults);
	T_RUN(test_other_values);
	T_RUN(test_boundaries);
	T_RUN(test_public_addr);
	T_RUN(test_syntax_errors);
	T_RUN(test_structure_errors);
	T_RUN(test_unknown_keys);
	T_RUN(test_bad_values);
	T_RUN(test_listen_errors);
	T_RUN(test_many_errors);
	T_RUN(test_cross_checks);
	T_RUN(test_auth);
	T_RUN(test_empty_names);
	T_RUN(test_public_addr_empty_brackets);
	T_RUN(test_parse_file);
	T_RUN(test_parse_hostport);
	T_RUN(test_parse_duration);
	T_RUN(test_parse_size);
	T_RUN(test_parse_time);
	T_RUN(test_parse_time_signed_year);
	T_RUN(test_fmt_time_us);
	T_RUN(test_hex_decode);
	T_RUN(test_fmt_duration_size);
	T_RUN(test_apps_good);
	T_RUN(test_apps_bad);
	T_RUN(test_apps_http);
	T_RUN(test_apps_bounds);
	return (t_done());
}
