/*
 * The configuration file.  libyaml builds the document; a table of
 * sections and keys says what each value must be.  Each problem is
 * reported with its file, line and column, and parsing carries on so that
 * one run shows every error.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <yaml.h>

#include "config.h"
#include "log.h"
#include "resource.h"
#include "util.h"
#include "wire.h"

enum key_type {
	K_NAME,		/* the gateway's name: letters, digits, . _ - */
	K_USER,		/* a system user name */
	K_PATH,		/* an absolute path */
	K_SOCKPATH,	/* an absolute path that fits a sockaddr_un */
	K_BOOL,
	K_ENUM,
	K_DURATION,
	K_SIZE,
	K_UINT,
	K_LISTEN,	/* host:port, or a list of them */
	K_PUBADDR,	/* host or host:port, empty allowed */
	K_APPS,		/* a list of apps, as kind: app resources read */
	K_SYSLOG,	/* audit.syslog, a mapping of its own keys */
};

struct enum_val {
	const char	*name;
	int		 value;
};

struct conf_key {
	const char		*name;
	enum key_type		 type;
	size_t			 off;
	size_t			 size;
	uint64_t		 min;
	uint64_t		 max;
	const struct enum_val	*vals;
};

struct conf_section {
	const char		*name;
	const struct conf_key	*keys;
};

struct conf_ctx {
	struct ydoc		 y;
	struct mcpgated_conf	*conf;
};

#define OFF(f)	offsetof(struct mcpgated_conf, f)
#define SZ(f)	sizeof(((struct mcpgated_conf *)0)->f)

static const struct enum_val log_levels[] = {
	{ "debug", LOG_LVL_DEBUG }, { "info", LOG_LVL_INFO },
	{ "warning", LOG_LVL_WARNING }, { "error", LOG_LVL_ERROR },
	{ NULL, 0 }
};

static const struct enum_val fsync_modes[] = {
	{ "always", AUDIT_FSYNC_ALWAYS }, { "batch", AUDIT_FSYNC_BATCH },
	{ "none", AUDIT_FSYNC_NONE }, { NULL, 0 }
};

static const struct enum_val failure_modes[] = {
	{ "deny", AUDIT_FAIL_DENY }, { "allow", AUDIT_FAIL_ALLOW },
	{ NULL, 0 }
};

