/*
 * Unit tests for common/audit_record.c: the record and checkpoint line
 * formats, the line parser, file names, and the hash-chain verifier fed a
 * real chain of records and Ed25519-signed checkpoints, whole and then
 * tampered with in each of the ways an attacker with write access to the
 * log might try.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "audit_record.h"
#include "util.h"
#include "unit.h"

#define NREC	20
#define T0	1795714601000000LL	/* 2026-11-26T17:36:41Z */
#define TS0	"2026-11-26T17:36:41.000000Z"

/* A log as lines without their newlines; room for one more. */
struct chain {
	char	*line[NREC + 1];
	size_t	 len[NREC + 1];
	int	 n;
};

static EVP_PKEY	*key, *pub, *key2, *pub2;

static EVP_PKEY *
public_of(EVP_PKEY *k)
{
	unsigned char	 raw[32];
	size_t		 len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1)
		return (NULL);
	return (EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
	    len));
}

static int
is_checkpoint(uint64_t seq)
{
	return (seq == 7 || seq == 14);
}

static void
chain_free(struct chain *ch)
{
	int	 i;

	for (i = 0; i < ch->n; i++)
		free(ch->line[i]);
	memset(ch, 0, sizeof(*ch));
}

/*
 * Records 1 to NREC, checkpoints at 7 and 14, each line's prev the hash
 * of the line before it.
 */
static int
chain_build(struct chain *ch, EVP_PKEY *k)
{
	const struct audit_event	*ev;
	char				 prev[SHA256_HEX_LEN + 1];
	json_t				*f;
	uint64_t			 seq;
	int				 i;

	memset(ch, 0, sizeof(*ch));
	strlcpy(prev, audit_zero_hash, sizeof(prev));
	ev = audit_event_find("mcp.session.request");
	for (seq = 1; seq <= NREC; seq++) {
		i = (int)seq - 1;
		if (is_checkpoint(seq)) {
			f = json_pack("{s:I}", "records", (json_int_t)seq - 1);
			ch->line[i] = audit_checkpoint_format(k, seq,
			    T0 + (int64_t)seq * 1000, prev, f, &ch->len[i]);
		} else {
			f = json_pack("{s:s, s:s, s:I, s:b}", "event",
			    "mcp.session.request", "user", "alice", "n",
			    (json_int_t)seq, "success", seq % 5 != 0);
			ch->line[i] = audit_record_format(f, seq,
			    T0 + (int64_t)seq * 1000, audit_event_code(ev, f),
			    prev, &ch->len[i]);
		}
		json_decref(f);
		if (ch->line[i] == NULL)
			return (-1);
		ch->n++;
		sha256_hex(ch->line[i], ch->len[i], prev);
	}
	return (0);
}

/* Feed n lines; the index of the first refused, or -1 when all pass. */
static int
chain_feed_n(struct chain *ch, int n, EVP_PKEY *k, struct audit_chain *c,
    char *err, size_t errlen)
{
	int	 i;

	audit_chain_init(c, k);
	err[0] = '\0';
	for (i = 0; i < n; i++)
		if (audit_chain_line(c, ch->line[i], ch->len[i], err,
		    errlen) == -1)
			return (i);
	return (-1);
}

static int
chain_feed(struct chain *ch, EVP_PKEY *k, struct audit_chain *c, char *err,
    size_t errlen)
{
	return (chain_feed_n(ch, ch->n, k, c, err, errlen));
}

/* Replace line i with text. */
static int
chain_set(struct chain *ch, int i, const char *text)
{
	char	*p;

	if ((p = strdup(text)) == NULL)
		return (-1);
	free(ch->line[i]);
	ch->line[i] = p;
	ch->len[i] = strlen(p);
	return (0);
}

/* Where the signature's text starts in a checkpoint line, or NULL. */
static char *
sig_text(char *line)
{
	char	*p;

	if ((p = strstr(line, ",\"sig\":\"")) == NULL)
		return (NULL);
	return (p + 8);
}

static void
test_event_codes(void)
{
	const struct audit_event	*ev;
	json_t				*f;

	T_ASSERT((ev = audit_event_find("user.login")) != NULL);
	T_ASSERT(strcmp(ev->code, "MG1000I") == 0);
	T_ASSERT((f = json_pack("{s:b}", "success", 0)) != NULL);
	T_ASSERT(strcmp(audit_event_code(ev, f), "MG1000W") == 0);
	json_object_set_new(f, "success", json_true());
	T_ASSERT(strcmp(audit_event_code(ev, f), "MG1000I") == 0);
	json_object_del(f, "success");
	T_ASSERT(strcmp(audit_event_code(ev, f), "MG1000I") == 0);
	/* A string "false" is not false. */
	json_object_set_new(f, "success", json_string("false"));
	T_ASSERT(strcmp(audit_event_code(ev, f), "MG1000I") == 0);
	json_object_set_new(f, "success", json_false());
	/* An administrator's change that did not happen after all. */
	T_ASSERT((ev = audit_event_find("user.create")) != NULL);
	T_ASSERT(strcmp(audit_event_code(ev, f), "MG1001W") == 0);
	/* An event with one code keeps it on failure. */
	T_ASSERT((ev = audit_event_find("daemon.stop")) != NULL);
	T_ASSERT(strcmp(audit_event_code(ev, f), "MG0002I") == 0);
	json_decref(f);
	T_ASSERT((ev = audit_event_find(AUDIT_CHECKPOINT)) != NULL);
	T_ASSERT(strcmp(ev->code, "MG0100I") == 0);
	T_ASSERT(audit_event_find("no.such.event") == NULL);
	T_ASSERT(audit_event_find("") == NULL);
	T_ASSERT(audit_event_find("user.Login") == NULL);
}

