/*
 * Unit tests of the Prometheus text format writer (common/prom.c):
 * escaping of label values and HELP texts, each family's HELP and TYPE
 * once and before its samples, no series twice, and the families of a
 * status answer with a child missing.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "prom.h"
#include "proto.h"
#include "unit.h"

/* What the writer made of fn, as one string; the caller frees it. */
static char *
written(void (*fn)(struct prom *), int *error)
{
	struct prom	 p;
	FILE		*fp;
	char		*s = NULL;
	size_t		 len = 0;

	if ((fp = open_memstream(&s, &len)) == NULL)
		return (NULL);
	prom_init(&p, fp);
	fn(&p);
	fclose(fp);
	*error = p.error;
	return (s);
}

static void
escapes(struct prom *p)
{
	prom_family(p, "mcpgate_x_total", "counter", "a \\ back\nslash \"q\"");
	prom_sample(p, 7, "app", "a\"b\\c\nd", "x", "", NULL);
	prom_sample(p, -1, NULL);
}

static void
test_escape(void)
{
	char	*s;
	int	 error;

	s = written(escapes, &error);
	T_ASSERT(s != NULL);
	T_ASSERT(!error);
	/* HELP escapes \ and newline but not "; label values all three. */
	T_ASSERTF(strcmp(s,
	    "# HELP mcpgate_x_total a \\\\ back\\nslash \"q\"\n"
	    "# TYPE mcpgate_x_total counter\n"
	    "mcpgate_x_total{app=\"a\\\"b\\\\c\\nd\",x=\"\"} 7\n"
	    "mcpgate_x_total -1\n") == 0, "got <%s>", s);
	free(s);
}

static void
twice(struct prom *p)
{
	prom_family(p, "mcpgate_a", "gauge", "first");
	prom_sample(p, 1, NULL);
	if (prom_family(p, "mcpgate_a", "gauge", "again") != -1)
		return;
	/* A sample after the refusal has no family to go to. */
	prom_sample(p, 2, NULL);
}

static void
bad_name(struct prom *p)
{
	prom_family(p, "9lives", "gauge", "digits first");
}

static void
bad_label(struct prom *p)
{
	prom_family(p, "mcpgate_b", "gauge", "b");
	prom_sample(p, 1, "a-b", "v", NULL);
}

static void
test_family_once(void)
{
	char	*s;
	int	 error;

	s = written(twice, &error);
	T_ASSERT(s != NULL);
	T_ASSERT(error);
	T_ASSERTF(strcmp(s, "# HELP mcpgate_a first\n"
	    "# TYPE mcpgate_a gauge\nmcpgate_a 1\n") == 0, "got <%s>", s);
	free(s);
	s = written(bad_name, &error);
	T_ASSERT(s != NULL && s[0] == '\0' && error);
	free(s);
	s = written(bad_label, &error);
	T_ASSERT(s != NULL && error);
	free(s);
	T_ASSERT(prom_name_ok("mcpgate_x:y_total"));
	T_ASSERT(!prom_name_ok(""));
	T_ASSERT(!prom_name_ok("a b"));
	T_ASSERT(!prom_name_ok("a-b"));
}

