/*
 * Unit tests for auditd/syslog.c: the header as syslog(3) writes it,
 * every record of the journal sent as written, a record longer than a
 * datagram sent as a marker with its hash, and a full, refused or missing
 * socket counted as dropped without waiting.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "../../auditd/auditd.h"
#include "ev.h"
#include "log.h"
#include "unit.h"
#include "util.h"

static EVP_PKEY		*key;
static char		 base[] = "/tmp/test_auditsyslog.XXXXXX";
static struct auditd	 fake_auditd;

/* The journal under test hands its records to this one. */
static struct asyslog		 as;
static struct auditd_status	*as_stats;

static void
written(const char *line, size_t len, uint64_t seq)
{
	asyslog_send(&as, as_stats, line, len, seq);
}

/* A connected datagram pair: sp[0] for auditd, sp[1] the receiver. */
static int
pair(int sp[2], int sndbuf)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) == -1)
		return (-1);
	if (sndbuf > 0 && setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		return (-1);
	return (0);
}

static void
setup(int fd, int enabled, int facility, const char *tag)
{
	struct audit_syslog	 conf;

	memset(&conf, 0, sizeof(conf));
	conf.enabled = enabled;
	conf.facility = facility;
	strlcpy(conf.tag, tag, sizeof(conf.tag));
	asyslog_init(&as);
	asyslog_set(&as, &conf, fd);
}

/* What follows the header "...]: " of a message, or NULL. */
static const char *
body(const char *msg)
{
	const char	*p = strstr(msg, "]: ");

	return (p != NULL ? p + 3 : NULL);
}

static void
test_header_as_syslog3(void)
{
	struct tm	 tm;
	char		 buf[128], want[128], date[32];

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 126;
	tm.tm_mon = 11;
	tm.tm_mday = 5;
	tm.tm_hour = 9;
	tm.tm_min = 4;
	tm.tm_sec = 1;
	T_ASSERT(asyslog_header(buf, sizeof(buf), LOG_AUTHPRIV | LOG_INFO,
	    &tm, "mcpgated-audit", 1234) > 0);
	T_ASSERTF(strcmp(buf, "<86>Dec  5 09:04:01 mcpgated-audit[1234]: ") ==
	    0, "%s", buf);
	/* The C locale's strftime, which glibc's syslog(3) uses. */
	tm.tm_mday = 15;
	tm.tm_mon = 0;
	strftime(date, sizeof(date), "%h %e %T", &tm);
	snprintf(want, sizeof(want), "<158>%s t[7]: ", date);
	T_ASSERT(asyslog_header(buf, sizeof(buf), LOG_LOCAL3 | LOG_INFO, &tm,
	    "t", 7) > 0);
	T_ASSERTF(strcmp(buf, want) == 0, "%s", buf);
	T_ASSERT(asyslog_header(buf, 10, LOG_LOCAL3, &tm, "t", 7) == -1);
}

/* Every record the journal writes, checkpoints included, in order. */
static void
test_every_record_as_written(void)
{
	struct journal	 j;
	json_t		*rec;
	char		 dir[128], path[192], msg[8192], *line = NULL;
	size_t		 cap = 0;
	ssize_t		 n, len;
	FILE		*fp;
	int		 sp[2], dirfd, i, nlines = 0;

	snprintf(dir, sizeof(dir), "%s/all", base);
	T_ASSERT(mkdir(dir, 0700) == 0);
	T_ASSERT((dirfd = open(dir, O_RDONLY | O_DIRECTORY)) != -1);
	T_ASSERT(pair(sp, 0) == 0);
	setup(sp[0], 1, LOG_AUTHPRIV, "mcpgated-audit");
	journal_init(&j, dirfd, key, 1ULL << 30, AUDIT_FSYNC_NONE);
	j.on_written = written;
	as_stats = &j.stats;
	T_ASSERT(journal_recover(&j) == 0);
	for (i = 0; i < 5; i++) {
		rec = json_pack("{s:s,s:s,s:i}", "event", "user.create",
		    "user", "alice", "n", i);
		T_ASSERT(journal_append(&j, PROC_PARENT, 0, rec, 0) == 0);
		json_decref(rec);
		if (i % 2 == 0)
			journal_commit(&j);
	}
	journal_close(&j);		/* and its checkpoint */
	close(dirfd);

	snprintf(path, sizeof(path), "%s/audit-000000000001.jsonl", dir);
	T_ASSERT((fp = fopen(path, "r")) != NULL);
	while ((len = getline(&line, &cap, fp)) > 0) {
		line[len - 1] = '\0';
		n = recv(sp[1], msg, sizeof(msg) - 1, MSG_DONTWAIT);
		T_ASSERTF(n > 0, "record %d of the file not received",
		    nlines + 1);
		msg[n] = '\0';
		T_ASSERTF(strncmp(msg, "<86>", 4) == 0, "header: %s", msg);
		T_ASSERTF(body(msg) != NULL && strcmp(body(msg), line) == 0,
		    "record %d: %s", nlines + 1, msg);
		nlines++;
	}
	fclose(fp);
	free(line);
	T_ASSERT(nlines == 6);
	T_ASSERT(recv(sp[1], msg, sizeof(msg), MSG_DONTWAIT) == -1 &&
	    errno == EAGAIN);
	T_ASSERT(j.stats.syslog_sent == 6 && j.stats.syslog_dropped == 0);
	close(sp[0]);
	close(sp[1]);
	as.fd = -1;
}