/*
 * Who may write what: mcpd only what happens in MCP sessions, the parent
 * the daemon's, logins and administrators' changes, auditd its own.
 */
static void
test_event_writers(void)
{
	static const char *const parent_only[] = {
		"daemon.start", "daemon.stop", "daemon.reload", "user.login",
		"user.create", "user.update", "user.lock", "user.unlock",
		"user.delete", "user.reset", "role.create", "role.update",
		"role.delete", "token.create", "token.delete", "app.create",
		"app.update", "app.delete", NULL
	};
	static const char *const mcpd_only[] = {
		"mcp.session.start", "mcp.session.end", "mcp.session.request",
		"mcp.session.notification", NULL
	};
	static const char *const auditd_only[] = {
		"audit.checkpoint", "audit.torn", "audit.tamper", NULL
	};
	const struct audit_event	*ev;
	int				 i;

	for (i = 0; parent_only[i] != NULL; i++) {
		T_ASSERT((ev = audit_event_find(parent_only[i])) != NULL);
		T_ASSERTF(ev->writers == AUDIT_BY_PARENT, "%s",
		    parent_only[i]);
	}
	for (i = 0; mcpd_only[i] != NULL; i++) {
		T_ASSERT((ev = audit_event_find(mcpd_only[i])) != NULL);
		T_ASSERTF(ev->writers == AUDIT_BY_MCPD, "%s", mcpd_only[i]);
	}
	for (i = 0; auditd_only[i] != NULL; i++) {
		T_ASSERT((ev = audit_event_find(auditd_only[i])) != NULL);
		T_ASSERTF(ev->writers == AUDIT_BY_AUDITD, "%s",
		    auditd_only[i]);
	}
	T_ASSERT(strcmp(audit_writer_name(AUDIT_BY_MCPD), "mcpd") == 0);
	T_ASSERT(strcmp(audit_writer_name(0), "nobody") == 0);
}

/* tmpl with each '@' replaced by hash, and "@@" by hash less a digit. */
static void
subst_hash(char *buf, size_t len, const char *tmpl, const char *hash)
{
	size_t	 n = 0;

	for (; *tmpl != '\0' && n + SHA256_HEX_LEN + 1 < len; tmpl++) {
		if (*tmpl != '@') {
			buf[n++] = *tmpl;
			continue;
		}
		memcpy(buf + n, hash, SHA256_HEX_LEN);
		n += SHA256_HEX_LEN;
		if (tmpl[1] == '@') {
			n--;
			tmpl++;
		}
	}
	buf[n] = '\0';
}

static void
test_anchor_format_parse(void)
{
	struct audit_anchor_file	 a, b;
	char				*line, err[256];
	size_t				 len;
	static const char *const bad[] = {
		"",
		"[]",
		"{\"seq\":0,\"sha256\":\"@\",\"file\":\"audit-000000000001"
		    ".jsonl\",\"time\":\"2026-11-26T00:00:00Z\"}",
		"{\"seq\":5,\"sha256\":\"@@\",\"file\":\"audit-000000000001"
		    ".jsonl\",\"time\":\"2026-11-26T00:00:00Z\"}",
		"{\"seq\":5,\"sha256\":\"@A\",\"file\":\"audit-000000000001"
		    ".jsonl\",\"time\":\"2026-11-26T00:00:00Z\"}",
		"{\"seq\":5,\"sha256\":\"@\",\"file\":\"../audit-00000000000"
		    "1.jsonl\",\"time\":\"2026-11-26T00:00:00Z\"}",
		/* the file starts after the checkpoint it holds */
		"{\"seq\":5,\"sha256\":\"@\",\"file\":\"audit-000000000006"
		    ".jsonl\",\"time\":\"2026-11-26T00:00:00Z\"}",
		"{\"seq\":5,\"sha256\":\"@\",\"file\":\"audit-000000000001"
		    ".jsonl\",\"time\":\"yesterday\"}",
		"{\"seq\":5,\"sha256\":\"@\",\"file\":\"audit-000000000001"
		    ".jsonl\",\"time\":\"2026-11-26T00:00:00Z\",\"x\":1}",
		"{\"seq\":5,\"seq\":6,\"sha256\":\"@\",\"file\":\"audit-000"
		    "000000001.jsonl\"}",
		NULL
	};
	char	 buf[512];
	int	 i;

	memset(&a, 0, sizeof(a));
	a.seq = 1234;
	sha256_hex("x", 1, a.sha256);
	strlcpy(a.file, "audit-000000001001.jsonl", sizeof(a.file));
	strlcpy(a.time, "2026-11-26T17:36:41.123456Z", sizeof(a.time));
	T_ASSERT((line = audit_anchor_format(&a, &len)) != NULL);
	T_ASSERT(len == strlen(line) && line[len - 1] == '\n');
	T_ASSERT(audit_anchor_parse(line, len, &b, err, sizeof(err)) == 0);
	free(line);
	T_ASSERT(b.seq == 1234 && strcmp(b.sha256, a.sha256) == 0 &&
	    strcmp(b.file, a.file) == 0 && strcmp(b.time, a.time) == 0);
	for (i = 0; bad[i] != NULL; i++) {
		subst_hash(buf, sizeof(buf), bad[i], a.sha256);
		err[0] = '\0';
		T_ASSERTF(audit_anchor_parse(buf, strlen(buf), &b, err,
		    sizeof(err)) == -1 && err[0] != '\0', "accepted %s", buf);
	}
	T_ASSERT(audit_is_hash(a.sha256));
	T_ASSERT(!audit_is_hash(""));
	T_ASSERT(!audit_is_hash(audit_zero_hash + 1));
}

