/*
 * Fuzz the audit log's record parser and chain verifier, which
 * mcpgatectl runs over files an attacker may have edited.  The input is a
 * log: each line, split at '\n', is parsed on its own and fed to two
 * chains, one that checks checkpoint signatures with a fixed Ed25519 key
 * and one without a key.  A chain that refuses a line keeps its state and
 * is fed the next line all the same.  The whole input is also read as an
 * anchor file.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "audit_record.h"
#include "util.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The audit key: the checkpoints in the valid-* seeds are signed with it. */
static const unsigned char key_seed[32] = {
	0x6d, 0x63, 0x70, 0x67, 0x61, 0x74, 0x65, 0x2d,
	0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x61, 0x75, 0x64,
	0x69, 0x74, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31,
};

static EVP_PKEY	*pubkey;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY	*priv;
	unsigned char	 raw[32];
	size_t		 rlen = sizeof(raw);

	(void)argc;
	(void)argv;
	if ((priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    key_seed, sizeof(key_seed))) == NULL ||
	    EVP_PKEY_get_raw_public_key(priv, raw, &rlen) != 1 ||
	    (pubkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    raw, rlen)) == NULL)
		abort();
	EVP_PKEY_free(priv);
	return (0);
}

static void
check_err(const char *err, size_t size)
{
	if (err[0] == '\0' || memchr(err, '\0', size) == NULL)
		abort();
}

static void
feed(struct audit_chain *c, const char *line, size_t len)
{
	char		 err[512], hex[SHA256_HEX_LEN + 1];
	uint64_t	 records = c->records;

	err[0] = '\0';
	if (audit_chain_line(c, line, len, err, sizeof(err)) == -1) {
		check_err(err, sizeof(err));
		if (c->records != records)
			abort();
		return;
	}
	/* An accepted line is the one the next must point back to. */
	sha256_hex(line, len, hex);
	if (c->records != records + 1 || !c->started ||
	    strcmp(c->prev, hex) != 0 || c->next_seq < 2)
		abort();
}

static void
parse(const char *line, size_t len)
{
	const struct audit_event	*ev;
	json_t				*rec;
	char				 err[512], name[64];
	uint64_t			 seq;

	err[0] = '\0';
	if ((rec = audit_line_parse(line, len, err, sizeof(err))) == NULL) {
		check_err(err, sizeof(err));
	} else {
		if (!json_is_object(rec))
			abort();
		ev = audit_event_find(json_string_value(json_object_get(rec,
		    "event")));
		if (ev != NULL && audit_event_code(ev, rec) == NULL)
			abort();
		json_decref(rec);
	}

	/* The same bytes as a file name, for the log directory's reader. */
	if (len < sizeof(name) && memchr(line, '\0', len) == NULL) {
		memcpy(name, line, len);
		name[len] = '\0';
		if (audit_file_seq(name, &seq) == 0 && seq == 0)
			abort();
	}
}

/*
 * The whole input as an anchor file (mcpgatectl reads it, and so does
 * the parent): what parses is well formed and formats back the same.
 */
static void
anchor(const uint8_t *data, size_t size)
{
	struct audit_anchor_file	 a, b;
	char				 err[512], *line;
	uint64_t			 fseq;
	size_t				 len;

	err[0] = '\0';
	if (audit_anchor_parse((const char *)data, size, &a, err,
	    sizeof(err)) == -1) {
		check_err(err, sizeof(err));
		return;
	}
	if (a.seq == 0 || !audit_is_hash(a.sha256) ||
	    audit_file_seq(a.file, &fseq) == -1 || fseq > a.seq)
		abort();
	if ((line = audit_anchor_format(&a, &len)) == NULL)
		return;
	if (audit_anchor_parse(line, len, &b, err, sizeof(err)) == -1 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_chain	 signed_chain, plain;
	const uint8_t		*p = data, *end = data + size, *nl;
	char			*line;
	size_t			 len;

	anchor(data, size);

	audit_chain_init(&signed_chain, pubkey);
	audit_chain_init(&plain, NULL);
	if (signed_chain.keyid[0] == '\0')
		abort();

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);

		/* An exact copy, not NUL-terminated, so that overreads show. */
		if ((line = malloc(len > 0 ? len : 1)) == NULL)
			return (0);
		if (len > 0)
			memcpy(line, p, len);
		parse(line, len);
		feed(&signed_chain, line, len);
		feed(&plain, line, len);
		free(line);
		if (nl == end)
			break;
		p = nl + 1;
	}
	return (0);
}
