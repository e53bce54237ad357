/*
 * The Prometheus text exposition format, version 0.0.4, of the daemon's
 * status answer (privsep/control.c), for mcpgatectl status --format
 * prometheus and node_exporter's textfile collector.  Written here:
 * Debian has no C library for it, and the format is a few rules: each
 * family's # HELP and # TYPE once, before its samples; names
 * [a-zA-Z_:][a-zA-Z0-9_:]*; label values with \, " and newline escaped;
 * counters named _total, in base units (bytes, seconds).
 *
 * Every label comes from a fixed set (proto.h) or from the configured
 * apps, which the parent checked, so the output stays small.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "prom.h"
#include "util.h"

void
prom_init(struct prom *p, FILE *fp)
{
	memset(p, 0, sizeof(*p));
	p->fp = fp;
}

int
prom_name_ok(const char *s)
{
	size_t	 i;

	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return (0);
	for (i = 0; s[i] != '\0'; i++)
		if (!name_char((unsigned char)s[i], "_:"))
			return (0);
	return (i < PROM_NAME_MAX);
}

/*
 * A label value (label) or a HELP text: \ and newline escaped, and " in
 * a label value.
 */
void
prom_escape(FILE *fp, const char *s, int label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if (*s == '"' && label)
			fputs("\\\"", fp);
		else
			fputc(*s, fp);
	}
}

/*
 * Start a family: its HELP and TYPE.  A family already written, or a
 * bad name, is refused and marks the writer failed, since two TYPE
 * lines of one name make the whole file unreadable to the collector.
 */
int
prom_family(struct prom *p, const char *name, const char *type,
    const char *help)
{
	int	 i;

	p->family[0] = '\0';
	if (!prom_name_ok(name) || p->nseen == PROM_FAMILIES_MAX) {
		p->error = 1;
		return (-1);
	}
	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i], name) == 0) {
			p->error = 1;
			return (-1);
		}
	strlcpy(p->seen[p->nseen++], name, PROM_NAME_MAX);
	strlcpy(p->family, name, sizeof(p->family));
	fprintf(p->fp, "# HELP %s ", name);
	prom_escape(p->fp, help, 0);
	fprintf(p->fp, "\n# TYPE %s %s\n", name, type);
	return (0);
}

/*
 * A sample of the current family: value, then label names and values,
 * ending with NULL.
 */
void
prom_sample(struct prom *p, json_int_t value, ...)
{
	va_list		 ap;
	const char	*k, *v;
	int		 n = 0;

	if (p->family[0] == '\0') {
		p->error = 1;
		return;
	}
	fputs(p->family, p->fp);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (!prom_name_ok(k) || strchr(k, ':') != NULL)
			p->error = 1;
		fprintf(p->fp, "%s%s=\"", n++ == 0 ? "{" : ",", k);
		prom_escape(p->fp, v, 1);
		fputc('"', p->fp);
	}
	va_end(ap);
	fprintf(p->fp, "%s %lld\n", n > 0 ? "}" : "", (long long)value);
}

static json_int_t
prom_jint(const json_t *o, const char *key)
{
	return (json_integer_value(json_object_get(o, key)));
}

/* A family of one sample, without labels. */
static void
prom_one(struct prom *p, const char *name, const char *type,
    const char *help, json_int_t v)
{
	if (prom_family(p, name, type, help) == 0)
		prom_sample(p, v, NULL);
}

/* A family with one label, a sample for each member of obj. */
static void
prom_by(struct prom *p, const char *name, const char *type,
    const char *help, const char *label, const json_t *obj)
{
	const char	*key;
	json_t		*v;

	if (prom_family(p, name, type, help) == -1)
		return;
	json_object_foreach((json_t *)obj, key, v)
		prom_sample(p, json_integer_value(v), label, key, NULL);
}