static void
test_record_format(void)
{
	static const char want[] =
	    "{\"seq\":42,\"time\":\"2026-11-26T17:36:41.123456Z\","
	    "\"event\":\"user.login\",\"code\":\"MG1000I\","
	    "\"user\":\"alice\",\"success\":true,\"n\":[1,{\"a\":null}],"
	    "\"prev\":\"0000000000000000000000000000000000000000000000000000"
	    "000000000000\"}";
	json_t	*f, *rec;
	char	*line, err[256];
	size_t	 len = 0;

	/* event comes third whatever its place in the fields */
	T_ASSERT((f = json_pack("{s:s, s:s, s:b, s:[i,{s:n}]}", "user",
	    "alice", "event", "user.login", "success", 1, "n", 1, "a"))
	    != NULL);
	line = audit_record_format(f, 42, T0 + 123456, "MG1000I",
	    audit_zero_hash, &len);
	T_ASSERT(line != NULL);
	T_ASSERTF(strcmp(line, want) == 0, "got %s", line);
	T_ASSERT(len == strlen(want));
	T_ASSERT(strchr(line, '\n') == NULL && strchr(line, ' ') == NULL);
	/* The fields are the caller's, untouched. */
	T_ASSERT(json_object_size(f) == 4);
	T_ASSERT(json_object_get(f, "seq") == NULL);

	/* What it writes, the parser takes back. */
	rec = audit_line_parse(line, len, err, sizeof(err));
	T_ASSERTF(rec != NULL, "%s", err);
	T_ASSERT(json_integer_value(json_object_get(rec, "seq")) == 42);
	T_ASSERT(strcmp(json_string_value(json_object_get(rec, "time")),
	    "2026-11-26T17:36:41.123456Z") == 0);
	T_ASSERT(strcmp(json_string_value(json_object_get(rec, "user")),
	    "alice") == 0);
	json_decref(rec);
	free(line);

	/* Strings are escaped and the line stays one line. */
	json_object_set_new(f, "user", json_string("a\"b\\c\nd\x01"));
	line = audit_record_format(f, 1, 0, "MG1000I", audit_zero_hash,
	    &len);
	T_ASSERT(line != NULL);
	T_ASSERTF(strstr(line, "\"user\":\"a\\\"b\\\\c\\nd\\u0001\"") !=
	    NULL, "got %s", line);
	T_ASSERT(strchr(line, '\n') == NULL);
	T_ASSERT(strstr(line, "\"time\":\"1970-01-01T00:00:00.000000Z\"") !=
	    NULL);
	free(line);
	json_decref(f);
}

static void
test_record_format_refused(void)
{
	static const char *const bad[] = {
		"[]", "\"event\"", "null", "{}", "{\"user\":\"x\"}",
		"{\"event\":5}", "{\"event\":null}", "{\"event\":[\"x\"]}",
		"{\"event\":\"x\",\"seq\":1}",
		"{\"event\":\"x\",\"time\":\"t\"}",
		"{\"event\":\"x\",\"code\":\"MG0000I\"}",
		"{\"event\":\"x\",\"prev\":\"00\"}",
		"{\"event\":\"x\",\"sig\":\"AAAA\"}",
		"{\"event\":\"x\",\"seq\":null}",
	};
	json_t	*f;
	char	*line, *big;
	size_t	 i, len = 777;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_ASSERTF((f = json_loads(bad[i], JSON_DECODE_ANY, NULL)) !=
		    NULL, "%s", bad[i]);
		line = audit_record_format(f, 1, T0, "MG0001I",
		    audit_zero_hash, &len);
		json_decref(f);
		free(line);
		T_ASSERTF(line == NULL, "accepted %s", bad[i]);
	}
	T_ASSERT(audit_record_format(NULL, 1, T0, "MG0001I", audit_zero_hash,
	    &len) == NULL);
	T_ASSERT(len == 777);

	/* Longer than a record may be. */
	T_ASSERT((big = malloc(AUDIT_LINE_MAX + 1)) != NULL);
	memset(big, 'x', AUDIT_LINE_MAX);
	big[AUDIT_LINE_MAX] = '\0';
	f = json_pack("{s:s, s:s}", "event", "user.login", "blob", big);
	T_ASSERT(f != NULL);
	line = audit_record_format(f, 1, T0, "MG1000I", audit_zero_hash,
	    &len);
	json_decref(f);
	free(big);
	free(line);
	T_ASSERT(line == NULL);
}

static void
test_key_id(void)
{
	unsigned char	 raw[32];
	size_t		 rlen = sizeof(raw);
	char		 id[AUDIT_KEYID_LEN + 1], hex[SHA256_HEX_LEN + 1];
	char		 id2[AUDIT_KEYID_LEN + 1];

	T_ASSERT(audit_key_id(key, id, sizeof(id)) == 0);
	T_ASSERT(EVP_PKEY_get_raw_public_key(key, raw, &rlen) == 1);
	sha256_hex(raw, rlen, hex);
	T_ASSERT(strncmp(id, "SHA256:", 7) == 0);
	T_ASSERT(strcmp(id + 7, hex) == 0);
	T_ASSERT(strlen(id) == AUDIT_KEYID_LEN);
	/* The public half alone names the same key; another key differs. */
	T_ASSERT(audit_key_id(pub, id2, sizeof(id2)) == 0);
	T_ASSERT(strcmp(id, id2) == 0);
	T_ASSERT(audit_key_id(key2, id2, sizeof(id2)) == 0);
	T_ASSERT(strcmp(id, id2) != 0);
	T_ASSERT(audit_key_id(key, id, sizeof(id) - 1) == -1);
}