/* A status answer as privsep/control.c makes it, small. */
static json_t *
status_json(int with_mcpd)
{
	json_t	*st, *mcp, *req, *m;
	int	 i, k;

	st = json_pack("{s:s,s:s,s:I,"
	    "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
	    "s:{s:I,s:I},"
	    "s:{s:I,s:I,s:I,s:I,s:b},"
	    "s:{s:I,s:I,s:I,s:{s:I,s:I}}}",
	    "name", "gw \"one\"", "version", "0.1.0", "uptime", (json_int_t)5,
	    "connections", "open", (json_int_t)3, "handshaking",
	    (json_int_t)1, "accepted", (json_int_t)9, "refused",
	    (json_int_t)0, "tls_failed", (json_int_t)2, "bytes_received",
	    (json_int_t)100, "bytes_sent", (json_int_t)200,
	    "refused", "max_connections", (json_int_t)4, "init_timeout",
	    (json_int_t)0,
	    "audit", "records", (json_int_t)11, "failures", (json_int_t)0,
	    "syncs", (json_int_t)6, "seq", (json_int_t)11, "failing", 0,
	    "servers", "running", (json_int_t)0, "started", (json_int_t)2,
	    "failed", (json_int_t)1, "exits", "exit_ok", (json_int_t)1,
	    "killed", (json_int_t)1);
	json_object_set_new(st, "http", json_pack("{s:I,s:I,s:I,s:I}",
	    "requests", (json_int_t)7, "failed", (json_int_t)1,
	    "bytes_received", (json_int_t)4096, "bytes_sent",
	    (json_int_t)512));
	if (!with_mcpd) {
		json_object_set_new(st, "mcp", json_null());
		return (st);
	}
	req = json_object();
	for (i = 0; i < STATUS_M_MAX; i++) {
		m = json_object();
		for (k = 0; k < STATUS_RES_MAX; k++)
			json_object_set_new(m, status_result_name(k),
			    json_integer(i * 10 + k));
		json_object_set_new(req, status_method_name(i), m);
	}
	mcp = json_pack("{s:{s:I,s:I},s:{s:I,s:I},s:o,s:{s:I,s:I},"
	    "s:[{s:s,s:I,s:I},{s:s,s:I,s:I}]}",
	    "refusals", "access_denied", (json_int_t)1, "other",
	    (json_int_t)0,
	    "logins", "success", (json_int_t)2, "access_denied",
	    (json_int_t)1,
	    "requests", req,
	    "denials", "tool", (json_int_t)1, "app", (json_int_t)0,
	    "apps", "name", "mcpgate-demo", "open", (json_int_t)1, "started",
	    (json_int_t)3, "name", "*", "open", (json_int_t)0, "started",
	    (json_int_t)1);
	json_object_set_new(st, "mcp", mcp);
	json_object_set_new(st, "sessions", json_pack("{s:I,s:I,s:I}",
	    "buffered", (json_int_t)0, "buffered_peak", (json_int_t)10,
	    "max_buffered", (json_int_t)1024));
	return (st);
}

/*
 * Read the text back: every line a comment or a sample, each family's
 * HELP then TYPE once before its samples, no series twice.  The number
 * of samples, or -1.
 */
static int
check_text(const char *text, char *why, size_t whylen)
{
	char	 fam[128][PROM_NAME_MAX], series[512][256];
	char	*copy, *line, *save, *sp, cur[PROM_NAME_MAX] = "";
	int	 nfam = 0, nser = 0, i, n = 0, help = 0;

	copy = strdup(text);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			sp = strchr(line + 7, ' ');
			snprintf(cur, sizeof(cur), "%.*s",
			    (int)(sp - line - 7), line + 7);
			for (i = 0; i < nfam; i++)
				if (strcmp(fam[i], cur) == 0) {
					snprintf(why, whylen, "%s twice", cur);
					free(copy);
					return (-1);
				}
			strlcpy(fam[nfam++], cur, PROM_NAME_MAX);
			help = 1;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			if (!help || strncmp(line + 7, cur, strlen(cur)) != 0) {
				snprintf(why, whylen, "TYPE out of place: %s",
				    line);
				free(copy);
				return (-1);
			}
			help = 0;
			continue;
		}
		if (cur[0] == '\0' || strncmp(line, cur, strlen(cur)) != 0 ||
		    (line[strlen(cur)] != '{' && line[strlen(cur)] != ' ') ||
		    (sp = strrchr(line, ' ')) == NULL) {
			snprintf(why, whylen, "sample out of place: %s", line);
			free(copy);
			return (-1);
		}
		for (i = 0; i < nser; i++)
			if (strncmp(series[i], line, (size_t)(sp - line)) ==
			    0 && series[i][sp - line] == '\0') {
				snprintf(why, whylen, "series twice: %s", line);
				free(copy);
				return (-1);
			}
		snprintf(series[nser++], sizeof(series[0]), "%.*s",
		    (int)(sp - line), line);
		n++;
	}
	free(copy);
	return (n);
}

