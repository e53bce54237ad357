#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "audit_record.h"
#include "util.h"

const char audit_zero_hash[SHA256_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/*
 * Every event the gateway records, with its stable code: MG, four
 * digits, and I (information), W (a refusal or failure) or E (an error);
 * and the one process that may write it.  auditd refuses an event from
 * any other sender and treats that sender as compromised: mcpd, which
 * parses what the network sends, can write only what happens in MCP
 * sessions, never a login, an administrator's change or the daemon's
 * own events.
 */
static const struct audit_event audit_events[] = {
	{ "daemon.start",		"MG0001I", NULL, AUDIT_BY_PARENT },
	{ "daemon.stop",		"MG0002I", NULL, AUDIT_BY_PARENT },
	{ "daemon.reload",		"MG0003I", "MG0003E", AUDIT_BY_PARENT },
	{ "audit.checkpoint",		"MG0100I", NULL, AUDIT_BY_AUDITD },
	{ "audit.torn",			"MG0101W", NULL, AUDIT_BY_AUDITD },
	{ "audit.tamper",		"MG0102E", NULL, AUDIT_BY_AUDITD },
	{ "user.login",			"MG1000I", "MG1000W", AUDIT_BY_PARENT },
	{ "user.create",		"MG1001I", "MG1001W", AUDIT_BY_PARENT },
	{ "user.update",		"MG1002I", "MG1002W", AUDIT_BY_PARENT },
	{ "user.lock",			"MG1003I", "MG1003W", AUDIT_BY_PARENT },
	{ "user.unlock",		"MG1004I", "MG1004W", AUDIT_BY_PARENT },
	{ "user.delete",		"MG1005I", "MG1005W", AUDIT_BY_PARENT },
	{ "user.reset",			"MG1006I", "MG1006W", AUDIT_BY_PARENT },
	{ "role.create",		"MG1010I", "MG1010W", AUDIT_BY_PARENT },
	{ "role.update",		"MG1011I", "MG1011W", AUDIT_BY_PARENT },
	{ "role.delete",		"MG1012I", "MG1012W", AUDIT_BY_PARENT },
	{ "token.create",		"MG1020I", "MG1020W", AUDIT_BY_PARENT },
	{ "token.delete",		"MG1021I", "MG1021W", AUDIT_BY_PARENT },
	{ "app.create",			"MG1030I", "MG1030W", AUDIT_BY_PARENT },
	{ "app.update",			"MG1031I", "MG1031W", AUDIT_BY_PARENT },
	{ "app.delete",			"MG1032I", "MG1032W", AUDIT_BY_PARENT },
	{ "jwt.rotate",			"MG1040I", "MG1040W", AUDIT_BY_PARENT },
	{ "mcp.session.start",		"MG2000I", "MG2000W", AUDIT_BY_MCPD },
	{ "mcp.session.end",		"MG2001I", NULL, AUDIT_BY_MCPD },
	{ "mcp.session.request",	"MG2002I", "MG2002W", AUDIT_BY_MCPD },
	{ "mcp.session.notification",	"MG2003I", NULL, AUDIT_BY_MCPD },
	{ "mcp.session.server_request",	"MG2004I", "MG2004W", AUDIT_BY_MCPD },
	{ NULL, NULL, NULL, 0 }
};

/* Fields the writer sets; a sender may not supply them. */
static const char *const reserved[] = {
	"seq", "time", "code", "prev", "sig", NULL
};

const struct audit_event *
audit_event_find(const char *name)
{
	const struct audit_event	*ev;

	for (ev = audit_events; ev->name != NULL; ev++)
		if (strcmp(ev->name, name) == 0)
			return (ev);
	return (NULL);
}

/* The code for this record: the failure code when "success" is false. */
const char *
audit_event_code(const struct audit_event *ev, json_t *fields)
{
	json_t	*ok = json_object_get(fields, "success");

	if (ev->code_fail != NULL && json_is_false(ok))
		return (ev->code_fail);
	return (ev->code);
}

/* The process an AUDIT_BY_* bit stands for, for messages. */
const char *
audit_writer_name(unsigned int who)
{
	switch (who) {
	case AUDIT_BY_PARENT:
		return ("parent");
	case AUDIT_BY_MCPD:
		return ("mcpd");
	case AUDIT_BY_AUDITD:
		return ("auditd");
	default:
		return ("nobody");
	}
}

/* Files are named by the sequence number of their first record. */
int
audit_file_name(uint64_t first_seq, char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, AUDIT_FILE_PREFIX "%012" PRIu64
	    AUDIT_FILE_SUFFIX, first_seq);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

int
audit_file_seq(const char *name, uint64_t *seq)
{
	const char	*p;
	size_t		 plen = strlen(AUDIT_FILE_PREFIX);
	uint64_t	 n = 0;
	int		 digits = 0;

	if (strncmp(name, AUDIT_FILE_PREFIX, plen) != 0)
		return (-1);
	for (p = name + plen; isdigit((unsigned char)*p); p++, digits++) {
		if (n > (UINT64_MAX - 9) / 10)
			return (-1);
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (digits < 12 || strcmp(p, AUDIT_FILE_SUFFIX) != 0 || n == 0)
		return (-1);
	*seq = n;
	return (0);
}

/*
 * One record line (no newline) from the sender's fields, which must hold
 * "event" and none of the writer's own keys.  NULL with errno EINVAL for
 * a bad field set, EMSGSIZE for a record longer than AUDIT_LINE_MAX.
 */
char *
audit_record_format(json_t *fields, uint64_t seq, int64_t us,
    const char *code, const char *prev, size_t *lenp)
{
	json_t		*rec, *v;
	const char	*key;
	char		 ts[TIME_RFC3339_LEN];
	char		*line;
	int		 i;

	errno = EINVAL;
	if (!json_is_object(fields) ||
	    !json_is_string(json_object_get(fields, "event")))
		return (NULL);
	for (i = 0; reserved[i] != NULL; i++)
		if (json_object_get(fields, reserved[i]) != NULL)
			return (NULL);
	fmt_time_us(us, ts, sizeof(ts));
	if ((rec = json_object()) == NULL)
		return (NULL);
	if (json_object_set_new(rec, "seq", json_integer((json_int_t)seq)) ||
	    json_object_set_new(rec, "time", json_string(ts)) ||
	    json_object_set(rec, "event", json_object_get(fields, "event")) ||
	    json_object_set_new(rec, "code", json_string(code)))
		goto fail;
	json_object_foreach(fields, key, v) {
		if (strcmp(key, "event") == 0)
			continue;
		if (json_object_set(rec, key, v) == -1)
			goto fail;
	}
	if (json_object_set_new(rec, "prev", json_string(prev)) == -1)
		goto fail;
	line = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (line == NULL)
		return (NULL);
	*lenp = strlen(line);
	if (*lenp > AUDIT_LINE_MAX) {
		free(line);
		errno = EMSGSIZE;
		return (NULL);
	}
	return (line);
 fail:
	json_decref(rec);
	return (NULL);
}

/* "SHA256:" and the hex SHA-256 of the raw public key. */
int
audit_key_id(EVP_PKEY *key, char *buf, size_t len)
{
	unsigned char	 raw[32];
	char		 hex[SHA256_HEX_LEN + 1];
	size_t		 rlen = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(key, raw, &rlen) != 1)
		return (-1);
	sha256_hex(raw, rlen, hex);
	return (snprintf(buf, len, "SHA256:%s", hex) >= (int)len ? -1 : 0);
}

static int
ed25519_sign(EVP_PKEY *key, const void *msg, size_t len, unsigned char *sig,
    size_t *siglen)
{
	EVP_MD_CTX	*md;
	int		 ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return (-1);
	ok = EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return (ok ? 0 : -1);
}

static int
ed25519_verify(EVP_PKEY *key, const void *msg, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*md;
	int		 ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return (-1);
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return (ok ? 0 : -1);
}

/*
 * A checkpoint: the record with extra fields (may be NULL), then its
 * signature appended as the last member.
 */
char *
audit_checkpoint_format(EVP_PKEY *key, uint64_t seq, int64_t us,
    const char *prev, json_t *extra, size_t *lenp)
{
	json_t		*fields;
	unsigned char	 sig[64];
	char		 b64[4 * ((sizeof(sig) + 2) / 3) + 1];
	char		 keyid[AUDIT_KEYID_LEN + 1];
	char		*body, *line;
	size_t		 blen, siglen = sizeof(sig);
	const struct audit_event *ev = audit_event_find(AUDIT_CHECKPOINT);

	if (audit_key_id(key, keyid, sizeof(keyid)) == -1)
		return (NULL);
	if ((fields = extra != NULL ? json_deep_copy(extra) :
	    json_object()) == NULL)
		return (NULL);
	json_object_set_new(fields, "event", json_string(AUDIT_CHECKPOINT));
	json_object_set_new(fields, "key", json_string(keyid));
	body = audit_record_format(fields, seq, us, ev->code, prev, &blen);
	json_decref(fields);
	if (body == NULL)
		return (NULL);
	if (ed25519_sign(key, body, blen, sig, &siglen) == -1) {
		free(body);
		return (NULL);
	}
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
	body[blen - 1] = '\0';		/* drop the closing brace */
	if (asprintf(&line, "%s,\"sig\":\"%s\"}", body, b64) == -1)
		line = NULL;
	free(body);
	if (line != NULL)
		*lenp = strlen(line);
	return (line);
}

/*
 * Parse one line as a record and check the members every record has.
 * Returns the object, or NULL with a sentence in err.
 */
json_t *
audit_line_parse(const char *line, size_t len, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*rec, *v;
	int64_t		 us;

	if (len > AUDIT_LINE_MAX) {
		snprintf(err, errlen, "record longer than %d bytes",
		    AUDIT_LINE_MAX);
		return (NULL);
	}
	if ((rec = json_loadb(line, len, JSON_REJECT_DUPLICATES |
	    JSON_DISABLE_EOF_CHECK, &jerr)) == NULL) {
		snprintf(err, errlen, "not valid JSON: %s (column %d)",
		    jerr.text, jerr.column);
		return (NULL);
	}
	if ((size_t)jerr.position != len) {
		snprintf(err, errlen, "text after the record at column %d",
		    jerr.position + 1);
		goto bad;
	}
	if (!json_is_object(rec)) {
		snprintf(err, errlen, "not a JSON object");
		goto bad;
	}
	v = json_object_get(rec, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		snprintf(err, errlen, "missing or bad 'seq'");
		goto bad;
	}
	v = json_object_get(rec, "time");
	if (!json_is_string(v) || parse_time(json_string_value(v), 0, &us) ||
	    strchr(json_string_value(v), 'T') == NULL) {
		snprintf(err, errlen, "missing or bad 'time'");
		goto bad;
	}
	v = json_object_get(rec, "event");
	if (!json_is_string(v) || json_string_length(v) == 0) {
		snprintf(err, errlen, "missing or bad 'event'");
		goto bad;
	}
	if (!json_is_string(json_object_get(rec, "code"))) {
		snprintf(err, errlen, "missing or bad 'code'");
		goto bad;
	}
	v = json_object_get(rec, "prev");
	if (!json_is_string(v) || json_string_length(v) != SHA256_HEX_LEN) {
		snprintf(err, errlen, "missing or bad 'prev'");
		goto bad;
	}
	if (!audit_is_hash(json_string_value(v))) {
		snprintf(err, errlen, "'prev' is not lowercase hex");
		goto bad;
	}
	return (rec);
 bad:
	json_decref(rec);
	return (NULL);
}

/* A SHA-256 as the log writes it: 64 lowercase hex digits. */
int
audit_is_hash(const char *s)
{
	size_t	 i;

	for (i = 0; i < SHA256_HEX_LEN; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' ||
		    s[i] > 'f'))
			return (0);
	return (s[i] == '\0');
}