static int
verify_sig(EVP_PKEY *k, const char *msg, size_t len, const char *b64)
{
	EVP_MD_CTX	*md;
	unsigned char	 sig[66];
	int		 ok;

	if (EVP_DecodeBlock(sig, (const unsigned char *)b64, 88) != 66)
		return (0);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return (0);
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(md, sig, 64, (const unsigned char *)msg,
	    len) == 1;
	EVP_MD_CTX_free(md);
	return (ok);
}

static void
test_checkpoint_format(void)
{
	char		 id[AUDIT_KEYID_LEN + 1], want[512], b64[89];
	char		*line, *sig, *body;
	json_t		*extra;
	size_t		 len, blen;

	T_ASSERT(audit_key_id(key, id, sizeof(id)) == 0);
	line = audit_checkpoint_format(key, 7, T0, audit_zero_hash, NULL,
	    &len);
	T_ASSERT(line != NULL);
	T_ASSERT(len == strlen(line));
	snprintf(want, sizeof(want), "{\"seq\":7,\"time\":\"" TS0 "\","
	    "\"event\":\"audit.checkpoint\",\"code\":\"MG0100I\","
	    "\"key\":\"%s\",\"prev\":\"%s\",\"sig\":\"", id, audit_zero_hash);
	T_ASSERTF(strncmp(line, want, strlen(want)) == 0, "got %s", line);
	sig = line + strlen(want);
	T_ASSERT(strlen(sig) == 88 + 2);
	T_ASSERT(strcmp(sig + 88, "\"}") == 0);
	T_ASSERT(sig[86] == '=' && sig[87] == '=');

	/* The signature is over the line without it. */
	memcpy(b64, sig, 88);
	b64[88] = '\0';
	blen = strlen(want) - strlen(",\"sig\":\"");
	T_ASSERT((body = malloc(blen + 2)) != NULL);
	memcpy(body, line, blen);
	body[blen] = '}';
	body[blen + 1] = '\0';
	T_ASSERT(verify_sig(pub, body, blen + 1, b64));
	T_ASSERT(!verify_sig(pub2, body, blen + 1, b64));
	body[10] ^= 1;
	T_ASSERT(!verify_sig(pub, body, blen + 1, b64));
	free(body);
	free(line);

	/* Extra fields go before prev; event and key are the writer's. */
	extra = json_pack("{s:I, s:s, s:s}", "records", (json_int_t)6,
	    "event", "user.login", "key", "forged");
	T_ASSERT(extra != NULL);
	line = audit_checkpoint_format(key, 8, T0, audit_zero_hash, extra,
	    &len);
	T_ASSERT(line != NULL);
	T_ASSERT(json_object_size(extra) == 3);		/* not changed */
	snprintf(want, sizeof(want), "\"event\":\"audit.checkpoint\","
	    "\"code\":\"MG0100I\",\"records\":6,\"key\":\"%s\",\"prev\":", id);
	T_ASSERTF(strstr(line, want) != NULL, "got %s", line);
	free(line);

	/* A reserved key among the extras is refused. */
	json_object_set_new(extra, "seq", json_integer(1));
	T_ASSERT(audit_checkpoint_format(key, 9, T0, audit_zero_hash, extra,
	    &len) == NULL);
	json_decref(extra);
}

static void
test_line_parse(void)
{
	static const struct {
		const char	*line;
		const char	*phrase;
	} bad[] = {
		{ "", "not valid JSON" },
		{ "not json", "not valid JSON" },
		{ "{\"seq\":1", "not valid JSON" },
		{ "{\"seq\":1,\"seq\":2}", "not valid JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "\"str\"", "not valid JSON" },
		{ "{} x", "text after the record at column 3" },
		{ "{}{}", "text after the record" },
		{ "{} ", "text after the record" },
		{ "{}\n", "text after the record" },
		{ "{}", "missing or bad 'seq'" },
		{ "{\"seq\":0}", "missing or bad 'seq'" },
		{ "{\"seq\":-1}", "missing or bad 'seq'" },
		{ "{\"seq\":\"1\"}", "missing or bad 'seq'" },
		{ "{\"seq\":1.0}", "missing or bad 'seq'" },
		{ "{\"seq\":1}", "missing or bad 'time'" },
		{ "{\"seq\":1,\"time\":5}", "missing or bad 'time'" },
		{ "{\"seq\":1,\"time\":\"2026-11-26\"}",
		    "missing or bad 'time'" },
		{ "{\"seq\":1,\"time\":\"yesterday\"}",
		    "missing or bad 'time'" },
		{ "{\"seq\":1,\"time\":\"2026-11-26T17:36:41\"}",
		    "missing or bad 'time'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\"}",
		    "missing or bad 'event'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":\"\"}",
		    "missing or bad 'event'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":1}",
		    "missing or bad 'event'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":\"e\"}",
		    "missing or bad 'code'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":\"e\","
		    "\"code\":null}", "missing or bad 'code'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":\"e\","
		    "\"code\":\"c\"}", "missing or bad 'prev'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":\"e\","
		    "\"code\":\"c\",\"prev\":\"00\"}",
		    "missing or bad 'prev'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":\"e\","
		    "\"code\":\"c\",\"prev\":\"0000000000000000000000000000000"
		    "0000000000000000000000000000000000\"}",
		    "missing or bad 'prev'" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":\"e\","
		    "\"code\":\"c\",\"prev\":\"000000000000000000000000000000"
		    "000000000000000000000000000000000A\"}",
		    "'prev' is not lowercase hex" },
		{ "{\"seq\":1,\"time\":\"" TS0 "\",\"event\":\"e\","
		    "\"code\":\"c\",\"prev\":\"000000000000000000000000000000"
		    "000000000000000000000000000000000g\"}",
		    "'prev' is not lowercase hex" },
	};
	static const char good[] = "{\"seq\":3,\"time\":\"" TS0 "\","
	    "\"event\":\"e\",\"code\":\"c\",\"prev\":\"0123456789abcdef0123"
	    "456789abcdef0123456789abcdef0123456789abcdef\",\"x\":[1]}";
	json_t	*rec;
	char	 err[256], *big;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		rec = audit_line_parse(bad[i].line, strlen(bad[i].line), err,
		    sizeof(err));
		json_decref(rec);
		T_ASSERTF(rec == NULL, "accepted %s", bad[i].line);
		T_ASSERTF(strstr(err, bad[i].phrase) != NULL,
		    "%s: '%s', want '%s'", bad[i].line, err, bad[i].phrase);
	}
	rec = audit_line_parse(good, strlen(good), err, sizeof(err));
	T_ASSERTF(rec != NULL, "%s", err);
	T_ASSERT(json_integer_value(json_object_get(rec, "seq")) == 3);
	json_decref(rec);
	/* len bounds the line: a prefix is not the record. */
	rec = audit_line_parse(good, strlen(good) - 1, err, sizeof(err));
	T_ASSERT(rec == NULL && strstr(err, "not valid JSON") != NULL);

	/* Too long, before any parsing. */
	T_ASSERT((big = malloc(AUDIT_LINE_MAX + 2)) != NULL);
	memset(big, ' ', AUDIT_LINE_MAX + 1);
	big[AUDIT_LINE_MAX + 1] = '\0';
	rec = audit_line_parse(big, AUDIT_LINE_MAX + 1, err, sizeof(err));
	free(big);
	T_ASSERT(rec == NULL);
	T_ASSERTF(strstr(err, "record longer than 262144 bytes") != NULL,
	    "%s", err);
}

