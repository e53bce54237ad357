/*
 * Unit tests for auditd/journal.c: when records are synced.  With fsync
 * "always" a record something holds for is synced at once, and takes
 * with it the records nothing holds for, which otherwise wait at most
 * AUDITD_BATCH_SYNC_MS; with "none" nothing is synced.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <syslog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "../../auditd/auditd.h"
#include "ev.h"
#include "log.h"
#include "unit.h"

static EVP_PKEY	*key;
static char	 base[] = "/tmp/test_journal.XXXXXX";
static int	 ndirs;
static struct auditd fake_auditd;

struct fixture {
	struct journal	 j;
	int		 dirfd;
};

static int
open_journal(struct fixture *f, int mode)
{
	char	 dir[64];

	snprintf(dir, sizeof(dir), "%s/%d", base, ndirs++);
	if (mkdir(dir, 0700) == -1 || (f->dirfd = open(dir, O_RDONLY |
	    O_DIRECTORY)) == -1)
		return (-1);
	journal_init(&f->j, f->dirfd, key, 1ULL << 30, mode);
	return (journal_recover(&f->j));
}

static void
close_journal(struct fixture *f)
{
	journal_close(&f->j);
	close(f->dirfd);
}

/* One record of a session, appended and committed. */
static int
add(struct fixture *f, const char *event, int nowait)
{
	json_t	*rec;
	int	 rv;

	rec = json_pack("{s:s,s:s,s:s,s:s}", "event", event, "user", "alice",
	    "app", "mcpgate-demo", "session_id",
	    "4c1d6b0e-a53c-4e0e-a6b0-0cc1e4d9f0aa");
	rv = journal_append(&f->j, PROC_MCPD, 0, rec, nowait);
	json_decref(rec);
	journal_commit(&f->j);
	return (rv);
}

static void
stop_loop(void *arg)
{
	(void)arg;
	ev_break();
}

static void
test_nowait_shares_next_sync(void)
{
	struct fixture	 f;
	struct stat	 st;

	T_ASSERT(open_journal(&f, AUDIT_FSYNC_ALWAYS) == 0);
	T_ASSERT(add(&f, "mcp.session.notification", 1) == 0);
	/* Written at once, not yet synced. */
	T_ASSERT(fstat(f.j.fd, &st) == 0 && st.st_size > 0);
	T_ASSERT(f.j.stats.syncs == 0);
	T_ASSERT(!TAILQ_EMPTY(&f.j.unsynced));
	T_ASSERT(ev_timer_pending(&f.j.sync_timer));
	/* The next record something holds for takes it along. */
	T_ASSERT(add(&f, "mcp.session.request", 0) == 0);
	T_ASSERT(f.j.stats.syncs == 1);
	T_ASSERT(TAILQ_EMPTY(&f.j.unsynced));
	T_ASSERT(!ev_timer_pending(&f.j.sync_timer));
	T_ASSERT(add(&f, "mcp.session.request", 0) == 0);
	T_ASSERT(f.j.stats.syncs == 2);
	close_journal(&f);
}

static void
test_nowait_synced_within_timer(void)
{
	struct fixture	 f;
	struct ev_timer	 stop;

	T_ASSERT(open_journal(&f, AUDIT_FSYNC_ALWAYS) == 0);
	T_ASSERT(add(&f, "mcp.session.end", 1) == 0);
	T_ASSERT(f.j.stats.syncs == 0);
	ev_timer_set(&stop, stop_loop, NULL);
	ev_timer_add(&stop, AUDITD_BATCH_SYNC_MS * 20);
	ev_dispatch();
	T_ASSERT(f.j.stats.syncs == 1);
	T_ASSERT(TAILQ_EMPTY(&f.j.unsynced));
	close_journal(&f);
}

static void
test_nowait_synced_on_mode_change(void)
{
	struct fixture	 f;

	T_ASSERT(open_journal(&f, AUDIT_FSYNC_ALWAYS) == 0);
	T_ASSERT(add(&f, "mcp.session.notification", 1) == 0);
	T_ASSERT(f.j.stats.syncs == 0);
	journal_reconf(&f.j, 1ULL << 30, AUDIT_FSYNC_NONE);
	T_ASSERT(f.j.stats.syncs == 1);
	T_ASSERT(TAILQ_EMPTY(&f.j.unsynced));
	T_ASSERT(!ev_timer_pending(&f.j.sync_timer));
	close_journal(&f);
}

static void
test_none_never_syncs(void)
{
	struct fixture	 f;

	T_ASSERT(open_journal(&f, AUDIT_FSYNC_NONE) == 0);
	T_ASSERT(add(&f, "mcp.session.request", 0) == 0);
	T_ASSERT(add(&f, "mcp.session.notification", 1) == 0);
	T_ASSERT(f.j.stats.syncs == 0);
	T_ASSERT(TAILQ_EMPTY(&f.j.unsynced));
	T_ASSERT(!ev_timer_pending(&f.j.sync_timer));
	close_journal(&f);
}

