/*
 * auditd: the audit process.  It appends hash-chained JSON records to the
 * files of the audit directory (its chroot), makes them durable as the
 * configuration asks, rotates by size, signs checkpoints with the audit
 * key, and tells each sender whether its record is written.  It reads no
 * network input and runs nothing.
 */
#ifndef MCPGATE_AUDITD_H
#define MCPGATE_AUDITD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "audit_record.h"
#include "child.h"
#include "ev.h"
#include "proto.h"
#include "sandbox.h"

#define AUDITD_CHECKPOINT_RECORDS	1000
#define AUDITD_CHECKPOINT_MS		(10 * 1000)
#define AUDITD_BATCH_SYNC_MS		10
#define AUDITD_BATCH_SYNC_RECORDS	256
#define AUDITD_TORN_KEEP		(64 * 1024)
#define AUDITD_CHECKPOINT_ROOM		1024	/* a checkpoint line is ~400 */
#define AUDITD_WATCH_MS			1000	/* is our file still there? */

#define ANCHOR_NONE		0
#define ANCHOR_BATCHED		1	/* a checkpoint in the batch */
#define ANCHOR_WRITTEN		2	/* in the file, not yet synced */

/* A sender waiting to hear about its record. */
struct audit_waiter {
	TAILQ_ENTRY(audit_waiter) entry;
	enum proc_id		 from;
	uint32_t		 id;
	uint64_t		 seq;
	int			 nowait;	/* nothing holds for it */
};

TAILQ_HEAD(audit_waiters, audit_waiter);

struct journal {
	int			 dirfd;
	int			 fd;		/* -1: created at first write */
	char			 name[AUDIT_FILE_MAX];
	uint64_t		 size;		/* bytes known good */
	uint64_t		 seq;		/* last record written */
	char			 prev[SHA256_HEX_LEN + 1];
	uint64_t		 max_size;
	int			 fsync_mode;

	/* records formatted, not yet written */
	char			*batch;
	size_t			 batchlen;
	size_t			 batchcap;
	size_t			 batchrecs;
	uint64_t		 batch_seq;	/* the chain before the batch */
	char			 batch_prev[SHA256_HEX_LEN + 1];
	struct audit_waiters	 unwritten;
	struct audit_waiters	 unsynced;	/* written, waiting for sync */
	size_t			 nunsynced;

	EVP_PKEY		*key;
	/* the newest checkpoint, reported once it is synced */
	int			 anchor_state;	/* ANCHOR_* */
	struct audit_anchor	 anchor;
	void			(*on_anchor)(const struct audit_anchor *);
	/* each record once written: the line, without its newline */
	void			(*on_written)(const char *, size_t, uint64_t);
	struct ev_timer		 sync_timer;
	struct ev_timer		 checkpoint_timer;
	struct ev_timer		 watch_timer;
	uint64_t		 since_checkpoint;
	int			 failing;
	int64_t			 last_fail_log;
	struct auditd_status	 stats;
};

/* audit.syslog, and why a message was not sent */
#define ASYSLOG_NOSOCKET	0
#define ASYSLOG_FULL		1	/* EAGAIN: the receiver's queue */
#define ASYSLOG_NOBUFS		2
#define ASYSLOG_REFUSED		3	/* the receiver is gone */
#define ASYSLOG_OTHER		4
#define ASYSLOG_CAUSES		5
struct asyslog {
	int			 fd;	/* connected to /dev/log, or -1 */
	int			 enabled;
	int			 facility;
	char			 tag[AUDIT_SYSLOG_TAGLEN];
	pid_t			 pid;
	int64_t			 last_drop_log[ASYSLOG_CAUSES];
	int64_t			 last_trunc_log;
};

struct auditd {
	struct conf_snapshot	 conf;
	struct child_chan	 mcpd;
	struct journal		 j;
	struct ev_timer		 commit_timer;
	struct asyslog		 syslog;
};

extern struct auditd		*auditd;
extern const struct sandbox_policy auditd_sandbox;

void	 auditd_main(int, int) __attribute__((noreturn));
int	 auditd_dispatch_parent(struct imsg *);
void	 auditd_dispatch_mcpd(int, short, void *);
void	 auditd_ack(enum proc_id, uint32_t, const struct audit_ack *);

/* journal.c */
void	 journal_init(struct journal *, int, EVP_PKEY *, uint64_t, int);
int	 journal_recover(struct journal *);
int	 journal_append(struct journal *, enum proc_id, uint32_t, json_t *,
	    int);
void	 journal_commit(struct journal *);
void	 journal_sync(struct journal *);
int	 journal_watch(struct journal *);
int	 journal_checkpoint(struct journal *);
void	 journal_seal(struct journal *);
void	 journal_close(struct journal *);
void	 journal_reconf(struct journal *, uint64_t, int);

/* syslog.c */
struct tm;
void	 asyslog_init(struct asyslog *);
void	 asyslog_set(struct asyslog *, const struct audit_syslog *, int);
int	 asyslog_header(char *, size_t, int, const struct tm *, const char *,
	    pid_t);
void	 asyslog_send(struct asyslog *, struct auditd_status *, const char *,
	    size_t, uint64_t);

#endif