static int
child_signed_year(void)
{
	static const char line[] = "{\"seq\":1,\"time\":"
	    "\"-001-01-01T00:00:00Z\",\"event\":\"e\",\"code\":\"c\","
	    "\"prev\":\"0000000000000000000000000000000000000000000000000000"
	    "000000000000\"}";
	json_t	*rec;
	char	 err[256];

	rec = audit_line_parse(line, strlen(line), err, sizeof(err));
	json_decref(rec);
	return (rec == NULL ? 0 : 2);
}

/*
 * A log line is untrusted input to mcpgatectl: a 'time' with a signed
 * year must be refused, not overflow int64_t in parse_time().
 */
static void
test_line_parse_signed_year(void)
{
	int	 r;

	r = t_in_child(child_signed_year);
	T_ASSERTF(r == 0, r == 2 ? "audit_line_parse accepted \"time\":"
	    "\"-001-01-01T00:00:00Z\"" : "audit_line_parse died on \"time\":"
	    "\"-001-01-01T00:00:00Z\", status %d (signed overflow in "
	    "parse_time)", r);
}

static void
test_file_names(void)
{
	static const char *const bad[] = {
		"audit-1.jsonl", "audit-00000000001.jsonl",
		"audit-000000000000.jsonl", "audit-000000000001.json",
		"audit-000000000001.jsonl.gz", "audit-000000000001",
		"xaudit-000000000001.jsonl", "Audit-000000000001.jsonl",
		"audit-00000000000a.jsonl", "audit-.jsonl",
		"audit--00000000001.jsonl",
		"audit-99999999999999999999999.jsonl", "", "audit.pub",
	};
	char		 name[64];
	uint64_t	 seq;
	size_t		 i;

	T_ASSERT(audit_file_name(1, name, sizeof(name)) == 0);
	T_ASSERT(strcmp(name, "audit-000000000001.jsonl") == 0);
	T_ASSERT(audit_file_seq(name, &seq) == 0 && seq == 1);
	T_ASSERT(audit_file_name(123456789012ULL, name, sizeof(name)) == 0);
	T_ASSERT(strcmp(name, "audit-123456789012.jsonl") == 0);
	T_ASSERT(audit_file_name(1234567890123ULL, name, sizeof(name)) == 0);
	T_ASSERT(strcmp(name, "audit-1234567890123.jsonl") == 0);
	T_ASSERT(audit_file_seq(name, &seq) == 0 && seq == 1234567890123ULL);
	T_ASSERT(audit_file_name(INT64_MAX, name, sizeof(name)) == 0);
	T_ASSERT(strcmp(name, "audit-9223372036854775807.jsonl") == 0);
	T_ASSERT(audit_file_seq(name, &seq) == 0 && seq == INT64_MAX);
	T_ASSERT(audit_file_name(1, name, 24) == -1);	/* no room for NUL */
	T_ASSERT(audit_file_name(1, name, 25) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		seq = 42;
		T_ASSERTF(audit_file_seq(bad[i], &seq) == -1,
		    "accepted '%s' as %llu", bad[i], (unsigned long long)seq);
		T_ASSERT(seq == 42);
	}
}

static void
test_chain_ok(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], last[SHA256_HEX_LEN + 1];
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT(ch.n == NREC);
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == -1, "line %d refused: %s", r, err);
	T_ASSERT(c.started && c.first_seq == 1 && c.next_seq == NREC + 1);
	T_ASSERT(c.records == NREC);
	T_ASSERT(c.checkpoints == 2 && c.unsigned_checkpoints == 0);
	T_ASSERT(c.last_checkpoint_seq == 14);
	T_ASSERT(c.since_checkpoint == NREC - 14);
	sha256_hex(ch.line[NREC - 1], ch.len[NREC - 1], last);
	T_ASSERT(strcmp(c.prev, last) == 0);

	/* With the private key as the verifier's key, too. */
	r = chain_feed(&ch, key, &c, err, sizeof(err));
	T_ASSERTF(r == -1, "line %d refused: %s", r, err);

	/* A log may start mid-chain, as after rotation. */
	audit_chain_init(&c, pub);
	for (r = 9; r < NREC; r++)
		T_ASSERTF(audit_chain_line(&c, ch.line[r], ch.len[r], err,
		    sizeof(err)) == 0, "line %d: %s", r, err);
	T_ASSERT(c.first_seq == 10 && c.records == NREC - 9);
	T_ASSERT(c.checkpoints == 1);
	chain_free(&ch);
}