/* One record from a sender; the return value of journal_append. */
static int
send_as(struct fixture *f, enum proc_id from, const char *event)
{
	json_t	*rec;
	int	 rv;

	rec = json_pack("{s:s,s:s}", "event", event, "user", "mallory");
	rv = journal_append(&f->j, from, 0, rec, 0);
	json_decref(rec);
	journal_commit(&f->j);
	return (rv);
}

/*
 * A compromised mcpd forges the parent's and auditd's records: each is
 * refused (auditd then exits), and nothing of it reaches the file.
 */
static void
test_sender_may_write_only_its_events(void)
{
	static const char *const forged[] = {
		"user.login", "user.create", "user.delete", "role.update",
		"token.create", "daemon.start", "daemon.stop",
		"daemon.reload", "audit.torn", "audit.tamper",
		"audit.checkpoint", NULL
	};
	struct fixture	 f;
	uint64_t	 seq;
	int		 i;

	T_ASSERT(open_journal(&f, AUDIT_FSYNC_ALWAYS) == 0);
	T_ASSERT(send_as(&f, PROC_MCPD, "mcp.session.start") == 0);
	seq = f.j.seq;
	for (i = 0; forged[i] != NULL; i++)
		T_ASSERTF(send_as(&f, PROC_MCPD, forged[i]) == -1,
		    "mcpd may write %s", forged[i]);
	T_ASSERT(f.j.seq == seq);
	/* The parent may not write what happens in a session either. */
	T_ASSERT(send_as(&f, PROC_PARENT, "mcp.session.request") == -1);
	T_ASSERT(send_as(&f, PROC_PARENT, "audit.tamper") == -1);
	T_ASSERT(send_as(&f, PROC_PARENT, "user.create") == 0);
	T_ASSERT(send_as(&f, PROC_AUDITD, "audit.torn") == 0);
	T_ASSERT(send_as(&f, PROC_AUDITD, "user.login") == -1);
	T_ASSERT(f.j.seq == seq + 2);
	close_journal(&f);
}

static struct audit_anchor	 reported;
static int			 nreported;

static void
record_anchor(const struct audit_anchor *a)
{
	reported = *a;
	nreported++;
}

/*
 * A checkpoint is synced at once, whatever the mode, and only then
 * reported for the anchor: its number, the hash of its line, its file.
 */
static void
test_checkpoint_synced_and_reported(void)
{
	static const int	 modes[] = {
		AUDIT_FSYNC_NONE, AUDIT_FSYNC_BATCH, AUDIT_FSYNC_ALWAYS
	};
	struct fixture		 f;
	char			 path[128], line[4096];
	char			 hash[SHA256_HEX_LEN + 1];
	uint64_t		 syncs;
	FILE			*fp;
	size_t			 m;

	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		nreported = 0;
		T_ASSERT(open_journal(&f, modes[m]) == 0);
		f.j.on_anchor = record_anchor;
		T_ASSERT(add(&f, "mcp.session.notification", 1) == 0);
		syncs = f.j.stats.syncs;
		T_ASSERT(nreported == 0);
		T_ASSERT(journal_checkpoint(&f.j) == 0);
		T_ASSERT(nreported == 0);	/* not even written yet */
		journal_commit(&f.j);
		T_ASSERTF(f.j.stats.syncs > syncs, "mode %d: not synced",
		    modes[m]);
		T_ASSERT(nreported == 1);
		T_ASSERT(reported.seq == 2 && reported.seq == f.j.seq);
		T_ASSERT(strcmp(reported.sha256, f.j.prev) == 0);
		T_ASSERT(strcmp(reported.file, "audit-000000000001.jsonl") ==
		    0);
		/* The hash is that of the checkpoint's line in the file. */
		snprintf(path, sizeof(path), "%s/%d/%s", base, ndirs - 1,
		    reported.file);
		T_ASSERT((fp = fopen(path, "r")) != NULL);
		T_ASSERT(fgets(line, sizeof(line), fp) != NULL);
		T_ASSERT(fgets(line, sizeof(line), fp) != NULL);
		fclose(fp);
		line[strcspn(line, "\n")] = '\0';
		sha256_hex(line, strlen(line), hash);
		T_ASSERT(strcmp(hash, reported.sha256) == 0);
		/* A seal with nothing new reports nothing more. */
		journal_seal(&f.j);
		T_ASSERT(nreported == 1);
		T_ASSERT(add(&f, "mcp.session.end", 1) == 0);
		journal_seal(&f.j);
		T_ASSERT(nreported == 2 && reported.seq == 4);
		close_journal(&f);
	}
}