/* The anchor file's one line, with its newline. */
char *
audit_anchor_format(const struct audit_anchor_file *a, size_t *lenp)
{
	json_t	*o;
	char	*s, *line;

	if ((o = json_pack("{s:I,s:s,s:s,s:s}", "seq", (json_int_t)a->seq,
	    "sha256", a->sha256, "file", a->file, "time", a->time)) == NULL)
		return (NULL);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return (NULL);
	if (asprintf(&line, "%s\n", s) == -1)
		line = NULL;
	free(s);
	if (line != NULL)
		*lenp = strlen(line);
	return (line);
}

/*
 * Parse an anchor file.  Every member must be there and well formed;
 * returns -1 with a sentence in err otherwise.
 */
int
audit_anchor_parse(const char *buf, size_t len, struct audit_anchor_file *a,
    char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*o, *v;
	const char	*s;
	uint64_t	 fseq;
	int64_t		 us;
	int		 ret = -1;

	memset(a, 0, sizeof(*a));
	if (len > 4096) {
		snprintf(err, errlen, "longer than any anchor");
		return (-1);
	}
	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(err, errlen, "not valid JSON: %s", jerr.text);
		return (-1);
	}
	if (!json_is_object(o) || json_object_size(o) != 4) {
		snprintf(err, errlen, "not an object of seq, sha256, file and "
		    "time");
		goto out;
	}
	v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		snprintf(err, errlen, "missing or bad 'seq'");
		goto out;
	}
	a->seq = (uint64_t)json_integer_value(v);
	s = json_string_value(json_object_get(o, "sha256"));
	if (s == NULL || !audit_is_hash(s)) {
		snprintf(err, errlen, "missing or bad 'sha256'");
		goto out;
	}
	strlcpy(a->sha256, s, sizeof(a->sha256));
	s = json_string_value(json_object_get(o, "file"));
	if (s == NULL || audit_file_seq(s, &fseq) == -1 || fseq > a->seq ||
	    strlcpy(a->file, s, sizeof(a->file)) >= sizeof(a->file)) {
		snprintf(err, errlen, "missing or bad 'file'");
		goto out;
	}
	s = json_string_value(json_object_get(o, "time"));
	if (s == NULL || strchr(s, 'T') == NULL || parse_time(s, 0, &us) ==
	    -1 || strlcpy(a->time, s, sizeof(a->time)) >= sizeof(a->time)) {
		snprintf(err, errlen, "missing or bad 'time'");
		goto out;
	}
	ret = 0;
 out:
	json_decref(o);
	return (ret);
}