/* Without a key, checkpoints are counted as unchecked; the chain is not. */
static void
test_chain_no_key(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], buf[1024], *p;
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	r = chain_feed(&ch, NULL, &c, err, sizeof(err));
	T_ASSERTF(r == -1, "line %d refused: %s", r, err);
	T_ASSERT(c.records == NREC);
	T_ASSERT(c.checkpoints == 2 && c.unsigned_checkpoints == 2);
	T_ASSERT(c.keyid[0] == '\0');

	T_ASSERT((p = strstr(ch.line[9], "alice")) != NULL);
	p[4] = 'f';
	r = chain_feed(&ch, NULL, &c, err, sizeof(err));
	T_ASSERTF(r == 10, "refused at %d: %s", r, err);
	T_ASSERT(strstr(err, "chain broken") != NULL);

	/* Nor is the checkpoint's form. */
	chain_free(&ch);
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((p = sig_text(ch.line[6])) != NULL);
	snprintf(buf, sizeof(buf), "%.*sA%s", (int)(p - ch.line[6]),
	    ch.line[6], p);			/* one more character */
	T_ASSERT(chain_set(&ch, 6, buf) == 0);
	r = chain_feed(&ch, NULL, &c, err, sizeof(err));
	T_ASSERTF(r == 6, "refused at %d: %s", r, err);
	T_ASSERT(strstr(err, "not in the form auditd writes") != NULL);
	chain_free(&ch);
}

static void
test_chain_byte_changed(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], *p;
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((p = strstr(ch.line[9], "alice")) != NULL);
	p[4] = 'f';				/* "alicf" */
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 10, "refused at %d (%s), want the next line", r,
	    err);
	T_ASSERTF(strstr(err, "chain broken: 'prev' is not the SHA-256 of "
	    "the record before it") != NULL, "%s", err);
	chain_free(&ch);

	/* A digit of a time: the line still parses, the chain does not. */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((p = strstr(ch.line[2], ".003000Z")) != NULL);
	p[1] = '1';
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 3 && strstr(err, "chain broken") != NULL,
	    "refused at %d: %s", r, err);
	chain_free(&ch);

	/* A changed checkpoint is caught at once by its signature. */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((p = strstr(ch.line[13], "\"records\":13")) != NULL);
	p[11] = '4';
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 13 && strstr(err, "checkpoint signature does not "
	    "verify") != NULL, "refused at %d: %s", r, err);
	chain_free(&ch);

	/* The last record changed: nothing after it to tell (no error). */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((p = strstr(ch.line[NREC - 1], "alice")) != NULL);
	p[0] = 'e';
	T_ASSERT(chain_feed(&ch, pub, &c, err, sizeof(err)) == -1);
	chain_free(&ch);
}

static void
test_chain_removed(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512];
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	free(ch.line[9]);
	memmove(&ch.line[9], &ch.line[10], (ch.n - 10) * sizeof(ch.line[0]));
	memmove(&ch.len[9], &ch.len[10], (ch.n - 10) * sizeof(ch.len[0]));
	ch.n--;
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 9, "refused at %d: %s", r, err);
	T_ASSERTF(strstr(err, "sequence number 11 where 10 was expected: "
	    "records were removed, added or reordered") != NULL, "%s", err);
	chain_free(&ch);
}

static void
test_chain_swapped(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			*tl, err[512];
	size_t			 tn;
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	tl = ch.line[9];
	tn = ch.len[9];
	ch.line[9] = ch.line[10];
	ch.len[9] = ch.len[10];
	ch.line[10] = tl;
	ch.len[10] = tn;
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 9, "refused at %d: %s", r, err);
	T_ASSERTF(strstr(err, "sequence number 11 where 10 was expected") !=
	    NULL, "%s", err);
	chain_free(&ch);

	/* Swapped, and renumbered to hide it: the hashes still tell. */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT(strstr(ch.line[9], "{\"seq\":10,") == ch.line[9]);
	T_ASSERT(strstr(ch.line[10], "{\"seq\":11,") == ch.line[10]);
	ch.line[9][8] = '1';
	ch.line[10][8] = '0';
	tl = ch.line[9];
	tn = ch.len[9];
	ch.line[9] = ch.line[10];
	ch.len[9] = ch.len[10];
	ch.line[10] = tl;
	ch.len[10] = tn;
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 9 && strstr(err, "chain broken") != NULL,
	    "refused at %d: %s", r, err);
	chain_free(&ch);
}

static void
test_chain_duplicated(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512];
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	memmove(&ch.line[11], &ch.line[10], (ch.n - 10) * sizeof(ch.line[0]));
	memmove(&ch.len[11], &ch.len[10], (ch.n - 10) * sizeof(ch.len[0]));
	T_ASSERT((ch.line[10] = strdup(ch.line[9])) != NULL);
	ch.len[10] = ch.len[9];
	ch.n++;
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 10, "refused at %d: %s", r, err);
	T_ASSERTF(strstr(err, "sequence number 10 where 11 was expected") !=
	    NULL, "%s", err);
	chain_free(&ch);

	/* A checkpoint replayed. */
	T_ASSERT(chain_build(&ch, key) == 0);
	memmove(&ch.line[8], &ch.line[7], (ch.n - 7) * sizeof(ch.line[0]));
	memmove(&ch.len[8], &ch.len[7], (ch.n - 7) * sizeof(ch.len[0]));
	T_ASSERT((ch.line[7] = strdup(ch.line[6])) != NULL);
	ch.len[7] = ch.len[6];
	ch.n++;
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 7 && strstr(err, "sequence number 7 where 8") != NULL,
	    "refused at %d: %s", r, err);
	chain_free(&ch);
}

