/*
 * audit.syslog: every record, once written to the file, goes to syslog as
 * well, the line as it is in the file, one record to a datagram.  The
 * parent connects the socket to /dev/log and hands it over at start and
 * at each reload: auditd makes no socket and connects nothing, it only
 * sends on the one it holds.  A send never waits and never holds a record
 * back from the file: a full, refused or missing socket drops the message
 * and counts it.  The message is what glibc's syslog(3) writes to
 * /dev/log, "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG", built here because
 * syslog(3) would open a socket of its own.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "auditd.h"
#include "log.h"
#include "util.h"

#define ASYSLOG_LOG_INTERVAL_US	(60 * 1000000LL)

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

void
asyslog_init(struct asyslog *s)
{
	int	 i;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->pid = getpid();
	s->facility = LOG_AUTHPRIV;
	for (i = 0; i < ASYSLOG_CAUSES; i++)
		s->last_drop_log[i] = -ASYSLOG_LOG_INTERVAL_US;
	s->last_trunc_log = -ASYSLOG_LOG_INTERVAL_US;
}

/* A new configuration and socket (-1: none); the old socket is closed. */
void
asyslog_set(struct asyslog *s, const struct audit_syslog *conf, int fd)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = fd;
	s->enabled = conf->enabled;
	s->facility = conf->facility;
	strlcpy(s->tag, conf->tag, sizeof(s->tag));
}

/*
 * The header as glibc writes it: the priority, the local time with the
 * day padded by a space ("Dec  5 09:04:01"), the tag and the pid.
 */
int
asyslog_header(char *buf, size_t len, int pri, const struct tm *tm,
    const char *tag, pid_t pid)
{
	int	 n;

	n = snprintf(buf, len, "<%d>%s %2d %02d:%02d:%02d %s[%d]: ", pri,
	    months[tm->tm_mon >= 0 && tm->tm_mon < 12 ? tm->tm_mon : 0],
	    tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, tag, (int)pid);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (n);
}

static int
asyslog_sendv(int fd, const char *hdr, size_t hlen, const char *msg,
    size_t mlen)
{
	struct msghdr	 mh;
	struct iovec	 iov[2];

	iov[0].iov_base = (void *)hdr;
	iov[0].iov_len = hlen;
	iov[1].iov_base = (void *)msg;
	iov[1].iov_len = mlen;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	for (;;) {
		if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != -1)
			return (0);
		if (errno != EINTR)
			return (-1);
	}
}

/*
 * A message not sent.  Each cause is logged at most once a minute, with
 * the count so far, so that a new cause is seen at once but a long outage
 * does not fill the log.
 */
static void
asyslog_drop(struct asyslog *s, struct auditd_status *st, int error)
{
	int64_t		 now = now_us();
	int		 cause;

	st->syslog_dropped++;
	switch (error) {
	case 0:
		cause = ASYSLOG_NOSOCKET;
		break;
	case EAGAIN:
		cause = ASYSLOG_FULL;
		break;
	case ENOBUFS:
		cause = ASYSLOG_NOBUFS;
		break;
	case ECONNREFUSED:
	case ENOTCONN:		/* after ECONNREFUSED, Linux disconnects */
		cause = ASYSLOG_REFUSED;
		break;
	default:
		cause = ASYSLOG_OTHER;
		break;
	}
	if (now - s->last_drop_log[cause] < ASYSLOG_LOG_INTERVAL_US)
		return;
	s->last_drop_log[cause] = now;
	log_warnx("audit.syslog: a record not sent to syslog (%s%s); %"
	    PRIu64 " so far since the start, all of them in the audit file",
	    error == 0 ? "no socket: /dev/log was missing at the last start "
	    "or reload" : strerror(error), cause == ASYSLOG_REFUSED ?
	    ": the syslog daemon is gone, a reload connects again" : "",
	    st->syslog_dropped);
}

/*
 * Send one record, the line as written (without its newline), whose
 * sequence number is seq.  A line longer than the socket takes in one
 * datagram goes as a marker that names it: its sequence number, its
 * length, and the hash of the line, which the next record holds as prev.
 */
void
asyslog_send(struct asyslog *s, struct auditd_status *st, const char *line,
    size_t len, uint64_t seq)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 hdr[128], marker[256], hash[SHA256_HEX_LEN + 1];
	int		 hlen, mlen;
	int64_t		 now;

	if (!s->enabled)
		return;
	if (s->fd == -1) {
		asyslog_drop(s, st, 0);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	if ((hlen = asyslog_header(hdr, sizeof(hdr), s->facility | LOG_INFO,
	    &tm, s->tag, s->pid)) == -1)
		fatalx("%s: header", __func__);
	if (asyslog_sendv(s->fd, hdr, (size_t)hlen, line, len) == 0) {
		st->syslog_sent++;
		return;
	}
	if (errno != EMSGSIZE) {
		asyslog_drop(s, st, errno);
		return;
	}
	sha256_hex(line, len, hash);
	mlen = snprintf(marker, sizeof(marker), "{\"syslog_truncated\":true,"
	    "\"seq\":%" PRIu64 ",\"bytes\":%zu,\"sha256\":\"%s\"}", seq, len,
	    hash);
	if (mlen < 0 || (size_t)mlen >= sizeof(marker))
		fatalx("%s: marker", __func__);
	if (asyslog_sendv(s->fd, hdr, (size_t)hlen, marker,
	    (size_t)mlen) == -1) {
		asyslog_drop(s, st, errno);
		return;
	}
	st->syslog_sent++;
	st->syslog_truncated++;
	now = now_us();
	if (now - s->last_trunc_log >= ASYSLOG_LOG_INTERVAL_US) {
		s->last_trunc_log = now;
		log_warnx("audit.syslog: record %" PRIu64 " (%zu bytes) is "
		    "longer than one message to syslog can be; a marker with "
		    "its hash went instead (%" PRIu64 " so far)", seq, len,
		    st->syslog_truncated);
	}
}
