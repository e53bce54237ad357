/*
 * The audit log's record format and hash chain, shared by auditd, which
 * writes it, and mcpgatectl, which verifies and searches it.
 *
 * A record is one line of compact JSON:
 *   {"seq":N,"time":"...Z","event":"...","code":"...",<fields>,"prev":"hex"}
 * where prev is the SHA-256 of the previous record's line (without its
 * newline), or 64 zeros for the first record ever.  A checkpoint record
 * ("event":"audit.checkpoint") ends with ,"sig":"base64"}: an Ed25519
 * signature, by the audit key, over the same line with that member
 * removed, which covers every record before it through the chain.
 */
#ifndef MCPGATE_AUDIT_RECORD_H
#define MCPGATE_AUDIT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "util.h"

#define AUDIT_LINE_MAX		(256 * 1024)
#define AUDIT_FILE_PREFIX	"audit-"
#define AUDIT_FILE_SUFFIX	".jsonl"
#define AUDIT_PUBKEY_FILE	"audit.pub"
#define AUDIT_CHECKPOINT	"audit.checkpoint"
#define AUDIT_TAMPER		"audit.tamper"
#define AUDIT_KEYID_LEN		(7 + SHA256_HEX_LEN)	/* SHA256:hex */
#define AUDIT_ANCHOR_FILE	"audit.anchor"
#define AUDIT_NAME_MAX		64	/* a file name in the audit directory */

/* Who may write an event: a process that sends another is compromised. */
#define AUDIT_BY_PARENT		0x1
#define AUDIT_BY_MCPD		0x2
#define AUDIT_BY_AUDITD		0x4

struct audit_event {
	const char	*name;
	const char	*code;		/* success, or the only code */
	const char	*code_fail;	/* "success": false */
	unsigned int	 writers;	/* AUDIT_BY_* */
};

struct audit_chain {
	EVP_PKEY	*pubkey;	/* NULL: signatures not checked */
	char		 keyid[AUDIT_KEYID_LEN + 1];
	int		 started;
	char		 prev[SHA256_HEX_LEN + 1];
	uint64_t	 next_seq;
	uint64_t	 first_seq;
	uint64_t	 records;
	uint64_t	 checkpoints;
	uint64_t	 unsigned_checkpoints;
	uint64_t	 last_checkpoint_seq;
	uint64_t	 since_checkpoint;
};

/*
 * The anchor: the newest checkpoint that auditd wrote and synced, as the
 * parent keeps it in the state directory, out of the audit user's reach.
 * One line of JSON: {"seq":N,"sha256":"hex","file":"...","time":"...Z"},
 * sha256 being the hash of the checkpoint's line.
 */
struct audit_anchor_file {
	uint64_t	 seq;
	char		 sha256[SHA256_HEX_LEN + 1];
	char		 file[AUDIT_NAME_MAX];
	char		 time[TIME_RFC3339_LEN];
};

extern const char	 audit_zero_hash[SHA256_HEX_LEN + 1];

const struct audit_event *audit_event_find(const char *);
const char	*audit_event_code(const struct audit_event *, json_t *);
const char	*audit_writer_name(unsigned int);
int		 audit_file_name(uint64_t, char *, size_t);
int		 audit_file_seq(const char *, uint64_t *);
char		*audit_record_format(json_t *, uint64_t, int64_t,
		    const char *, const char *, size_t *);
char		*audit_checkpoint_format(EVP_PKEY *, uint64_t, int64_t,
		    const char *, json_t *, size_t *);
int		 audit_key_id(EVP_PKEY *, char *, size_t);
json_t		*audit_line_parse(const char *, size_t, char *, size_t);
int		 audit_is_hash(const char *);
char		*audit_anchor_format(const struct audit_anchor_file *,
		    size_t *);
int		 audit_anchor_parse(const char *, size_t,
		    struct audit_anchor_file *, char *, size_t);
void		 audit_chain_init(struct audit_chain *, EVP_PKEY *);
int		 audit_chain_line(struct audit_chain *, const char *, size_t,
		    char *, size_t);

#endif