static void
test_chain_sig_altered(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], *s;
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((s = sig_text(ch.line[6])) != NULL);
	s[10] = s[10] == 'A' ? 'B' : 'A';
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 6, "refused at %d: %s", r, err);
	T_ASSERTF(strstr(err, "checkpoint signature does not verify: this "
	    "record or one before it was changed") != NULL, "%s", err);
	chain_free(&ch);

	/* A change in the last, padded character is not canonical. */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((s = sig_text(ch.line[13])) != NULL);
	s[85] = s[85] == 'A' ? 'B' : 'A';
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 13, "refused at %d: %s", r, err);
	T_ASSERTF(strstr(err, "checkpoint signature") != NULL, "%s", err);
	chain_free(&ch);

	/* Not base64. */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((s = sig_text(ch.line[13])) != NULL);
	s[20] = '.';
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 13 && strstr(err, "checkpoint signature is not "
	    "canonical base64") != NULL, "refused at %d: %s", r, err);
	chain_free(&ch);

	/* Shortened by one character. */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((s = sig_text(ch.line[6])) != NULL);
	memmove(s, s + 1, strlen(s));
	ch.len[6]--;
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 6 && strstr(err, "not in the form auditd writes") !=
	    NULL, "refused at %d: %s", r, err);
	chain_free(&ch);
}

/*
 * Ed25519 signatures are 64 bytes: base64 of 86 significant characters
 * and "==".  The last of the 86 carries four bits that are not part of
 * the signature, and the padding none at all, so a verifier that keeps
 * only the first 64 decoded bytes accepts other texts for the same
 * signature.  An altered line must not verify.
 */
static void
test_chain_sig_noncanonical(void)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], *s, orig[89];
	const char		*q;
	int			 r1, r2;

	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((s = sig_text(ch.line[13])) != NULL);
	memcpy(orig, s, 88);
	orig[88] = '\0';
	T_ASSERT(orig[86] == '=' && orig[87] == '=');

	/* Padding replaced. */
	s[86] = 'A';
	s[87] = 'A';
	r1 = chain_feed_n(&ch, 14, pub, &c, err, sizeof(err));

	/* The unused low bits of the last significant character set. */
	memcpy(s, orig, 88);
	T_ASSERT((q = strchr(b64, s[85])) != NULL);
	s[85] = b64[(q - b64) ^ 0x0f];
	r2 = chain_feed_n(&ch, 14, pub, &c, err, sizeof(err));
	chain_free(&ch);

	T_ASSERTF(r1 == 13 && r2 == 13, "altered checkpoint signatures: "
	    "padding \"==\" made \"AA\" %s; the 4 unused bits of the 86th "
	    "character flipped %s", r1 == 13 ? "refused" : "VERIFIED",
	    r2 == 13 ? "refused" : "VERIFIED");
}

static void
test_chain_other_key(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], id[AUDIT_KEYID_LEN + 1];
	char			 id2[AUDIT_KEYID_LEN + 1], want[512];
	int			 r;

	T_ASSERT(audit_key_id(key, id, sizeof(id)) == 0);
	T_ASSERT(audit_key_id(key2, id2, sizeof(id2)) == 0);
	T_ASSERT(chain_build(&ch, key) == 0);
	r = chain_feed(&ch, pub2, &c, err, sizeof(err));
	T_ASSERTF(r == 6, "refused at %d: %s", r, err);
	snprintf(want, sizeof(want), "checkpoint signed by key %s, not by the "
	    "audit key %s", id, id2);
	T_ASSERTF(strcmp(err, want) == 0, "%s", err);
	chain_free(&ch);
}

/* Signed with another key that claims to be the audit key. */
static void
test_chain_forged_key_id(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], id[AUDIT_KEYID_LEN + 1];
	char			 id2[AUDIT_KEYID_LEN + 1], *p;
	char			 hash[SHA256_HEX_LEN + 1];
	int			 r;

	T_ASSERT(audit_key_id(key, id, sizeof(id)) == 0);
	T_ASSERT(audit_key_id(key2, id2, sizeof(id2)) == 0);
	T_ASSERT(chain_build(&ch, key2) == 0);
	T_ASSERT((p = strstr(ch.line[6], id2)) != NULL);
	memcpy(p, id, strlen(id));
	/* The hash chain is repaired after the forged line. */
	sha256_hex(ch.line[6], ch.len[6], hash);
	T_ASSERT((p = strstr(ch.line[7], "\"prev\":\"")) != NULL);
	memcpy(p + 8, hash, SHA256_HEX_LEN);
	r = chain_feed_n(&ch, 8, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 6, "refused at %d: %s", r, err);
	T_ASSERTF(strstr(err, "checkpoint signature does not verify") !=
	    NULL, "%s", err);
	chain_free(&ch);
}

static void
test_chain_first_prev(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	json_t			*f;
	char			 err[512], prev[SHA256_HEX_LEN + 1], *line;
	size_t			 len;
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	memset(prev, 'a', SHA256_HEX_LEN);
	prev[SHA256_HEX_LEN] = '\0';
	f = json_pack("{s:s}", "event", "daemon.start");
	line = audit_record_format(f, 1, T0, "MG0001I", prev, &len);
	json_decref(f);
	T_ASSERT(line != NULL);
	r = chain_set(&ch, 0, line);
	free(line);
	T_ASSERT(r == 0);
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 0, "refused at %d: %s", r, err);
	T_ASSERTF(strcmp(err, "the first record's 'prev' is not all zeros") ==
	    0, "%s", err);
	chain_free(&ch);
}