static void
prom_netd(struct prom *p, const json_t *c)
{
	prom_family(p, "mcpgate_connections", "gauge",
	    "Client connections open, by state.");
	prom_sample(p, prom_jint(c, "handshaking"), "state", "handshaking", NULL);
	prom_sample(p, prom_jint(c, "open") - prom_jint(c, "handshaking"), "state",
	    "established", NULL);
	prom_one(p, "mcpgate_connections_accepted_total", "counter",
	    "Client connections accepted.", prom_jint(c, "accepted"));
	prom_one(p, "mcpgate_tls_failures_total", "counter",
	    "TLS handshakes that failed or timed out.", prom_jint(c, "tls_failed"));
	prom_family(p, "mcpgate_relayed_bytes_total", "counter",
	    "Bytes of the clients' connections after TLS, received from "
	    "and sent to clients.");
	prom_sample(p, prom_jint(c, "bytes_received"), "direction", "received",
	    NULL);
	prom_sample(p, prom_jint(c, "bytes_sent"), "direction", "sent", NULL);
}

/* netd's requests to the servers of HTTP apps. */
static void
prom_http(struct prom *p, const json_t *h)
{
	prom_one(p, "mcpgate_http_requests_total", "counter",
	    "Requests to the servers of HTTP apps.",
	    prom_jint(h, "requests"));
	prom_one(p, "mcpgate_http_request_failures_total", "counter",
	    "Requests to the servers of HTTP apps that failed before their "
	    "answer ended: refused, TLS, timeout, cut.",
	    prom_jint(h, "failed"));
	prom_family(p, "mcpgate_http_bytes_total", "counter",
	    "Body bytes of the requests sent to the servers of HTTP apps "
	    "and of their answers received.");
	prom_sample(p, prom_jint(h, "bytes_received"), "direction",
	    "received", NULL);
	prom_sample(p, prom_jint(h, "bytes_sent"), "direction", "sent", NULL);
}

static void
prom_mcp(struct prom *p, const json_t *m, const json_t *sessions)
{
	const json_t	*apps = json_object_get(m, "apps"), *a, *byres, *v;
	const char	*method, *result;
	size_t		 i;

	prom_by(p, "mcpgate_refusals_total", "counter", "Requests refused "
	    "with {\"ok\":false}, by the error code the client got.",
	    "reason", json_object_get(m, "refusals"));
	prom_by(p, "mcpgate_logins_total", "counter", "Logins the parent "
	    "decided, by result: success or the error code.", "result",
	    json_object_get(m, "logins"));
	prom_family(p, "mcpgate_sessions", "gauge",
	    "MCP sessions open, by app.");
	json_array_foreach((json_t *)apps, i, a)
		prom_sample(p, prom_jint(a, "open"), "app", jstr(a, "name"), NULL);
	prom_family(p, "mcpgate_sessions_started_total", "counter",
	    "MCP sessions started, by app.");
	json_array_foreach((json_t *)apps, i, a)
		prom_sample(p, prom_jint(a, "started"), "app", jstr(a, "name"),
		    NULL);
	prom_family(p, "mcpgate_requests_total", "counter", "MCP requests "
	    "from clients, by method and by what the gateway did: success "
	    "(answered or passed on), denied (by the roles), error.");
	json_object_foreach((json_t *)json_object_get(m, "requests"), method,
	    byres)
		json_object_foreach((json_t *)byres, result, v)
			prom_sample(p, json_integer_value(v), "method", method,
			    "result", result, NULL);
	prom_by(p, "mcpgate_denials_total", "counter", "What the roles "
	    "refused: tool calls, and connects to apps they hide.", "what",
	    json_object_get(m, "denials"));
	if (json_is_object(sessions)) {
		prom_one(p, "mcpgate_buffered_bytes", "gauge", "Bytes held "
		    "for connections, against limits.max_buffered.",
		    prom_jint(sessions, "buffered"));
		prom_one(p, "mcpgate_buffered_peak_bytes", "gauge",
		    "The most bytes held at once since the start.",
		    prom_jint(sessions, "buffered_peak"));
		prom_one(p, "mcpgate_max_buffered_bytes", "gauge",
		    "limits.max_buffered.", prom_jint(sessions, "max_buffered"));
	}
}