void
audit_chain_init(struct audit_chain *c, EVP_PKEY *pubkey)
{
	memset(c, 0, sizeof(*c));
	c->pubkey = pubkey;
	if (pubkey != NULL && audit_key_id(pubkey, c->keyid,
	    sizeof(c->keyid)) == -1)
		c->keyid[0] = '\0';
}

/*
 * A checkpoint's signature, which must be the last member, exactly as
 * auditd writes it (canonical base64), and verify under the audit key.
 * Changes nothing in the chain; *checked says whether a key was there.
 */
static int
checkpoint_check(const struct audit_chain *c, json_t *rec, const char *line,
    size_t len, int *checked, char *err, size_t errlen)
{
	static const char	 tag[] = ",\"sig\":\"";
	const char		*p, *sigp, *sig64;
	json_t			*key, *sigv;
	unsigned char		 sig[66];
	char			 canon[89];
	char			*body;
	size_t			 blen, slen;
	int			 n, ok;

	*checked = 0;
	sigv = json_object_get(rec, "sig");
	key = json_object_get(rec, "key");
	if (!json_is_string(sigv) || !json_is_string(key)) {
		snprintf(err, errlen, "checkpoint without 'sig' or 'key'");
		return (-1);
	}
	sigp = NULL;
	for (p = line; (p = memmem(p, len - (size_t)(p - line), tag,
	    sizeof(tag) - 1)) != NULL; p++)
		sigp = p;
	sig64 = json_string_value(sigv);
	slen = json_string_length(sigv);
	if (sigp == NULL || slen != 88 || (size_t)(sigp - line) +
	    sizeof(tag) - 1 + slen + 2 != len ||
	    memcmp(sigp + sizeof(tag) - 1, sig64, slen) != 0) {
		snprintf(err, errlen, "checkpoint signature is not in the "
		    "form auditd writes");
		return (-1);
	}
	/* 64 bytes and two of padding, and only the one encoding of them. */
	n = EVP_DecodeBlock(sig, (const unsigned char *)sig64, (int)slen);
	if (n != 66 || EVP_EncodeBlock((unsigned char *)canon, sig, 64) !=
	    88 || memcmp(canon, sig64, 88) != 0) {
		snprintf(err, errlen, "checkpoint signature is not canonical "
		    "base64");
		return (-1);
	}
	if (c->pubkey == NULL)
		return (0);
	if (strcmp(json_string_value(key), c->keyid) != 0) {
		snprintf(err, errlen, "checkpoint signed by key %s, not by "
		    "the audit key %s", json_string_value(key), c->keyid);
		return (-1);
	}
	blen = (size_t)(sigp - line) + 1;
	if ((body = malloc(blen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	memcpy(body, line, blen - 1);
	body[blen - 1] = '}';
	ok = ed25519_verify(c->pubkey, body, blen, sig, 64) == 0;
	free(body);
	if (!ok) {
		snprintf(err, errlen, "checkpoint signature does not verify: "
		    "this record or one before it was changed");
		return (-1);
	}
	*checked = 1;
	return (0);
}

/*
 * Feed the next line of the log.  Returns 0 when it continues the chain,
 * -1 with a sentence in err when it does not.
 */
int
audit_chain_line(struct audit_chain *c, const char *line, size_t len,
    char *err, size_t errlen)
{
	json_t		*rec;
	uint64_t	 seq;
	const char	*prev, *event;
	int		 checkpoint, checked = 0, ret = -1;

	if ((rec = audit_line_parse(line, len, err, errlen)) == NULL)
		return (-1);
	seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	prev = json_string_value(json_object_get(rec, "prev"));
	event = json_string_value(json_object_get(rec, "event"));
	checkpoint = strcmp(event, AUDIT_CHECKPOINT) == 0;

	if (c->started) {
		if (seq != c->next_seq) {
			snprintf(err, errlen, "sequence number %" PRIu64
			    " where %" PRIu64 " was expected: records were "
			    "removed, added or reordered", seq, c->next_seq);
			goto out;
		}
		if (strcmp(prev, c->prev) != 0) {
			snprintf(err, errlen, "chain broken: 'prev' is not "
			    "the SHA-256 of the record before it, so that "
			    "record was changed or records were reordered");
			goto out;
		}
	} else if (seq == 1 && strcmp(prev, audit_zero_hash) != 0) {
		snprintf(err, errlen, "the first record's 'prev' is not all "
		    "zeros");
		goto out;
	}
	if (checkpoint) {
		if (checkpoint_check(c, rec, line, len, &checked, err,
		    errlen) == -1)
			goto out;
	} else if (json_object_get(rec, "sig") != NULL) {
		snprintf(err, errlen, "'sig' on a record that is not a "
		    "checkpoint");
		goto out;
	}

	/* The line continues the chain: only now does the state move. */
	if (!c->started) {
		c->first_seq = seq;
		c->started = 1;
	}
	if (checkpoint) {
		c->checkpoints++;
		if (!checked)
			c->unsigned_checkpoints++;
		c->last_checkpoint_seq = seq;
		c->since_checkpoint = 0;
	} else
		c->since_checkpoint++;
	sha256_hex(line, len, c->prev);
	c->next_seq = seq + 1;
	c->records++;
	ret = 0;
 out:
	json_decref(rec);
	return (ret);
}