static void
test_chain_sig_on_record(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], buf[1024];
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	snprintf(buf, sizeof(buf), "%.*s,\"sig\":\"AAAA\"}",
	    (int)ch.len[4] - 1, ch.line[4]);
	T_ASSERT(chain_set(&ch, 4, buf) == 0);
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 4, "refused at %d: %s", r, err);
	T_ASSERTF(strcmp(err, "'sig' on a record that is not a checkpoint") ==
	    0, "%s", err);
	chain_free(&ch);
}

static void
test_chain_sig_not_last(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512], buf[2048], sig[89], *s, *comma;
	int			 r;

	/* {"seq":7,"sig":"...","time":...,"prev":"..."} */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((s = sig_text(ch.line[6])) != NULL);
	memcpy(sig, s, 88);
	sig[88] = '\0';
	comma = s - 8;
	T_ASSERT((s = strchr(ch.line[6], ',')) != NULL);
	snprintf(buf, sizeof(buf), "%.*s,\"sig\":\"%s\"%.*s}",
	    (int)(s - ch.line[6]), ch.line[6], sig, (int)(comma - s), s);
	T_ASSERT(chain_set(&ch, 6, buf) == 0);
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 6, "refused at %d: %s", r, err);
	T_ASSERTF(strcmp(err, "checkpoint signature is not in the form "
	    "auditd writes") == 0, "%s", err);
	chain_free(&ch);

	/* First member. */
	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT((s = sig_text(ch.line[6])) != NULL);
	comma = s - 8;
	snprintf(buf, sizeof(buf), "{\"sig\":\"%s\",%.*s}", sig,
	    (int)(comma - ch.line[6] - 1), ch.line[6] + 1);
	T_ASSERT(chain_set(&ch, 6, buf) == 0);
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 6 && strstr(err, "not in the form auditd writes") !=
	    NULL, "refused at %d: %s", r, err);
	chain_free(&ch);

	/* Last, but with a space before the closing brace. */
	T_ASSERT(chain_build(&ch, key) == 0);
	snprintf(buf, sizeof(buf), "%.*s }", (int)ch.len[6] - 1, ch.line[6]);
	T_ASSERT(chain_set(&ch, 6, buf) == 0);
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 6 && strstr(err, "not in the form auditd writes") !=
	    NULL, "refused at %d: %s", r, err);
	chain_free(&ch);
}

static void
test_chain_checkpoint_unsigned(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	json_t			*f;
	char			 err[512], *line;
	size_t			 len;
	int			 r;

	/* What audit_record_format() would write for one: no sig. */
	T_ASSERT(chain_build(&ch, key) == 0);
	f = json_pack("{s:s, s:s}", "event", AUDIT_CHECKPOINT, "key", "x");
	line = audit_record_format(f, 1, T0, "MG0100I", audit_zero_hash,
	    &len);
	json_decref(f);
	T_ASSERT(line != NULL);
	r = chain_set(&ch, 0, line);
	free(line);
	T_ASSERT(r == 0);
	r = chain_feed(&ch, NULL, &c, err, sizeof(err));
	T_ASSERTF(r == 0 && strcmp(err, "checkpoint without 'sig' or 'key'")
	    == 0, "refused at %d: %s", r, err);
	chain_free(&ch);
}

/* A line that is not a record stops the chain with the parser's words. */
static void
test_chain_bad_line(void)
{
	struct chain		 ch;
	struct audit_chain	 c;
	char			 err[512];
	int			 r;

	T_ASSERT(chain_build(&ch, key) == 0);
	T_ASSERT(chain_set(&ch, 12, "{\"seq\":13}") == 0);
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 12 && strcmp(err, "missing or bad 'time'") == 0,
	    "refused at %d: %s", r, err);
	T_ASSERT(chain_set(&ch, 12, "garbage") == 0);
	r = chain_feed(&ch, pub, &c, err, sizeof(err));
	T_ASSERTF(r == 12 && strstr(err, "not valid JSON") != NULL,
	    "refused at %d: %s", r, err);
	T_ASSERT(c.records == 12);
	chain_free(&ch);
}

int
main(void)
{
	t_suite = "audit";
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	key2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (key == NULL || key2 == NULL ||
	    (pub = public_of(key)) == NULL || (pub2 = public_of(key2)) ==
	    NULL) {
		printf("FAIL audit: setup: cannot make Ed25519 keys\n");
		return (1);
	}
	T_RUN(test_event_codes);
	T_RUN(test_event_writers);
	T_RUN(test_anchor_format_parse);
	T_RUN(test_record_format);
	T_RUN(test_record_format_refused);
	T_RUN(test_key_id);
	T_RUN(test_checkpoint_format);
	T_RUN(test_line_parse);
	T_RUN(test_line_parse_signed_year);
	T_RUN(test_file_names);
	T_RUN(test_chain_ok);
	T_RUN(test_chain_no_key);
	T_RUN(test_chain_byte_changed);
	T_RUN(test_chain_removed);
	T_RUN(test_chain_swapped);
	T_RUN(test_chain_duplicated);
	T_RUN(test_chain_sig_altered);
	T_RUN(test_chain_sig_noncanonical);
	T_RUN(test_chain_other_key);
	T_RUN(test_chain_forged_key_id);
	T_RUN(test_chain_first_prev);
	T_RUN(test_chain_sig_on_record);
	T_RUN(test_chain_sig_not_last);
	T_RUN(test_chain_checkpoint_unsigned);
	T_RUN(test_chain_bad_line);
	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(pub2);
	return (t_done());
}
