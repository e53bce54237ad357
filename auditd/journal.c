/*
 * The audit journal: the files of the audit directory and the chain
 * through them.  Records are formatted into a batch as they arrive and
 * written together at the end of the event loop's turn, so that with
 * fsync "always" one fdatasync covers every record that arrived while the
 * previous one ran (group commit).  A sender hears about its record only
 * once it is written, and synced unless fsync is "none".
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auditd.h"
#include "log.h"
#include "util.h"

#define FAIL_LOG_INTERVAL_US	(10 * 1000000LL)

struct tail {
	char		*last;		/* the last whole line, or NULL */
	size_t		 last_len;
	uint64_t	 torn_off;	/* where bytes after it start */
	uint64_t	 torn_len;
};

static void	 journal_sync_timeout(void *);
static void	 journal_checkpoint_timeout(void *);
static void	 journal_watch_timeout(void *);

void
journal_init(struct journal *j, int dirfd, EVP_PKEY *key, uint64_t max_size,
    int fsync_mode)
{
	memset(j, 0, sizeof(*j));
	j->dirfd = dirfd;
	j->fd = -1;
	j->key = key;
	j->max_size = max_size;
	j->fsync_mode = fsync_mode;
	strlcpy(j->prev, audit_zero_hash, sizeof(j->prev));
	TAILQ_INIT(&j->unwritten);
	TAILQ_INIT(&j->unsynced);
	ev_timer_set(&j->sync_timer, journal_sync_timeout, j);
	ev_timer_set(&j->checkpoint_timer, journal_checkpoint_timeout, j);
	ev_timer_set(&j->watch_timer, journal_watch_timeout, j);
}

void
journal_reconf(struct journal *j, uint64_t max_size, int fsync_mode)
{
	j->max_size = max_size;
	/* What waits for a later sync is synced before the mode changes. */
	if (fsync_mode != j->fsync_mode && ev_timer_pending(&j->sync_timer))
		journal_sync(j);
	j->fsync_mode = fsync_mode;
}