static void
prom_audit(struct prom *p, const json_t *a)
{
	const json_t	*sl;

	prom_one(p, "mcpgate_audit_records_total", "counter",
	    "Audit records written.", prom_jint(a, "records"));
	prom_one(p, "mcpgate_audit_failures_total", "counter",
	    "Audit records that could not be written.", prom_jint(a, "failures"));
	prom_one(p, "mcpgate_audit_syncs_total", "counter",
	    "fsyncs of the audit log.", prom_jint(a, "syncs"));
	prom_one(p, "mcpgate_audit_sequence", "gauge",
	    "The sequence number of the last audit record.", prom_jint(a, "seq"));
	prom_one(p, "mcpgate_audit_failing", "gauge",
	    "1 while the audit log cannot be written.",
	    json_is_true(json_object_get(a, "failing")));
	/* Counted since the start, whatever audit.syslog says now. */
	if ((sl = json_object_get(a, "syslog")) == NULL)
		return;
	prom_one(p, "mcpgate_audit_syslog_sent_total", "counter",
	    "Audit records sent to syslog (audit.syslog).", prom_jint(sl, "sent"));
	prom_one(p, "mcpgate_audit_syslog_dropped_total", "counter",
	    "Audit records syslog did not take (the file has them).",
	    prom_jint(sl, "dropped"));
	prom_one(p, "mcpgate_audit_syslog_truncated_total", "counter",
	    "Audit records too long for syslog, sent as a marker.",
	    prom_jint(sl, "truncated"));
	prom_one(p, "mcpgate_audit_syslog_connected", "gauge",
	    "1 while auditd holds a socket to /dev/log.",
	    json_is_true(json_object_get(sl, "connected")));
}

static void
prom_servers(struct prom *p, const json_t *s)
{
	prom_one(p, "mcpgate_servers_running", "gauge",
	    "stdio MCP server processes running.", prom_jint(s, "running"));
	prom_one(p, "mcpgate_servers_started_total", "counter",
	    "stdio MCP server processes started.", prom_jint(s, "started"));
	prom_one(p, "mcpgate_server_start_failures_total", "counter",
	    "stdio MCP server processes that could not start.",
	    prom_jint(s, "failed"));
	prom_by(p, "mcpgate_server_exits_total", "counter", "stdio MCP "
	    "server processes ended, by reason.", "reason",
	    json_object_get(s, "exits"));
}

/*
 * The status answer of the daemon in the format; the families of a
 * child that did not answer are left out, and mcpgate_status_answered
 * says so.  0, or -1 when the writer failed.
 */
int
prom_status(FILE *fp, const json_t *st)
{
	struct prom	 p;
	const json_t	*conns, *mcp, *audit, *v;

	conns = json_object_get(st, "connections");
	mcp = json_object_get(st, "mcp");
	audit = json_object_get(st, "audit");
	prom_init(&p, fp);
	prom_family(&p, "mcpgate_info", "gauge",
	    "The gateway's name and version.");
	prom_sample(&p, 1, "name", jstr(st, "name"), "version",
	    jstr(st, "version"), NULL);
	prom_one(&p, "mcpgate_uptime_seconds", "gauge",
	    "Seconds since the daemon started.", prom_jint(st, "uptime"));
	prom_family(&p, "mcpgate_status_answered", "gauge",
	    "1 when the process answered the status request in time.");
	prom_sample(&p, json_is_object(conns), "process", "netd", NULL);
	prom_sample(&p, json_is_object(mcp), "process", "mcpd", NULL);
	prom_sample(&p, json_is_object(audit), "process", "auditd", NULL);
	if (json_is_object(conns))
		prom_netd(&p, conns);
	if (json_is_object(v = json_object_get(st, "http")))
		prom_http(&p, v);
	if ((v = json_object_get(st, "refused")) != NULL &&
	    json_object_size(v) > 0)
		prom_by(&p, "mcpgate_limit_hits_total", "counter",
		    "Connections and sessions refused or ended by a limit, "
		    "by the limit.", "limit", v);
	if (json_is_object(mcp))
		prom_mcp(&p, mcp, json_object_get(st, "sessions"));
	if (json_is_object(audit))
		prom_audit(&p, audit);
	if (json_is_object(v = json_object_get(st, "servers")))
		prom_servers(&p, v);
	if (fflush(fp) == EOF || ferror(fp))
		return (-1);
	return (p.error ? -1 : 0);
}