/* Longer than the socket takes: a marker naming the record instead. */
static void
test_too_long_marker(void)
{
	struct auditd_status	 st;
	json_t			*m;
	char			*line, msg[8192], hash[SHA256_HEX_LEN + 1];
	size_t			 len = 20000;
	ssize_t			 n;
	int			 sp[2];

	memset(&st, 0, sizeof(st));
	T_ASSERT(pair(sp, 4096) == 0);
	setup(sp[0], 1, LOG_DAEMON, "mcpgated-audit");
	T_ASSERT((line = malloc(len)) != NULL);
	memset(line, 'x', len);
	asyslog_send(&as, &st, line, len, 42);
	T_ASSERT(st.syslog_sent == 1 && st.syslog_truncated == 1 &&
	    st.syslog_dropped == 0);
	T_ASSERT((n = recv(sp[1], msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0);
	msg[n] = '\0';
	T_ASSERTF(strncmp(msg, "<30>", 4) == 0, "%s", msg);
	T_ASSERT(body(msg) != NULL);
	T_ASSERT((m = json_loads(body(msg), 0, NULL)) != NULL);
	sha256_hex(line, len, hash);
	T_ASSERT(json_is_true(json_object_get(m, "syslog_truncated")));
	T_ASSERT(json_integer_value(json_object_get(m, "seq")) == 42);
	T_ASSERT(json_integer_value(json_object_get(m, "bytes")) == 20000);
	T_ASSERT(json_is_string(json_object_get(m, "sha256")) &&
	    strcmp(json_string_value(json_object_get(m, "sha256")), hash) ==
	    0);
	json_decref(m);
	/* One that fits goes whole, on the same socket. */
	asyslog_send(&as, &st, line, 1000, 43);
	T_ASSERT((n = recv(sp[1], msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0);
	msg[n] = '\0';
	T_ASSERT(body(msg) != NULL && strlen(body(msg)) == 1000);
	T_ASSERT(st.syslog_sent == 2 && st.syslog_truncated == 1);
	free(line);
	close(sp[0]);
	close(sp[1]);
	as.fd = -1;
}

/* A receiver that does not read: no wait, the rest counted as dropped. */
static void
test_full_dropped(void)
{
	struct auditd_status	 st;
	const char		*line = "{\"seq\":1}";
	int			 sp[2], i;

	memset(&st, 0, sizeof(st));
	T_ASSERT(pair(sp, 0) == 0);
	setup(sp[0], 1, LOG_AUTHPRIV, "mcpgated-audit");
	alarm(10);			/* a blocking send would hang here */
	for (i = 0; i < 1000; i++)
		asyslog_send(&as, &st, line, strlen(line), (uint64_t)i + 1);
	alarm(0);
	T_ASSERTF(st.syslog_sent > 0 && st.syslog_dropped > 0 &&
	    st.syslog_sent + st.syslog_dropped == 1000, "sent %llu dropped "
	    "%llu", (unsigned long long)st.syslog_sent,
	    (unsigned long long)st.syslog_dropped);
	close(sp[0]);
	close(sp[1]);
	as.fd = -1;
}

/* The receiver gone, and no socket at all: dropped; off: nothing. */
static void
test_refused_missing_off(void)
{
	struct auditd_status	 st;
	const char		*line = "{\"seq\":1}";
	int			 sp[2];

	memset(&st, 0, sizeof(st));
	T_ASSERT(pair(sp, 0) == 0);
	close(sp[1]);
	setup(sp[0], 1, LOG_AUTHPRIV, "mcpgated-audit");
	asyslog_send(&as, &st, line, strlen(line), 1);
	T_ASSERT(st.syslog_sent == 0 && st.syslog_dropped == 1);
	close(sp[0]);
	setup(-1, 1, LOG_AUTHPRIV, "mcpgated-audit");
	asyslog_send(&as, &st, line, strlen(line), 2);
	T_ASSERT(st.syslog_sent == 0 && st.syslog_dropped == 2);
	setup(-1, 0, LOG_AUTHPRIV, "mcpgated-audit");
	asyslog_send(&as, &st, line, strlen(line), 3);
	T_ASSERT(st.syslog_sent == 0 && st.syslog_dropped == 2);
}

int
main(void)
{
	t_suite = "auditsyslog";
	log_init(1, LOG_DAEMON);
	log_setlevel(LOG_LVL_ERROR);
	auditd = &fake_auditd;	/* no sender to acknowledge */
	if (ev_init() == -1 || mkdtemp(base) == NULL ||
	    (key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		fprintf(stderr, "test_auditsyslog: set-up failed\n");
		return (1);
	}
	T_RUN(test_header_as_syslog3);
	T_RUN(test_every_record_as_written);
	T_RUN(test_too_long_marker);
	T_RUN(test_full_dropped);
	T_RUN(test_refused_missing_off);
	EVP_PKEY_free(key);
	if (t_rmtree(base) == -1)
		fprintf(stderr, "test_auditsyslog: cannot remove %s\n", base);
	return (t_done());
}