/* Records come slowly: the checkpoint timer is armed by the first. */
static void
test_checkpoint_timer(void)
{
	struct fixture	 f;

	T_ASSERT(AUDITD_CHECKPOINT_MS <= 10 * 1000);
	T_ASSERT(AUDITD_CHECKPOINT_RECORDS <= 1000);
	T_ASSERT(open_journal(&f, AUDIT_FSYNC_ALWAYS) == 0);
	T_ASSERT(!ev_timer_pending(&f.j.checkpoint_timer));
	T_ASSERT(add(&f, "mcp.session.start", 0) == 0);
	T_ASSERT(ev_timer_pending(&f.j.checkpoint_timer));
	T_ASSERT(journal_checkpoint(&f.j) == 0);
	journal_commit(&f.j);
	T_ASSERT(!ev_timer_pending(&f.j.checkpoint_timer));
	close_journal(&f);
}

/* The path of a file in the fixture's directory. */
static void
fixture_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%d/%s", base, ndirs - 1, name);
}

/* The lines of a file, or -1. */
static int
count_lines(const char *path)
{
	FILE	*fp;
	int	 c, n = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return (n);
}

/* The file removed under auditd: restored, with every record. */
static void
test_watch_removed(void)
{
	struct fixture	 f;
	struct stat	 st;
	char		 path[128];
	ino_t		 ino;

	T_ASSERT(open_journal(&f, AUDIT_FSYNC_ALWAYS) == 0);
	T_ASSERT(add(&f, "mcp.session.start", 0) == 0);
	T_ASSERT(add(&f, "mcp.session.end", 0) == 0);
	T_ASSERT(journal_watch(&f.j) == 0);
	fixture_path(path, sizeof(path), "audit-000000000001.jsonl");
	T_ASSERT(stat(path, &st) == 0);
	ino = st.st_ino;
	T_ASSERT(unlink(path) == 0);
	T_ASSERT(journal_watch(&f.j) == 1);
	journal_commit(&f.j);
	T_ASSERT(f.j.seq == 3);
	T_ASSERT(stat(path, &st) == 0 && st.st_ino != ino);
	T_ASSERT(count_lines(path) == 3);
	T_ASSERT(journal_watch(&f.j) == 0);
	T_ASSERT(add(&f, "mcp.session.start", 0) == 0);
	T_ASSERT(count_lines(path) == 4);
	close_journal(&f);
}

/* Replaced, cut short, written to: each goes on in a new file. */
static void
test_watch_replaced_cut_written(void)
{
	struct fixture	 f;
	char		 path[128], next[128];
	int		 fd;

	T_ASSERT(open_journal(&f, AUDIT_FSYNC_ALWAYS) == 0);
	T_ASSERT(add(&f, "mcp.session.start", 0) == 0);
	fixture_path(path, sizeof(path), "audit-000000000001.jsonl");
	fixture_path(next, sizeof(next), "audit-000000000002.jsonl");
	T_ASSERT(rename(path, next) == 0);
	T_ASSERT((fd = open(path, O_WRONLY | O_CREAT, 0640)) != -1);
	close(fd);
	T_ASSERT(unlink(next) == 0);
	/* Found at the next sync. */
	T_ASSERT(add(&f, "mcp.session.request", 0) == 0);
	T_ASSERT(f.j.seq == 3);
	fixture_path(next, sizeof(next), "audit-000000000003.jsonl");
	T_ASSERT(count_lines(next) == 1);	/* the audit.tamper record */
	T_ASSERT(strcmp(f.j.name, "audit-000000000003.jsonl") == 0);

	T_ASSERT(truncate(next, 10) == 0);
	T_ASSERT(journal_watch(&f.j) == 1);
	journal_commit(&f.j);
	T_ASSERT(strcmp(f.j.name, "audit-000000000004.jsonl") == 0);

	fixture_path(next, sizeof(next), "audit-000000000004.jsonl");
	T_ASSERT((fd = open(next, O_WRONLY | O_APPEND)) != -1);
	T_ASSERT(write(fd, "{}\n", 3) == 3);
	close(fd);
	T_ASSERT(journal_watch(&f.j) == 1);
	journal_commit(&f.j);
	T_ASSERT(strcmp(f.j.name, "audit-000000000005.jsonl") == 0);
	T_ASSERT(f.j.seq == 5);
	close_journal(&f);
}

int
main(void)
{
	t_suite = "journal";
	log_init(1, LOG_DAEMON);
	log_setlevel(LOG_LVL_ERROR);
	auditd = &fake_auditd;	/* no sender to acknowledge */
	if (ev_init() == -1 || mkdtemp(base) == NULL ||
	    (key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		fprintf(stderr, "test_journal: set-up failed\n");
		return (1);
	}
	T_RUN(test_nowait_shares_next_sync);
	T_RUN(test_nowait_synced_within_timer);
	T_RUN(test_nowait_synced_on_mode_change);
	T_RUN(test_none_never_syncs);
	T_RUN(test_sender_may_write_only_its_events);
	T_RUN(test_checkpoint_synced_and_reported);
	T_RUN(test_checkpoint_timer);
	T_RUN(test_watch_removed);
	T_RUN(test_watch_replaced_cut_written);
	EVP_PKEY_free(key);
	if (t_rmtree(base) == -1)
		fprintf(stderr, "test_journal: cannot remove %s\n", base);
	return (t_done());
}