/* The two newest files of the directory, by the sequence in their name. */
static int
journal_scan(struct journal *j, uint64_t *newest, uint64_t *second)
{
	struct dirent	*de;
	DIR		*d;
	uint64_t	 seq;
	int		 fd;

	*newest = *second = 0;
	if ((fd = openat(j->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("audit directory");
		if (fd != -1)
			close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (audit_file_seq(de->d_name, &seq) == -1)
			continue;
		if (seq > *newest) {
			*second = *newest;
			*newest = seq;
		} else if (seq > *second)
			*second = seq;
	}
	closedir(d);
	return (0);
}

/*
 * Find the last whole line of a file and whatever follows it.  A line
 * longer than any record could be, or a tail without a line end where
 * lines should be, means the file is damaged.
 */
static int
file_tail(int fd, uint64_t size, const char *name, struct tail *t)
{
	uint64_t	 window, off;
	char		*buf, *end, *start;
	size_t		 got = 0;
	ssize_t		 n;

	memset(t, 0, sizeof(*t));
	if (size == 0)
		return (0);
	window = size < 2 * AUDIT_LINE_MAX + 2 ? size : 2 * AUDIT_LINE_MAX + 2;
	off = size - window;
	if ((buf = malloc(window)) == NULL)
		fatal("%s", __func__);
	while (got < window) {
		n = pread(fd, buf + got, window - got, (off_t)(off + got));
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			log_warn("%s: read", name);
			free(buf);
			return (-1);
		}
		got += (size_t)n;
	}
	if ((end = memrchr(buf, '\n', window)) == NULL) {
		if (off != 0) {
			log_warnx("%s: no line end in its last %" PRIu64
			    " bytes; the file is damaged", name, window);
			free(buf);
			return (-1);
		}
		t->torn_off = 0;
		t->torn_len = size;
		free(buf);
		return (0);
	}
	t->torn_off = off + (uint64_t)(end - buf) + 1;
	t->torn_len = size - t->torn_off;
	start = end > buf ? memrchr(buf, '\n', (size_t)(end - buf)) : NULL;
	if (start != NULL)
		start++;
	else if (off == 0)
		start = buf;
	else {
		log_warnx("%s: its last line is longer than any record; the "
		    "file is damaged", name);
		free(buf);
		return (-1);
	}
	t->last_len = (size_t)(end - start);
	if ((t->last = malloc(t->last_len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(t->last, start, t->last_len);
	t->last[t->last_len] = '\0';
	free(buf);
	return (0);
}

/* The sequence number and hash at the end of a line that ends a file. */
static int
chain_from_line(struct journal *j, const char *name, const struct tail *t)
{
	json_t	*rec;
	char	 err[256];

	if ((rec = audit_line_parse(t->last, t->last_len, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s: its last record does not parse (%s); check it "
		    "with 'mcpgatectl audit verify' and move the file aside",
		    name, err);
		return (-1);
	}
	j->seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	sha256_hex(t->last, t->last_len, j->prev);
	json_decref(rec);
	return (0);
}

static void
batch_add(struct journal *j, const char *line, size_t len)
{
	size_t	 cap;
	char	*nb;

	if (j->batchlen == 0) {
		j->batch_seq = j->seq;
		strlcpy(j->batch_prev, j->prev, sizeof(j->batch_prev));
	}
	if (j->batchlen + len + 1 > j->batchcap) {
		cap = j->batchcap == 0 ? 64 * 1024 : j->batchcap;
		while (cap < j->batchlen + len + 1)
			cap *= 2;
		if ((nb = realloc(j->batch, cap)) == NULL)
			fatal("%s", __func__);
		j->batch = nb;
		j->batchcap = cap;
	}
	memcpy(j->batch + j->batchlen, line, len);
	j->batch[j->batchlen + len] = '\n';
	j->batchlen += len + 1;
	j->batchrecs++;
	j->seq++;
	sha256_hex(line, len, j->prev);
}

/*
 * A crash left part of a line at the end of the newest file.  Nothing is
 * dropped silently: the bytes go into an audit.torn record (the first
 * AUDITD_TORN_KEEP of them, with the hash of all), then the file is cut
 * back to its last whole record and the chain continues from there.
 */
static int
journal_keep_torn(struct journal *j, const struct tail *t)
{
	char		 hex[SHA256_HEX_LEN + 1];
	unsigned char	*torn;
	char		*b64;
	size_t		 keep, got = 0, b64len;
	ssize_t		 n;
	json_t		*rec;
	EVP_MD_CTX	*md;
	unsigned char	 digest[EVP_MAX_MD_SIZE];
	unsigned int	 dlen;
	unsigned char	 chunk[8192];
	uint64_t	 off;

	/* Hash everything torn, keep the start of it. */
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatalx("%s: sha256", __func__);
	keep = t->torn_len < AUDITD_TORN_KEEP ? t->torn_len :
	    AUDITD_TORN_KEEP;
	if ((torn = malloc(keep + 1)) == NULL)
		fatal("%s", __func__);
	for (off = t->torn_off; off < t->torn_off + t->torn_len; ) {
		n = pread(j->fd, chunk, sizeof(chunk) < t->torn_off +
		    t->torn_len - off ? sizeof(chunk) : (size_t)(t->torn_off +
		    t->torn_len - off), (off_t)off);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			log_warn("%s: read", j->name);
			free(torn);
			EVP_MD_CTX_free(md);
			return (-1);
		}
		EVP_DigestUpdate(md, chunk, (size_t)n);
		if (got < keep) {
			size_t	 take = keep - got < (size_t)n ? keep - got :
			    (size_t)n;

			memcpy(torn + got, chunk, take);
			got += take;
		}
		off += (uint64_t)n;
	}
	EVP_DigestFinal_ex(md, digest, &dlen);
	EVP_MD_CTX_free(md);
	hex_encode(digest, dlen, hex, sizeof(hex));
	b64len = 4 * ((keep + 2) / 3) + 1;
	if ((b64 = malloc(b64len)) == NULL)
		fatal("%s", __func__);
	EVP_EncodeBlock((unsigned char *)b64, torn, (int)keep);
	free(torn);

	if (ftruncate(j->fd, (off_t)t->torn_off) == -1 || fsync(j->fd) == -1) {
		log_warn("%s: cannot cut the torn line", j->name);
		free(b64);
		return (-1);
	}
	j->size = t->torn_off;
	log_warnx("%s: the last %" PRIu64 " bytes were a torn line (a crash "
	    "during a write); they are kept in an audit.torn record",
	    j->name, t->torn_len);
	rec = json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:b}", "event",
	    "audit.torn", "file", j->name, "offset", (json_int_t)t->torn_off,
	    "bytes", (json_int_t)t->torn_len, "sha256", hex, "data", b64,
	    "data_truncated", t->torn_len > keep);
	free(b64);
	if (rec == NULL || journal_append(j, PROC_AUDITD, 0, rec, 0) == -1)
		fatalx("%s: cannot record the torn line", __func__);
	json_decref(rec);
	journal_commit(j);
	journal_sync(j);
	return (0);
}

/*
 * Find where the chain ends, after a clean stop or a crash, and open the
 * newest file to continue it.  A fresh directory starts a new chain.
 */
int
journal_recover(struct journal *j)
{
	struct stat	 st;
	struct tail	 t, pt;
	uint64_t	 newest, second;
	char		 pname[AUDIT_FILE_MAX];
	uint64_t	 size;
	int		 pfd, ret = -1;

	memset(&pt, 0, sizeof(pt));
	if (journal_scan(j, &newest, &second) == -1)
		return (-1);
	if (newest == 0) {
		log_info("audit directory is empty: starting a new chain");
		return (0);
	}
	audit_file_name(newest, j->name, sizeof(j->name));
	if ((j->fd = openat(j->dirfd, j->name, O_RDWR | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW)) == -1 || fstat(j->fd, &st) == -1) {
		log_warn("%s", j->name);
		return (-1);
	}
	size = (uint64_t)st.st_size;
	if (file_tail(j->fd, size, j->name, &t) == -1)
		return (-1);
	if (t.last != NULL) {
		if (chain_from_line(j, j->name, &t) == -1)
			goto out;
	} else if (newest > 1) {
		/* Nothing whole here yet: the chain ends in the file before. */
		if (second == 0 || audit_file_name(second, pname,
		    sizeof(pname)) == -1 || (pfd = openat(j->dirfd, pname,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
			log_warnx("%s holds no whole record and the file "
			    "before it is missing", j->name);
			goto out;
		}
		if (fstat(pfd, &st) == -1 ||
		    file_tail(pfd, (uint64_t)st.st_size, pname, &pt) == -1 ||
		    pt.last == NULL || pt.torn_len != 0) {
			log_warnx("%s does not end with a whole record", pname);
			close(pfd);
			free(pt.last);
			goto out;
		}
		close(pfd);
		ret = chain_from_line(j, pname, &pt);
		free(pt.last);
		if (ret == -1)
			goto out;
		ret = -1;
	}
	if (j->seq + 1 < newest) {
		log_warnx("%s starts at record %" PRIu64 " but the chain ends "
		    "at %" PRIu64, j->name, newest, j->seq);
		goto out;
	}
	j->size = size;
	if (t.torn_len > 0) {
		if (journal_keep_torn(j, &t) == -1)
			goto out;
	}
	j->stats.seq = j->seq;
	strlcpy(j->stats.file, j->name, sizeof(j->stats.file));
	ev_timer_add(&j->watch_timer, AUDITD_WATCH_MS);
	log_info("continuing the audit chain in %s after record %" PRIu64,
	    j->name, j->seq);
	ret = 0;
 out:
	free(t.last);
	return (ret);
}

static void
waiters_ack(struct audit_waiters *list, int status, int error)
{
	struct audit_waiter	*w;
	struct audit_ack	 ack;

	while ((w = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, w, entry);
		memset(&ack, 0, sizeof(ack));
		ack.status = status;
		ack.error = error;
		ack.seq = status == AUDIT_ACK_OK ? w->seq : 0;
		if (w->from != PROC_AUDITD)
			auditd_ack(w->from, w->id, &ack);
		free(w);
	}
}

static void
journal_fail(struct journal *j, const char *what, int error)
{
	int64_t	 now = now_us();

	j->failing = 1;
	j->stats.failing = 1;
	if (now - j->last_fail_log >= FAIL_LOG_INTERVAL_US) {
		log_warnx("cannot %s the audit log %s: %s", what, j->name,
		    strerror(error));
		j->last_fail_log = now;
	}
}

/* A batch that could not be written: as if it never was. */
static void
journal_drop_batch(struct journal *j, int error)
{
	j->seq = j->batch_seq;
	strlcpy(j->prev, j->batch_prev, sizeof(j->prev));
	if (j->anchor_state == ANCHOR_BATCHED)
		j->anchor_state = ANCHOR_NONE;
	j->stats.failures += j->batchrecs;
	j->batchlen = 0;
	j->batchrecs = 0;
	waiters_ack(&j->unwritten, AUDIT_ACK_FAILED, error);
	journal_fail(j, "write", error);
}

static int
journal_open_new(struct journal *j)
{
	if (audit_file_name(j->batch_seq + 1, j->name, sizeof(j->name)) == -1)
		return (-1);
	/* Readable too: a removed file is restored from it. */
	j->fd = openat(j->dirfd, j->name, O_RDWR | O_CREAT | O_EXCL |
	    O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (j->fd == -1)
		return (-1);
	j->size = 0;
	fsync(j->dirfd);
	strlcpy(j->stats.file, j->name, sizeof(j->stats.file));
	if (!ev_timer_pending(&j->watch_timer))
		ev_timer_add(&j->watch_timer, AUDITD_WATCH_MS);
	log_info("audit log %s opened", j->name);
	return (0);
}

/* Each record of the batch just written, to whoever wants it. */
static void
journal_written(struct journal *j)
{
	const char	*p = j->batch, *end = j->batch + j->batchlen, *nl;
	uint64_t	 seq = j->batch_seq;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			fatalx("%s: a batch without its last newline",
			    __func__);
		j->on_written(p, (size_t)(nl - p), ++seq);
	}
}

/* Write the batch; acknowledge or wait for the sync, as configured. */
void
journal_commit(struct journal *j)
{
	struct audit_waiter	*w;
	size_t			 off = 0;
	ssize_t			 n;
	int			 error, urgent;

	if (j->batchlen == 0)
		return;
	if (j->fd == -1 && journal_open_new(j) == -1) {
		journal_drop_batch(j, errno);
		return;
	}
	while (off < j->batchlen) {
		if ((n = write(j->fd, j->batch + off, j->batchlen - off)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			error = errno;
			if (off > 0 && ftruncate(j->fd, (off_t)j->size) == -1)
				log_warn("%s: cannot remove a partial write",
				    j->name);
			journal_drop_batch(j, error);
			return;
		}
		off += (size_t)n;
	}
	j->size += j->batchlen;
	j->stats.records += j->batchrecs;
	if (j->on_written != NULL)
		journal_written(j);
	j->stats.seq = j->seq;
	j->batchlen = 0;
	j->batchrecs = 0;
	if (j->failing) {
		log_info("audit log %s is writable again", j->name);
		j->failing = 0;
		j->stats.failing = 0;
	}
	if (j->since_checkpoint > 0 && !ev_timer_pending(&j->checkpoint_timer))
		ev_timer_add(&j->checkpoint_timer, AUDITD_CHECKPOINT_MS);
	if (j->anchor_state == ANCHOR_BATCHED) {
		strlcpy(j->anchor.file, j->name, sizeof(j->anchor.file));
		j->anchor_state = ANCHOR_WRITTEN;
	}

	switch (j->fsync_mode) {
	case AUDIT_FSYNC_NONE:
		waiters_ack(&j->unwritten, AUDIT_ACK_OK, 0);
		break;
	case AUDIT_FSYNC_BATCH:
		while ((w = TAILQ_FIRST(&j->unwritten)) != NULL) {
			TAILQ_REMOVE(&j->unwritten, w, entry);
			TAILQ_INSERT_TAIL(&j->unsynced, w, entry);
			j->nunsynced++;
		}
		if (j->nunsynced >= AUDITD_BATCH_SYNC_RECORDS)
			journal_sync(j);
		else if (!ev_timer_pending(&j->sync_timer))
			ev_timer_add(&j->sync_timer, AUDITD_BATCH_SYNC_MS);
		break;
	default:
		/*
		 * A sync now when something holds for a record; records
		 * nothing holds for (a call's result, a session's end)
		 * share the next one, so that a session's calls one after
		 * another cost one sync each, not two.
		 */
		urgent = 0;
		while ((w = TAILQ_FIRST(&j->unwritten)) != NULL) {
			TAILQ_REMOVE(&j->unwritten, w, entry);
			TAILQ_INSERT_TAIL(&j->unsynced, w, entry);
			if (!w->nowait)
				urgent = 1;
		}
		if (urgent)
			journal_sync(j);
		else if (!ev_timer_pending(&j->sync_timer))
			ev_timer_add(&j->sync_timer, AUDITD_BATCH_SYNC_MS);
		break;
	}
	/* A checkpoint is synced at once, whatever the mode. */
	if (j->anchor_state == ANCHOR_WRITTEN)
		journal_sync(j);
}

/* Make written records durable and tell their senders. */
void
journal_sync(struct journal *j)
{
	ev_timer_del(&j->sync_timer);
	j->nunsynced = 0;
	if (j->fd != -1 && journal_watch(j))
		journal_commit(j);	/* the audit.tamper record */
	if (j->fd == -1) {
		waiters_ack(&j->unsynced, AUDIT_ACK_OK, 0);
		return;
	}
	if (fdatasync(j->fd) == -1) {
		journal_fail(j, "sync", errno);
		waiters_ack(&j->unsynced, AUDIT_ACK_FAILED, errno);
		return;
	}
	j->stats.syncs++;
	waiters_ack(&j->unsynced, AUDIT_ACK_OK, 0);
	if (j->anchor_state == ANCHOR_WRITTEN) {
		j->anchor_state = ANCHOR_NONE;
		if (j->on_anchor != NULL)
			j->on_anchor(&j->anchor);
	}
}

static void
journal_sync_timeout(void *arg)
{
	journal_sync(arg);
}

/*
 * Copy what we wrote to the file we hold, whose name is gone, into a new
 * file of that name.  Returns the new descriptor, or -1.
 */
static int
journal_restore(struct journal *j)
{
	char		 buf[64 * 1024];
	uint64_t	 off = 0;
	size_t		 want, done;
	ssize_t		 n;
	int		 fd;

	if ((fd = openat(j->dirfd, j->name, O_RDWR | O_CREAT | O_EXCL |
	    O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640)) == -1) {
		log_warn("cannot restore %s", j->name);
		return (-1);
	}
	while (off < j->size) {
		want = j->size - off < sizeof(buf) ? (size_t)(j->size - off) :
		    sizeof(buf);
		if ((n = pread(j->fd, buf, want, (off_t)off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			goto fail;
		}
		for (done = 0; done < (size_t)n; ) {
			ssize_t	 w = write(fd, buf + done, (size_t)n - done);

			if (w == -1) {
				if (errno == EINTR)
					continue;
				goto fail;
			}
			done += (size_t)w;
		}
		off += (uint64_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	fsync(j->dirfd);
	return (fd);
 fail:
	log_warn("cannot restore %s", j->name);
	/* An empty file is no part of the chain; auditd may not unlink. */
	if (ftruncate(fd, 0) == -1)
		log_warn("%s", j->name);
	close(fd);
	return (-1);
}

/*
 * Is the file we write still the one of its name, as long as we wrote
 * it?  Someone who can write the audit directory may remove it (auditd
 * would go on writing records that nobody will see), replace it, cut it
 * short or write into it.  Each is logged and recorded in an audit.tamper
 * record that continues the chain.  A removed file is restored from the
 * descriptor we hold, so that no record is lost; otherwise the chain goes
 * on in a new file and what was written but not yet synced is reported
 * as not written.  Returns 1 when the file changed: the record is then in
 * the batch, for the caller to commit.
 */
int
journal_watch(struct journal *j)
{
	struct stat	 mine, named;
	const char	*what;
	char		 name[AUDIT_FILE_MAX], last_hash[SHA256_HEX_LEN + 1];
	uint64_t	 first = 0, last_seq, found = 0;
	json_t		*rec;
	uint64_t	 size = j->size;
	int		 fd, restored = 0;

	if (j->fd == -1)
		return (0);
	if (fstat(j->fd, &mine) == -1)
		fatal("%s: fstat %s", __func__, j->name);
	if (fstatat(j->dirfd, j->name, &named, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			fatal("%s: %s", __func__, j->name);
		what = "removed";
	} else if (named.st_dev != mine.st_dev ||
	    named.st_ino != mine.st_ino)
		what = "replaced";
	else if ((uint64_t)mine.st_size < j->size)
		what = "cut short";
	else if ((uint64_t)mine.st_size > j->size)
		what = "written to by another process";
	else
		return (0);
	found = (uint64_t)mine.st_size;

	/* The chain as far as it went into that file. */
	last_seq = j->batchlen > 0 ? j->batch_seq : j->seq;
	strlcpy(last_hash, j->batchlen > 0 ? j->batch_prev : j->prev,
	    sizeof(last_hash));
	strlcpy(name, j->name, sizeof(name));
	(void)audit_file_seq(name, &first);

	if (strcmp(what, "removed") == 0 && (fd = journal_restore(j)) != -1) {
		close(j->fd);
		j->fd = fd;
		restored = 1;
		log_warnx("%s was removed while auditd was writing it; it is "
		    "restored, with its records %" PRIu64 " to %" PRIu64
		    ", and the chain goes on in it", name, first, last_seq);
	} else {
		close(j->fd);
		j->fd = -1;
		j->size = 0;
		log_warnx("%s was %s while auditd was writing it (records %"
		    PRIu64 " to %" PRIu64 "); the chain goes on in a new "
		    "file", name, what, first, last_seq);
		/* Written into a file we no longer trust: not durable. */
		j->nunsynced = 0;
		waiters_ack(&j->unsynced, AUDIT_ACK_FAILED, EIO);
	}
	rec = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:I,s:I,s:b}", "event",
	    AUDIT_TAMPER, "file", name, "what", what,
	    "first_seq", (json_int_t)first, "last_seq", (json_int_t)last_seq,
	    "last_sha256", last_hash, "size", (json_int_t)size,
	    "found_size", (json_int_t)found, "restored", restored);
	if (rec == NULL || journal_append(j, PROC_AUDITD, 0, rec, 0) == -1)
		fatalx("%s: cannot record the change", __func__);
	json_decref(rec);
	return (1);
}

static void
journal_watch_timeout(void *arg)
{
	struct journal	*j = arg;

	if (j->fd == -1)
		return;
	if (journal_watch(j)) {
		journal_commit(j);
		journal_sync(j);
	}
	if (j->fd != -1 || j->batchlen > 0)
		ev_timer_add(&j->watch_timer, AUDITD_WATCH_MS);
}

/* Seal everything so far with a signed checkpoint (into the batch). */
int
journal_checkpoint(struct journal *j)
{
	json_t	*extra;
	char	*line;
	size_t	 len;

	extra = json_pack("{s:s,s:I}", "file", j->name,
	    "records", (json_int_t)j->since_checkpoint);
	line = audit_checkpoint_format(j->key, j->seq + 1, now_us(), j->prev,
	    extra, &len);
	json_decref(extra);
	if (line == NULL) {
		log_warnx("cannot sign an audit checkpoint");
		return (-1);
	}
	batch_add(j, line, len);
	free(line);
	j->since_checkpoint = 0;
	ev_timer_del(&j->checkpoint_timer);
	memset(&j->anchor, 0, sizeof(j->anchor));
	j->anchor.seq = j->seq;
	strlcpy(j->anchor.sha256, j->prev, sizeof(j->anchor.sha256));
	j->anchor_state = ANCHOR_BATCHED;
	return (0);
}

static void
journal_checkpoint_timeout(void *arg)
{
	struct journal	*j = arg;

	if (j->since_checkpoint > 0 && journal_checkpoint(j) == 0)
		journal_commit(j);
}

/*
 * Close the current file with a checkpoint, synced whatever the mode;
 * the next record starts the next file.
 */
static int
journal_rotate(struct journal *j)
{
	if (journal_checkpoint(j) == -1)
		return (-1);
	journal_commit(j);
	journal_sync(j);
	if (j->failing)
		return (-1);
	close(j->fd);
	j->fd = -1;
	j->size = 0;
	return (0);
}

static void
journal_refuse(enum proc_id from, uint32_t id, int error)
{
	struct audit_ack	 ack;

	memset(&ack, 0, sizeof(ack));
	ack.status = AUDIT_ACK_FAILED;
	ack.error = error;
	if (from != PROC_AUDITD)
		auditd_ack(from, id, &ack);
}

/* The sender as the event table names it. */
static unsigned int
journal_writer(enum proc_id from)
{
	switch (from) {
	case PROC_PARENT:
		return (AUDIT_BY_PARENT);
	case PROC_MCPD:
		return (AUDIT_BY_MCPD);
	case PROC_AUDITD:
		return (AUDIT_BY_AUDITD);
	default:
		return (0);
	}
}

/*
 * Add a sender's record to the batch.  Returns -1 for fields that no
 * honest sender produces, an event the sender may not write among them;
 * a record too long to write, and write failures, are reported to the
 * sender.
 */
int
journal_append(struct journal *j, enum proc_id from, uint32_t id,
    json_t *fields, int nowait)
{
	const struct audit_event	*ev;
	struct audit_waiter		*w;
	const char			*event;
	char				*line;
	size_t				 len;

	if ((event = json_string_value(json_object_get(fields,
	    "event"))) == NULL || (ev = audit_event_find(event)) == NULL ||
	    strcmp(event, AUDIT_CHECKPOINT) == 0)
		return (-1);
	if ((ev->writers & journal_writer(from)) == 0) {
		log_warnx("%s sent an %s record, which only the %s may write",
		    proc_name(from), event, audit_writer_name(ev->writers));
		return (-1);
	}
	if ((line = audit_record_format(fields, j->seq + 1, now_us(),
	    audit_event_code(ev, fields), j->prev, &len)) == NULL) {
		if (errno != EMSGSIZE)
			return (-1);
		log_warnx("%s record from %s is longer than %d bytes; not "
		    "written", event, proc_name(from), AUDIT_LINE_MAX);
		j->stats.failures++;
		journal_refuse(from, id, EMSGSIZE);
		return (0);
	}
	/* Room is kept for the checkpoint that closes the file. */
	if (j->size + j->batchlen + len + 1 + AUDITD_CHECKPOINT_ROOM >
	    j->max_size && j->size + j->batchlen > 0) {
		free(line);
		if (journal_rotate(j) == -1) {
			journal_refuse(from, id, EIO);
			return (0);
		}
		if ((line = audit_record_format(fields, j->seq + 1, now_us(),
		    audit_event_code(ev, fields), j->prev, &len)) == NULL)
			return (-1);
	}
	batch_add(j, line, len);
	free(line);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	w->from = from;
	w->id = id;
	w->seq = j->seq;
	w->nowait = nowait;
	TAILQ_INSERT_TAIL(&j->unwritten, w, entry);
	if (++j->since_checkpoint >= AUDITD_CHECKPOINT_RECORDS)
		journal_checkpoint(j);
	return (0);
}

/* Everything so far under a checkpoint, written and synced. */
void
journal_seal(struct journal *j)
{
	if (j->since_checkpoint > 0)
		journal_checkpoint(j);
	journal_commit(j);
	journal_sync(j);
}

/* A clean stop: a final checkpoint, written and synced. */
void
journal_close(struct journal *j)
{
	journal_seal(j);
	ev_timer_del(&j->watch_timer);
	ev_timer_del(&j->sync_timer);
	ev_timer_del(&j->checkpoint_timer);
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
	free(j->batch);
	j->batch = NULL;
	j->batchcap = 0;
}