static char *
status_text(json_t *st, int *ret)
{
	FILE	*fp;
	char	*s = NULL;
	size_t	 len = 0;

	fp = open_memstream(&s, &len);
	*ret = prom_status(fp, st);
	fclose(fp);
	return (s);
}

static void
test_status(void)
{
	json_t	*st;
	char	*s, why[300] = "";
	int	 ret, n;

	st = status_json(1);
	s = status_text(st, &ret);
	T_ASSERT(ret == 0);
	n = check_text(s, why, sizeof(why));
	T_ASSERTF(n > 0, "%s", why);
	T_ASSERT(strstr(s, "mcpgate_info{name=\"gw \\\"one\\\"\","
	    "version=\"0.1.0\"} 1\n") != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_http_requests_total 7\n") != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_http_request_failures_total 1\n") !=
	    NULL);
	T_ASSERT(strstr(s, "\nmcpgate_http_bytes_total{direction=\"received\"} "
	    "4096\n") != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_http_bytes_total{direction=\"sent\"} "
	    "512\n") != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_connections{state=\"established\"} 2\n")
	    != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_requests_total{method=\"tools/call\","
	    "result=\"denied\"} 31\n") != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_sessions_started_total{app=\"*\"} 1\n")
	    != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_limit_hits_total{limit="
	    "\"max_connections\"} 4\n") != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_server_exits_total{reason=\"killed\"} "
	    "1\n") != NULL);
	T_ASSERT(strstr(s, "\nmcpgate_status_answered{process=\"mcpd\"} 1\n")
	    != NULL);
	/* Every method and result, once. */
	T_ASSERT(strstr(s, "method=\"other\",result=\"error\"} 132\n") !=
	    NULL);
	free(s);
	json_decref(st);

	/* mcpd did not answer: its families are left out, and said so. */
	st = status_json(0);
	s = status_text(st, &ret);
	T_ASSERT(ret == 0);
	T_ASSERTF(check_text(s, why, sizeof(why)) > 0, "%s", why);
	T_ASSERT(strstr(s, "\nmcpgate_status_answered{process=\"mcpd\"} 0\n")
	    != NULL);
	T_ASSERT(strstr(s, "mcpgate_requests_total") == NULL);
	T_ASSERT(strstr(s, "mcpgate_sessions") == NULL);
	T_ASSERT(strstr(s, "mcpgate_audit_records_total 11\n") != NULL);
	free(s);
	json_decref(st);
}

/* The checker above is the one the other tests rest on: it must fail. */
static void
test_checker(void)
{
	char	 why[300];

	T_ASSERT(check_text("# HELP a x\n# TYPE a gauge\na 1\n", why,
	    sizeof(why)) == 1);
	T_ASSERT(check_text("# HELP a x\n# TYPE a gauge\na 1\n"
	    "# HELP a x\n# TYPE a gauge\n", why, sizeof(why)) == -1);
	T_ASSERT(check_text("# HELP a x\n# TYPE a gauge\na{x=\"1\"} 1\n"
	    "a{x=\"1\"} 2\n", why, sizeof(why)) == -1);
	T_ASSERT(check_text("a 1\n", why, sizeof(why)) == -1);
	T_ASSERT(check_text("# HELP a x\n# TYPE a gauge\nb 1\n", why,
	    sizeof(why)) == -1);
}

int
main(void)
{
	t_suite = "prom";
	T_RUN(test_escape);
	T_RUN(test_family_once);
	T_RUN(test_status);
	T_RUN(test_checker);
	return (t_done());
}