static const struct conf_key keys_mcpgated[] = {
	{ "user", K_USER, OFF(user), SZ(user), 0, 0, NULL },
	{ "audit_user", K_USER, OFF(audit_user), SZ(audit_user), 0, 0, NULL },
	{ "resolver_user", K_USER, OFF(resolver_user), SZ(resolver_user), 0, 0,
	    NULL },
	{ "chroot", K_PATH, OFF(chroot), SZ(chroot), 0, 0, NULL },
	{ "state_dir", K_PATH, OFF(state_dir), SZ(state_dir), 0, 0, NULL },
	{ "control_socket", K_SOCKPATH, OFF(control_socket),
	    SZ(control_socket), 0, 0, NULL },
	{ "log_level", K_ENUM, OFF(log_level), 0, 0, 0, log_levels },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct conf_key keys_proxy[] = {
	{ "enabled", K_BOOL, OFF(proxy_enabled), 0, 0, 0, NULL },
	{ "name", K_NAME, OFF(name), SZ(name), 0, 0, NULL },
	{ "listen_addr", K_LISTEN, 0, 0, 0, 0, NULL },
	{ "public_addr", K_PUBADDR, OFF(public_addr), SZ(public_addr), 0, 0,
	    NULL },
	{ "cert_ttl", K_DURATION, OFF(cert_ttl), 0, 60 * 1000ULL,
	    30 * 86400 * 1000ULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct conf_key keys_app[] = {
	{ "enabled", K_BOOL, OFF(app_enabled), 0, 0, 0, NULL },
	{ "mcp_demo_server", K_BOOL, OFF(mcp_demo_server), 0, 0, 0, NULL },
	{ "apps", K_APPS, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct enum_val syslog_facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 }, { NULL, 0 }
};

static const struct conf_key keys_audit_syslog[] = {
	{ "enabled", K_BOOL, OFF(audit_syslog), 0, 0, 0, NULL },
	{ "facility", K_ENUM, OFF(audit_syslog_facility), 0, 0, 0,
	    syslog_facilities },
	{ "tag", K_NAME, OFF(audit_syslog_tag), SZ(audit_syslog_tag), 0, 0,
	    NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct conf_section section_audit_syslog = {
	"audit.syslog", keys_audit_syslog
};

static const struct conf_key keys_audit[] = {
	{ "dir", K_PATH, OFF(audit_dir), SZ(audit_dir), 0, 0, NULL },
	{ "fsync", K_ENUM, OFF(audit_fsync), 0, 0, 0, fsync_modes },
	{ "max_file_size", K_SIZE, OFF(audit_max_file_size), 0,
	    64ULL * 1024, 1ULL << 40, NULL },
	{ "on_failure", K_ENUM, OFF(audit_on_failure), 0, 0, 0,
	    failure_modes },
	{ "syslog", K_SYSLOG, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct conf_key keys_auth[] = {
	{ "password_min_length", K_UINT, OFF(password_min_length), 0, 8, 256,
	    NULL },
	{ "throttle_failures", K_UINT, OFF(throttle_failures), 0, 1, 1000,
	    NULL },
	{ "throttle_prefix_failures", K_UINT, OFF(throttle_prefix_failures),
	    0, 1, 1000000, NULL },
	{ "throttle_delay", K_DURATION, OFF(throttle_delay), 0, 100,
	    3600 * 1000ULL, NULL },
	{ "throttle_max_delay", K_DURATION, OFF(throttle_max_delay), 0, 1000,
	    86400 * 1000ULL, NULL },
	{ "throttle_entries", K_UINT, OFF(throttle_entries), 0, 16, 1000000,
	    NULL },
	{ "lock_failures", K_UINT, OFF(lock_failures), 0, 1, 1000000, NULL },
	{ "lock_prefixes", K_UINT, OFF(lock_prefixes), 0, 1, CONF_LOCK_PREFIXES,
	    NULL },
	{ "lock_duration", K_DURATION, OFF(lock_duration), 0, 1000,
	    30 * 86400 * 1000ULL, NULL },
	{ "failure_memory", K_DURATION, OFF(failure_memory), 0, 60 * 1000ULL,
	    7 * 86400 * 1000ULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

/* Keys that are gone, and what took their place. */
static const struct {
	const char	*section;
	const char	*key;
	const char	*instead;
} removed_keys[] = {
	{ "auth", "lockout_user_failures", "throttle_failures and "
	    "lock_failures" },
	{ "auth", "lockout_address_failures", "throttle_prefix_failures" },
	{ "auth", "lockout_window", "failure_memory" },
	{ "auth", "lockout_duration", "throttle_max_delay and lock_duration" },
	{ NULL, NULL, NULL }
};

static const struct conf_key keys_limits[] = {
	{ "max_message_size", K_SIZE, OFF(max_message_size), 0,
	    64ULL * 1024, 256ULL * 1024 * 1024, NULL },
	{ "max_connections", K_UINT, OFF(max_connections), 0, 1, 1000000,
	    NULL },
	{ "handshake_timeout", K_DURATION, OFF(handshake_timeout), 0, 100,
	    300 * 1000ULL, NULL },
	{ "max_buffered", K_SIZE, OFF(max_buffered), 0, 1024ULL * 1024,
	    1ULL << 40, NULL },
	{ "max_json_values", K_UINT, OFF(max_json_values), 0, 100,
	    100000000, NULL },
	{ "max_sessions_per_user", K_UINT, OFF(max_sessions_per_user), 0, 1,
	    1000000, NULL },
	{ "max_connections_per_address", K_UINT,
	    OFF(max_connections_per_address), 0, 1, 1000000, NULL },
	{ "init_timeout", K_DURATION, OFF(init_timeout), 0, 100,
	    3600 * 1000ULL, NULL },
	/* 0: sessions may stay idle for as long as they like. */
	{ "idle_timeout", K_DURATION, OFF(idle_timeout), 0, 0,
	    30 * 86400 * 1000ULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct conf_section sections[] = {
	{ "mcpgated", keys_mcpgated },
	{ "proxy_service", keys_proxy },
	{ "app_service", keys_app },
	{ "audit", keys_audit },
	{ "auth", keys_auth },
	{ "limits", keys_limits },
	{ NULL, NULL }
};

void
config_defaults(struct mcpgated_conf *c)
{
	memset(c, 0, sizeof(*c));
	strlcpy(c->path, CONF_DEFAULT_PATH, sizeof(c->path));
	strlcpy(c->user, "_mcpgate", sizeof(c->user));
	strlcpy(c->audit_user, "_mcpgate-audit", sizeof(c->audit_user));
	strlcpy(c->resolver_user, "_mcpgate-dns", sizeof(c->resolver_user));
	strlcpy(c->chroot, "/var/empty", sizeof(c->chroot));
	strlcpy(c->state_dir, "/var/lib/mcpgate", sizeof(c->state_dir));
	strlcpy(c->control_socket, "/run/mcpgated.sock",
	    sizeof(c->control_socket));
	c->log_level = LOG_LVL_INFO;
	c->proxy_enabled = 1;
	strlcpy(c->name, "mcpgate", sizeof(c->name));
	c->nlisten = 1;
	strlcpy(c->listen[0].text, "127.0.0.1:" WIRE_DEFAULT_PORT,
	    sizeof(c->listen[0].text));
	config_parse_hostport(c->listen[0].text, &c->listen[0].ss,
	    &c->listen[0].sslen);
	c->cert_ttl = 12 * 3600 * 1000ULL;
	c->app_enabled = 1;
	c->mcp_demo_server = 0;
	strlcpy(c->audit_dir, "/var/log/mcpgate", sizeof(c->audit_dir));
	c->audit_fsync = AUDIT_FSYNC_ALWAYS;
	c->audit_max_file_size = 64ULL * 1024 * 1024;
	c->audit_on_failure = AUDIT_FAIL_DENY;
	c->audit_syslog = 0;
	c->audit_syslog_facility = LOG_AUTHPRIV;
	strlcpy(c->audit_syslog_tag, "mcpgated-audit",
	    sizeof(c->audit_syslog_tag));
	c->password_min_length = 12;
	c->throttle_failures = 3;
	c->throttle_prefix_failures = 30;
	c->throttle_delay = 1000;
	c->throttle_max_delay = 5 * 60 * 1000ULL;
	c->throttle_entries = 16384;
	c->lock_failures = 100;
	c->lock_prefixes = 5;
	c->lock_duration = 3600 * 1000ULL;
	c->failure_memory = 3600 * 1000ULL;
	c->max_message_size = 4ULL * 1024 * 1024;
	c->max_connections = 10000;
	c->handshake_timeout = 10 * 1000;
	c->max_buffered = 256ULL * 1024 * 1024;
	c->max_json_values = 100000;
	c->max_sessions_per_user = 64;
	c->max_connections_per_address = 64;
	c->init_timeout = 30 * 1000;
	c->idle_timeout = 0;
}

/* What a parsed configuration holds besides itself: its apps. */
void
config_free(struct mcpgated_conf *c)
{
	size_t	 i;

	for (i = 0; i < c->napps; i++)
		app_res_free(&c->apps[i]);
	free(c->apps);
	c->apps = NULL;
	c->napps = 0;
}

const char *
config_fsync_name(int mode)
{
	const struct enum_val	*v;

	for (v = fsync_modes; v->name != NULL; v++)
		if (v->value == mode)
			return (v->name);
	return ("?");
}

const char *
config_facility_name(int facility)
{
	const struct enum_val	*v;

	for (v = syslog_facilities; v->name != NULL; v++)
		if (v->value == facility)
			return (v->name);
	return ("?");
}

const char *
config_log_level_name(int level)
{
	const struct enum_val	*v;

	for (v = log_levels; v->name != NULL; v++)
		if (v->value == level)
			return (v->name);
	return ("?");
}

/*
 * A numeric listen address: "192.0.2.1:3080" or "[2001:db8::1]:3080".
 * Port 0 asks the kernel for any free port.
 */
int
config_parse_hostport(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct addrinfo	 hints, *res;
	char		 host[CONF_ADDRLEN];
	const char	*port, *end;
	size_t		 hlen;
	unsigned long	 pnum;
	char		*ep;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return (-1);
		hlen = (size_t)(end - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return (-1);
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port = end + 2;
	} else {
		if ((end = strrchr(s, ':')) == NULL || strchr(s, ':') != end)
			return (-1);
		hlen = (size_t)(end - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return (-1);
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		port = end + 1;
	}
	if (!isdigit((unsigned char)port[0]))
		return (-1);
	errno = 0;
	pnum = strtoul(port, &ep, 10);
	if (*ep != '\0' || errno != 0 || pnum > 65535)
		return (-1);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = s[0] == '[' ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return (-1);
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return (-1);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* host, host:port, [v6] or [v6]:port; host a DNS name or an address. */
static int
valid_pubaddr(const char *s)
{
	const char	*p = s, *bracket, *port;
	size_t		 n;

	if (*s == '\0')
		return (1);
	if (*p == '[') {
		if ((bracket = strchr(p, ']')) == NULL || bracket == p + 1 ||
		    memchr(p, ':', (size_t)(bracket - p)) == NULL)
			return (0);
		for (p++; p < bracket; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				return (0);
		p = bracket + 1;
	} else {
		for (n = 0; *p != '\0' && *p != ':'; p++, n++)
			if (!name_char((unsigned char)*p, HOST_PUNCT))
				return (0);
		if (n == 0 || n > 253)
			return (0);
	}
	if (*p == '\0')
		return (1);
	if (*p++ != ':')
		return (0);
	for (port = p, n = 0; *p != '\0'; p++, n++)
		if (!isdigit((unsigned char)*p))
			return (0);
	return (n > 0 && n <= 5 && atoi(port) <= 65535);
}

static int
app_config_find(const struct mcpgated_conf *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->napps; i++)
		if (strcmp(c->apps[i].name, name) == 0)
			return (1);
	return (0);
}

static void
set_listen(struct conf_ctx *ctx, yaml_node_t *n)
{
	struct ydoc		*y = &ctx->y;
	struct mcpgated_conf	*c = ctx->conf;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*v;
	int			 count = 0;

	c->nlisten = 0;
	if (n->type == YAML_MAPPING_NODE) {
		ydoc_error(y, n, "'listen_addr' must be host:port or a "
		    "list of them");
		return;
	}
	if (n->type == YAML_SCALAR_NODE) {
		it = NULL;
		item = n;
	} else {
		it = n->data.sequence.items.start;
		if (it == n->data.sequence.items.top) {
			ydoc_error(y, n, "'listen_addr' is an empty list");
			return;
		}
		item = NULL;
	}
	for (;;) {
		if (it != NULL) {
			if (it == n->data.sequence.items.top)
				break;
			item = yaml_document_get_node(ctx->y.doc, *it++);
		}
		if (item == NULL)
			break;
		if ((v = ydoc_scalar(y, item, "listen_addr")) == NULL)
			goto next;
		if (count == CONF_MAXLISTEN) {
			ydoc_error(y, item, "more than %d listen addresses",
			    CONF_MAXLISTEN);
			return;
		}
		if (strlen(v) >= sizeof(c->listen[0].text) ||
		    config_parse_hostport(v, &c->listen[count].ss,
		    &c->listen[count].sslen) == -1) {
			ydoc_error(y, item, "listen_addr '%s' is not a "
			    "numeric host:port such as 127.0.0.1:3080 or "
			    "[::1]:3080", v);
			goto next;
		}
		strlcpy(c->listen[count].text, v, sizeof(c->listen[0].text));
		count++;
 next:
		if (it == NULL)
			break;
	}
	c->nlisten = count;
}

/*
 * app_service.apps: each entry read as a kind: app resource's fields
 * are (see mcpgate-roles(5)), names unique.
 */
static void
set_apps(struct conf_ctx *ctx, yaml_node_t *n)
{
	struct ydoc		*y = &ctx->y;
	struct mcpgated_conf	*c = ctx->conf;
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	struct app_res		 app, *nv;

	if (ydoc_is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		ydoc_error(y, n, "'apps' must be a list of apps");
		return;
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((item = ydoc_node(y, *it)) == NULL)
			break;
		if (c->napps == CONF_MAXAPPS) {
			ydoc_error(y, item, "more than %d apps in "
			    "app_service.apps", CONF_MAXAPPS);
			return;
		}
		if (resource_app_parse(y, item, &app) == -1)
			continue;
		if (app_config_find(c, app.name)) {
			ydoc_error(y, item, "app '%s' is in app_service.apps "
			    "twice", app.name);
			app_res_free(&app);
			continue;
		}
		if ((nv = reallocarray(c->apps, c->napps + 1,
		    sizeof(*nv))) == NULL) {
			ydoc_error(y, item, "out of memory");
			app_res_free(&app);
			return;
		}
		c->apps = nv;
		c->apps[c->napps++] = app;
	}
}

static void	 parse_section(struct conf_ctx *, const struct conf_section *,
		    yaml_node_t *);

static void
set_key(struct conf_ctx *ctx, const struct conf_key *k, yaml_node_t *n)
{
	struct ydoc		*y = &ctx->y;
	struct mcpgated_conf	*c = ctx->conf;
	char			*field = (char *)c + k->off;
	const struct enum_val	*ev;
	const char		*v, *p;
	uint64_t		 u;
	char			*ep, lim1[32], lim2[32];

	if (k->type == K_LISTEN) {
		set_listen(ctx, n);
		return;
	}
	if (k->type == K_APPS) {
		set_apps(ctx, n);
		return;
	}
	if (k->type == K_SYSLOG) {
		parse_section(ctx, &section_audit_syslog, n);
		return;
	}
	if ((v = ydoc_scalar(y, n, k->name)) == NULL)
		return;
	if (ydoc_is_null(n) && k->type != K_PUBADDR) {
		ydoc_error(y, n, "'%s' needs a value", k->name);
		return;
	}

	switch (k->type) {
	case K_NAME:
		for (p = v; *p != '\0'; p++)
			if (!name_char((unsigned char)*p, NAME_PUNCT))
				break;
		if (*p != '\0' || v[0] == '\0' || strlen(v) >= k->size) {
			ydoc_error(y, n, "'%s' must be at most %zu letters, "
			    "digits, '.', '_' or '-'", k->name, k->size - 1);
			return;
		}
		strlcpy(field, v, k->size);
		break;
	case K_USER:
		for (p = v; *p != '\0'; p++)
			if (!name_char((unsigned char)*p, NAME_PUNCT))
				break;
		if (*p != '\0' || v[0] == '-' || v[0] == '\0' ||
		    strlen(v) >= k->size) {
			ydoc_error(y, n, "'%s' is not a valid user name: %s",
			    k->name, v);
			return;
		}
		strlcpy(field, v, k->size);
		break;
	case K_PATH:
	case K_SOCKPATH:
		if (v[0] != '/') {
			ydoc_error(y, n, "'%s' must be an absolute path: %s",
			    k->name, v);
			return;
		}
		if (strlen(v) >= k->size) {
			ydoc_error(y, n, "'%s' is too long (at most %zu "
			    "bytes)", k->name, k->size - 1);
			return;
		}
		strlcpy(field, v, k->size);
		break;
	case K_PUBADDR:
		if (ydoc_is_null(n))
			v = "";
		if (strlen(v) >= k->size || !valid_pubaddr(v)) {
			ydoc_error(y, n, "'%s' must be host or host:port: %s",
			    k->name, v);
			return;
		}
		strlcpy(field, v, k->size);
		break;
	case K_BOOL:
		if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			v = "";
		if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 ||
		    strcmp(v, "TRUE") == 0)
			*(int *)field = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 ||
		    strcmp(v, "FALSE") == 0)
			*(int *)field = 0;
		else
			ydoc_error(y, n, "'%s' must be true or false",
			    k->name);
		break;
	case K_ENUM:
		for (ev = k->vals; ev->name != NULL; ev++) {
			if (strcmp(v, ev->name) == 0) {
				*(int *)field = ev->value;
				return;
			}
		}
		{
			char	 choices[128] = "";

			for (ev = k->vals; ev->name != NULL; ev++) {
				if (choices[0] != '\0')
					strlcat(choices, " | ",
					    sizeof(choices));
				strlcat(choices, ev->name, sizeof(choices));
			}
			ydoc_error(y, n, "'%s' must be one of %s, not '%s'",
			    k->name, choices, v);
		}
		break;
	case K_DURATION:
		if (k->min == 0 && strcmp(v, "0") == 0) {
			*(uint64_t *)field = 0;
			break;
		}
		if (parse_duration(v, &u) == -1) {
			ydoc_error(y, n, "'%s' must be a duration such as "
			    "10s, 30m or 12h, not '%s'", k->name, v);
			return;
		}
		if (u < k->min || u > k->max) {
			fmt_duration(k->min / 1000, lim1, sizeof(lim1));
			fmt_duration(k->max / 1000, lim2, sizeof(lim2));
			if (k->min < 1000)
				snprintf(lim1, sizeof(lim1), "%llums",
				    (unsigned long long)k->min);
			ydoc_error(y, n, "'%s' must be between %s and %s",
			    k->name, lim1, lim2);
			return;
		}
		*(uint64_t *)field = u;
		break;
	case K_SIZE:
		if (parse_size(v, &u) == -1) {
			ydoc_error(y, n, "'%s' must be a size such as 64KiB "
			    "or 4MiB, not '%s'", k->name, v);
			return;
		}
		if (u < k->min || u > k->max) {
			fmt_size(k->min, lim1, sizeof(lim1));
			fmt_size(k->max, lim2, sizeof(lim2));
			ydoc_error(y, n, "'%s' must be between %s and %s",
			    k->name, lim1, lim2);
			return;
		}
		*(uint64_t *)field = u;
		break;
	case K_UINT:
		errno = 0;
		u = strtoull(v, &ep, 10);
		if (!isdigit((unsigned char)v[0]) || *ep != '\0' ||
		    errno != 0 || u < k->min || u > k->max) {
			ydoc_error(y, n, "'%s' must be a whole number from "
			    "%llu to %llu, not '%s'", k->name,
			    (unsigned long long)k->min,
			    (unsigned long long)k->max, v);
			return;
		}
		*(uint64_t *)field = u;
		break;
	case K_LISTEN:
	case K_APPS:
	case K_SYSLOG:
		break;
	}
}

static void
parse_section(struct conf_ctx *ctx, const struct conf_section *sec,
    yaml_node_t *map)
{
	struct ydoc		*y = &ctx->y;
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn;
	const struct conf_key	*k;
	const char		*name;
	uint32_t		 seen = 0;
	int			 i;

	if (ydoc_is_null(map))
		return;
	if (map->type != YAML_MAPPING_NODE) {
		ydoc_error(y, map, "section '%s' must be a mapping of keys",
		    sec->name);
		return;
	}
	for (pair = map->data.mapping.pairs.start;
	    pair < map->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(ctx->y.doc, pair->key);
		vn = yaml_document_get_node(ctx->y.doc, pair->value);
		if (kn == NULL || vn == NULL)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			ydoc_error(y, kn, "keys in '%s' must be names",
			    sec->name);
			continue;
		}
		name = (const char *)kn->data.scalar.value;
		for (i = 0, k = sec->keys; k->name != NULL; k++, i++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL) {
			for (i = 0; removed_keys[i].key != NULL; i++)
				if (strcmp(removed_keys[i].section,
				    sec->name) == 0 &&
				    strcmp(removed_keys[i].key, name) == 0)
					break;
			if (removed_keys[i].key != NULL)
				ydoc_error(y, kn, "'%s' in section '%s' is "
				    "gone: use %s (see mcpgated.conf(5))",
				    name, sec->name, removed_keys[i].instead);
			else
				ydoc_error(y, kn, "unknown key '%s' in "
				    "section '%s'", name, sec->name);
			continue;
		}
		if (seen & (1U << i)) {
			ydoc_error(y, kn, "duplicate key '%s' in section "
			    "'%s'", name, sec->name);
			continue;
		}
		seen |= 1U << i;
		set_key(ctx, k, vn);
	}
}

static void
parse_root(struct conf_ctx *ctx, yaml_node_t *root)
{
	struct ydoc		*y = &ctx->y;
	const struct conf_section	*sec;
	yaml_node_pair_t		*pair;
	yaml_node_t			*kn, *vn;
	const char			*name, *v;
	uint32_t			 seen = 0;
	int				 i, have_version = 0;

	if (root->type != YAML_MAPPING_NODE) {
		ydoc_error(y, root, "the configuration must be a mapping "
		    "that starts with 'version: v1'");
		return;
	}
	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(ctx->y.doc, pair->key);
		vn = yaml_document_get_node(ctx->y.doc, pair->value);
		if (kn == NULL || vn == NULL)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			ydoc_error(y, kn, "top-level keys must be names");
			continue;
		}
		name = (const char *)kn->data.scalar.value;
		if (strcmp(name, "version") == 0) {
			if (have_version++) {
				ydoc_error(y, kn, "duplicate key 'version'");
				continue;
			}
			if ((v = ydoc_scalar(y, vn, "version")) != NULL &&
			    strcmp(v, "v1") != 0)
				ydoc_error(y, vn, "unsupported version '%s' "
				    "(this mcpgated reads v1)", v);
			continue;
		}
		for (i = 0, sec = sections; sec->name != NULL; sec++, i++)
			if (strcmp(sec->name, name) == 0)
				break;
		if (sec->name == NULL) {
			ydoc_error(y, kn, "unknown section '%s' (expected "
			    "version, mcpgated, proxy_service, app_service, "
			    "audit, auth or limits)", name);
			continue;
		}
		if (seen & (1U << i)) {
			ydoc_error(y, kn, "duplicate section '%s'", name);
			continue;
		}
		seen |= 1U << i;
		parse_section(ctx, sec, vn);
	}
	if (!have_version)
		ydoc_error(y, root, "missing 'version: v1'");
}

/* Checks that need more than one key. */
static void
check_whole(struct conf_ctx *ctx)
{
	struct mcpgated_conf	*c = ctx->conf;

	/* An empty list was reported where it was written. */
	if (c->proxy_enabled && c->nlisten == 0 && ctx->y.errs->n == 0)
		ydoc_errors_add(ctx->y.errs, "%s: proxy_service is enabled but "
		    "has no listen_addr", ctx->y.file);
	if (c->max_buffered < c->max_message_size)
		ydoc_errors_add(ctx->y.errs, "%s: limits.max_buffered must be "
		    "at least limits.max_message_size, or no message of the "
		    "largest size could ever be received", ctx->y.file);
	if (strcmp(c->user, c->audit_user) == 0)
		ydoc_errors_add(ctx->y.errs, "%s: 'user' and 'audit_user' must "
		    "differ, so that a compromised netd or mcpd cannot touch "
		    "the audit log", ctx->y.file);
	if (strcmp(c->resolver_user, c->user) == 0 ||
	    strcmp(c->resolver_user, c->audit_user) == 0)
		ydoc_errors_add(ctx->y.errs, "%s: 'resolver_user' must differ "
		    "from 'user' and 'audit_user': the resolver reads files "
		    "and sends packets that netd and auditd may not",
		    ctx->y.file);
	if (c->throttle_max_delay < c->throttle_delay)
		ydoc_errors_add(ctx->y.errs, "%s: auth: 'throttle_max_delay' "
		    "must be at least 'throttle_delay'", ctx->y.file);
	if (c->failure_memory <= c->throttle_max_delay)
		ydoc_errors_add(ctx->y.errs, "%s: auth: 'failure_memory' must "
		    "be longer than 'throttle_max_delay', or failures would "
		    "be forgotten before their delay ends", ctx->y.file);
}

/*
 * Parse a configuration held in memory; name is used in messages.
 * Returns 0 and fills conf, or -1 with errs filled.
 */
int
config_parse_buffer(const char *name, const char *buf, size_t len,
    struct mcpgated_conf *conf, struct conf_errors *errs)
{
	yaml_parser_t		 parser;
	yaml_document_t		 doc, extra;
	yaml_node_t		*root;
	struct conf_ctx		 ctx;
	int			 more;

	memset(errs, 0, sizeof(*errs));
	config_defaults(conf);
	strlcpy(conf->path, name, sizeof(conf->path));

	if (!yaml_parser_initialize(&parser)) {
		ydoc_errors_add(errs, "%s: out of memory", name);
		return (-1);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ydoc_syntax_error(&parser, name, buf, len, errs);
		yaml_parser_delete(&parser);
		return (-1);
	}
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		ydoc_errors_add(errs, "%s:1:1: the file is empty; it needs at "
		    "least 'version: v1'", name);
		yaml_document_delete(&doc);
		yaml_parser_delete(&parser);
		return (-1);
	}

	ctx.y.file = name;
	ctx.y.doc = &doc;
	ctx.y.errs = errs;
	ctx.conf = conf;
	parse_root(&ctx, root);

	if (!yaml_parser_load(&parser, &extra)) {
		ydoc_syntax_error(&parser, name, buf, len, errs);
	} else {
		more = yaml_document_get_root_node(&extra) != NULL;
		if (more)
			ydoc_errors_add(errs, "%s:%zu:%zu: only one YAML "
			    "document is allowed", name, extra.start_mark.line + 1,
			    extra.start_mark.column + 1);
		yaml_document_delete(&extra);
	}
	check_whole(&ctx);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (errs->n > 0) {
		config_free(conf);
		return (-1);
	}
	return (0);
}

int
config_parse_file(const char *path, struct mcpgated_conf *conf,
    struct conf_errors *errs)
{
	char	*buf;
	size_t	 len;
	int	 ret, saved;

	memset(errs, 0, sizeof(*errs));
	if (read_file(path, CONF_MAXFILE, &buf, &len) == -1) {
		saved = errno;
		config_defaults(conf);
		ydoc_errors_add(errs, "%s: %s", path, saved == EFBIG ?
		    "larger than 1 MiB" : saved == EINVAL ?
		    "not a regular file" : strerror(saved));
		return (-1);
	}
	ret = config_parse_buffer(path, buf, len, conf, errs);
	free(buf);
	return (ret);
}

/*
 * Writing the file back, for mcpgated configure.  libyaml's emitter
 * cannot write comments, which are the point of that file, so the
 * values are written here: plain when YAML reads the text back as
 * itself, double-quoted otherwise, with what YAML would not read back as
 * itself escaped: controls, NEL, the line and paragraph separators, the
 * BOM.  s must be UTF-8 (the caller checks);
 * returns a string to free, or NULL when out of memory.
 */
char *
config_yaml_scalar(const char *s)
{
	static const char *const words[] = { "null", "true", "false", "yes",
	    "no", "on", "off", "y", "n", NULL };
	const unsigned char	*p;
	char			*out, *o;
	size_t			 i, len = strlen(s);
	int			 plain;

	plain = len > 0 && (isalnum((unsigned char)s[0]) || s[0] == '/' ||
	    s[0] == '_' || s[0] == '.') && s[len - 1] != ':' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._/:@+-") == len;
	for (i = 0; plain && words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			plain = 0;
	if (plain)
		return (strdup(s));
	/* At worst \xNN for each byte, the quotes and the NUL. */
	if (len > (SIZE_MAX - 3) / 4 || (out = malloc(len * 4 + 3)) == NULL)
		return (NULL);
	o = out;
	*o++ = '"';
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f)
			o += snprintf(o, 5, "\\x%02x", *p);
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* C1 controls: NEL (U+0085) would be a line break. */
			o += snprintf(o, 7, "\\u%04x", p[1]);
			p++;
		} else if ((p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9)) || (p[0] == 0xef &&
		    ((p[1] == 0xbb && p[2] == 0xbf) ||
		    (p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))))) {
			/* Line and paragraph separators, BOM, noncharacters. */
			o += snprintf(o, 7, "\\u%04x", (p[0] & 0x0f) << 12 |
			    (p[1] & 0x3f) << 6 | (p[2] & 0x3f));
			p += 2;
		} else
			*o++ = (char)*p;
	}
	*o++ = '"';
	*o = '\0';
	return (out);
}

/*
 * A flow collection written to fp, a memstream of *s: *s once fp is
 * closed, or NULL when out of memory or not whole.
 */
static char *
config_flow_end(FILE *fp, char **s, int whole)
{
	if (fclose(fp) == EOF || !whole) {
		free(*s);
		return (NULL);
	}
	return (*s);
}

/* The value of key k in c, as mcpgated.conf spells it; NULL: no memory. */
static char *
config_key_text(const struct mcpgated_conf *c, const struct conf_key *k)
{
	const char		*field = (const char *)c + k->off;
	const struct enum_val	*ev;
	const struct conf_key	*sk;
	uint64_t		 u;
	char			 buf[64], *s = NULL, *q;
	FILE			*fp;
	size_t			 len;
	int			 i;

	switch (k->type) {
	case K_NAME:
	case K_USER:
	case K_PATH:
	case K_SOCKPATH:
	case K_PUBADDR:
		return (config_yaml_scalar(field));
	case K_BOOL:
		return (strdup(*(const int *)field ? "true" : "false"));
	case K_ENUM:
		for (ev = k->vals; ev->name != NULL; ev++)
			if (ev->value == *(const int *)field)
				return (strdup(ev->name));
		return (NULL);
	case K_DURATION:
		u = *(const uint64_t *)field;
		if (u == 0)
			strlcpy(buf, "0", sizeof(buf));
		else if (u % 1000 != 0)
			snprintf(buf, sizeof(buf), "%llums",
			    (unsigned long long)u);
		else
			fmt_duration(u / 1000, buf, sizeof(buf));
		return (strdup(buf));
	case K_SIZE:
		fmt_size(*(const uint64_t *)field, buf, sizeof(buf));
		return (strdup(buf));
	case K_UINT:
		snprintf(buf, sizeof(buf), "%llu",
		    (unsigned long long)*(const uint64_t *)field);
		return (strdup(buf));
	case K_LISTEN:
		if (c->nlisten == 1)
			return (config_yaml_scalar(c->listen[0].text));
		/* A flow sequence: [a, b]. */
		if ((fp = open_memstream(&s, &len)) == NULL)
			return (NULL);
		for (i = 0; i < c->nlisten; i++) {
			if ((q = config_yaml_scalar(c->listen[i].text)) == NULL)
				break;
			fprintf(fp, "%s%s", i > 0 ? ", " : "[", q);
			free(q);
		}
		fputc(']', fp);
		return (config_flow_end(fp, &s, i == c->nlisten));
	case K_SYSLOG:
		/* Its own keys, as a flow mapping: {enabled: false, ...}. */
		if ((fp = open_memstream(&s, &len)) == NULL)
			return (NULL);
		for (i = 0, sk = keys_audit_syslog; sk->name != NULL;
		    sk++, i++) {
			if ((q = config_key_text(c, sk)) == NULL)
				break;
			fprintf(fp, "%s%s: %s", i > 0 ? ", " : "{", sk->name, q);
			free(q);
		}
		fputc('}', fp);
		return (config_flow_end(fp, &s, sk->name == NULL));
	case K_APPS:
		break;
	}
	return (NULL);
}

/*
 * Each key of the tables, in their order, with its value in c as the
 * file would spell it: what mcpgated configure writes, so that a key
 * added to a table is in its output.  The apps are the caller's to
 * write: fn gets NULL for them.  Returns -1 when out of memory or when
 * fn does.
 */
int
config_foreach_key(const struct mcpgated_conf *c,
    int (*fn)(void *, const char *, const char *, const char *), void *arg)
{
	const struct conf_section	*sec;
	const struct conf_key		*k;
	char				*v;
	int				 ret;

	for (sec = sections; sec->name != NULL; sec++) {
		for (k = sec->keys; k->name != NULL; k++) {
			v = NULL;
			if (k->type != K_APPS &&
			    (v = config_key_text(c, k)) == NULL)
				return (-1);
			ret = fn(arg, sec->name, k->name, v);
			free(v);
			if (ret == -1)
				return (-1);
		}
	}
	return (0);
}
