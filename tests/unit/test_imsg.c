/*
 * Unit tests for common/imsg.c over real AF_UNIX stream socketpairs:
 * framing, typed getters, descriptor passing and its refusal, partial
 * writes and reads, fragmentation and reassembly, the message and queue
 * caps, end of file, malformed streams written by hand, and that no path
 * leaves a descriptor open (counted in /proc/self/fd).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "unit.h"

#define PUMP_MAX	200000	/* rounds before a transfer counts as stuck */

/* Two ends of one socketpair: tx writes on sv[0], rx reads on sv[1]. */
struct chan {
	int		 sv[2];
	struct imsgbuf	 tx;
	struct imsgbuf	 rx;
};

/* Open descriptors, not counting the one opendir() itself uses. */
static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);
}

static int
fd_is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1);
}

static int
chan_open(struct chan *ch, int txpass, int rxpass)
{
	memset(ch, 0, sizeof(*ch));
	ch->sv[0] = ch->sv[1] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ch->sv) == -1)
		return (-1);
	if (imsgbuf_init(&ch->tx, ch->sv[0]) == -1 ||
	    imsgbuf_init(&ch->rx, ch->sv[1]) == -1)
		return (-1);
	if (txpass)
		imsgbuf_allow_fdpass(&ch->tx);
	if (rxpass)
		imsgbuf_allow_fdpass(&ch->rx);
	return (0);
}

static void
chan_close(struct chan *ch)
{
	imsgbuf_clear(&ch->tx);
	imsgbuf_clear(&ch->rx);
	if (ch->sv[0] != -1)
		close(ch->sv[0]);
	if (ch->sv[1] != -1)
		close(ch->sv[1]);
	ch->sv[0] = ch->sv[1] = -1;
}

/*
 * Move bytes from tx to rx until rx yields a message.  Returns 1 with
 * *imsg filled, -1 with errno set on an error, end of file or no
 * progress.
 */
static int
pump(struct chan *ch, struct imsg *imsg)
{
	ssize_t	 n;
	int	 i, r;

	for (i = 0; i < PUMP_MAX; i++) {
		if (imsgbuf_write(&ch->tx) == -1)
			return (-1);
		if ((r = imsgbuf_read(&ch->rx)) == -1)
			return (-1);
		if ((n = imsgbuf_get(&ch->rx, imsg)) != 0)
			return ((int)n);
		if (r == 0) {
			errno = ECONNRESET;
			return (-1);
		}
	}
	errno = ETIMEDOUT;
	return (-1);
}

static void
fill(unsigned char *p, size_t len, uint32_t seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(((uint32_t)i * 2654435761U + seed *
		    40503U) >> 13);
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* One sendmsg of raw bytes, with a descriptor attached when fd != -1. */
static int
send_raw(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	return (sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1);
}

static void
test_roundtrip(void)
{
	static const struct {
		uint32_t	 type;
		uint32_t	 peerid;
		pid_t		 pid;
		size_t		 len;
	} m[] = {
		{ 1, 10, 100, 1 },
		{ 2, 0xffffffffU, 0x7fffffff, 16 },
		{ 3, 11, 0, 1000 },
		{ 0xdeadbeefU, 12, 1234, 5 },
		{ 7, 0, 1, 4096 },
	};
	struct chan	 ch;
	struct imsg	 imsg;
	unsigned char	 buf[4096], got[4096];
	const void	*p;
	size_t		 i, bytes = 0, len;
	int		 base;

	base = count_fds();
	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		fill(buf, m[i].len, (uint32_t)i);
		T_ASSERT(imsg_compose(&ch.tx, m[i].type, m[i].peerid, m[i].pid,
		    -1, buf, m[i].len) == 1);
		bytes += IMSG_HEADER_SIZE + m[i].len;
	}
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == sizeof(m) / sizeof(m[0]));
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == bytes);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 1);

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		T_ASSERTF(imsgbuf_get(&ch.rx, &imsg) == 1, "message %zu", i);
		fill(buf, m[i].len, (uint32_t)i);
		T_ASSERT(imsg_get_type(&imsg) == m[i].type);
		T_ASSERT(imsg_get_id(&imsg) == m[i].peerid);
		T_ASSERT(imsg_get_pid(&imsg) == m[i].pid);
		T_ASSERT(imsg_get_len(&imsg) == m[i].len);
		T_ASSERT(imsg.hdr.len == IMSG_HEADER_SIZE + m[i].len);
		T_ASSERT(imsg_get_fd(&imsg) == -1);
		T_ASSERT(imsg_get_buf(&imsg, &p, &len) == 0);
		T_ASSERT(len == m[i].len && memcmp(p, buf, len) == 0);
		T_ASSERT(imsg_get_data(&imsg, got, m[i].len) == 0);
		T_ASSERT(memcmp(got, buf, m[i].len) == 0);
		imsg_free(&imsg);
		T_ASSERT(imsg.data == NULL && imsg.datalen == 0);
	}
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 1);	/* nothing there: EAGAIN */
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	T_ASSERT(ch.rx.rlen == 0);
	chan_close(&ch);
	T_ASSERT(count_fds() == base);
}

/* Both directions of one socketpair carry messages independently. */
static void
test_both_directions(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	uint32_t	 v;

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	v = 1;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, &v, sizeof(v)) == 1);
	v = 2;
	T_ASSERT(imsg_compose(&ch.rx, 2, 0, 0, -1, &v, sizeof(v)) == 1);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0 && imsgbuf_flush(&ch.rx) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 1 && imsgbuf_read(&ch.tx) == 1);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 1);
	T_ASSERT(imsg_get_type(&imsg) == 1);
	T_ASSERT(imsg_get_data(&imsg, &v, sizeof(v)) == 0 && v == 1);
	imsg_free(&imsg);
	T_ASSERT(imsgbuf_get(&ch.tx, &imsg) == 1);
	T_ASSERT(imsg_get_type(&imsg) == 2);
	T_ASSERT(imsg_get_data(&imsg, &v, sizeof(v)) == 0 && v == 2);
	imsg_free(&imsg);
	chan_close(&ch);
}

static void
test_zero_length(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	struct iovec	 iov[2];
	unsigned char	 b = 0xaa;
	char		 s[4];
	const void	*p;
	size_t		 len;

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 5, 6, 7, -1, NULL, 0) == 1);
	iov[0].iov_base = &b;
	iov[0].iov_len = 0;
	iov[1].iov_base = &b;
	iov[1].iov_len = 0;
	T_ASSERT(imsg_composev(&ch.tx, 8, 9, 10, -1, iov, 2) == 1);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 2 * IMSG_HEADER_SIZE);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 1);

	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 1);
	T_ASSERT(imsg_get_type(&imsg) == 5 && imsg_get_id(&imsg) == 6 &&
	    imsg_get_pid(&imsg) == 7);
	T_ASSERT(imsg_get_len(&imsg) == 0 && imsg.data == NULL);
	T_ASSERT(imsg.hdr.len == IMSG_HEADER_SIZE);
	T_ASSERT(imsg_get_data(&imsg, NULL, 0) == 0);
	errno = 0;
	T_ASSERT(imsg_get_data(&imsg, &b, 1) == -1 && errno == EBADMSG);
	T_ASSERT(b == 0xaa);
	T_ASSERT(imsg_get_buf(&imsg, &p, &len) == 0 && len == 0);
	memset(s, 'x', sizeof(s));
	T_ASSERT(imsg_get_string(&imsg, s, sizeof(s)) == 0 && s[0] == '\0');
	imsg_free(&imsg);

	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 1);
	T_ASSERT(imsg_get_type(&imsg) == 8 && imsg_get_len(&imsg) == 0);
	imsg_free(&imsg);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	chan_close(&ch);
}

static void
test_get_data_wrong_size(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	uint64_t	 v = 0x0102030405060708ULL, out;
	uint32_t	 small;
	unsigned char	 big[16];

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, &v, sizeof(v)) == 1);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 1);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 1);

	small = 0xcafef00d;
	errno = 0;
	T_ASSERT(imsg_get_data(&imsg, &small, sizeof(small)) == -1);
	T_ASSERT(errno == EBADMSG);
	T_ASSERT(small == 0xcafef00d);		/* untouched */
	memset(big, 0x5a, sizeof(big));
	errno = 0;
	T_ASSERT(imsg_get_data(&imsg, big, sizeof(big)) == -1);
	T_ASSERT(errno == EBADMSG);
	T_ASSERT(big[0] == 0x5a && big[15] == 0x5a);
	errno = 0;
	T_ASSERT(imsg_get_data(&imsg, NULL, 0) == -1 && errno == EBADMSG);
	T_ASSERT(imsg_get_data(&imsg, &out, sizeof(out)) == 0 && out == v);
	imsg_free(&imsg);
	chan_close(&ch);
}

static void
test_get_string(void)
{
	static const struct {
		const char	*data;
		size_t		 len;
		size_t		 size;
		int		 ok;
	} t[] = {
		{ "hello", 5, 6, 1 },		/* just fits with its NUL */
		{ "hello", 5, 64, 1 },
		{ "hello", 5, 5, 0 },		/* too long for the buffer */
		{ "hello", 5, 1, 0 },
		{ "hello", 5, 0, 0 },
		{ "a\0b", 3, 64, 0 },		/* NUL inside */
		{ "abc\0", 4, 64, 0 },		/* sender's NUL: refused too */
		{ "\0", 1, 64, 0 },
	};
	struct chan	 ch;
	struct imsg	 imsg;
	char		 s[64];
	size_t		 i;

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_ASSERT(imsg_compose(&ch.tx, (uint32_t)i, 0, 0, -1, t[i].data,
		    t[i].len) == 1);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 1);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 1);
		memset(s, 'x', sizeof(s));
		errno = 0;
		if (t[i].ok) {
			T_ASSERTF(imsg_get_string(&imsg, s, t[i].size) == 0,
			    "case %zu refused", i);
			T_ASSERT(strcmp(s, t[i].data) == 0);
		} else {
			T_ASSERTF(imsg_get_string(&imsg, s, t[i].size) == -1,
			    "case %zu accepted", i);
			T_ASSERT(errno == EBADMSG);
			T_ASSERT(s[0] == 'x');
		}
		imsg_free(&imsg);
	}
	chan_close(&ch);
}

static void
test_composev(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	struct iovec	 iov[4];
	unsigned char	*a, *b, *all;
	size_t		 alen = 10000, blen = IMSG_MAXDATA + 77;

	T_ASSERT((a = malloc(alen)) != NULL);
	T_ASSERT((b = malloc(blen)) != NULL);
	T_ASSERT((all = malloc(alen + blen + 3)) != NULL);
	fill(a, alen, 1);
	fill(b, blen, 2);
	memcpy(all, a, alen);
	memcpy(all + alen, "xyz", 3);
	memcpy(all + alen + 3, b, blen);
	iov[0].iov_base = a;
	iov[0].iov_len = alen;
	iov[1].iov_base = a;
	iov[1].iov_len = 0;		/* empty pieces are skipped */
	iov[2].iov_base = "xyz";
	iov[2].iov_len = 3;
	iov[3].iov_base = b;
	iov[3].iov_len = blen;

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	T_ASSERT(imsg_composev(&ch.tx, 3, 4, 5, -1, iov, 4) == 1);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 2);	/* two fragments */
	T_ASSERT(pump(&ch, &imsg) == 1);
	T_ASSERT(imsg_get_type(&imsg) == 3 && imsg_get_id(&imsg) == 4 &&
	    imsg_get_pid(&imsg) == 5);
	T_ASSERT(imsg_get_len(&imsg) == alen + blen + 3);
	T_ASSERT(memcmp(imsg.data, all, alen + blen + 3) == 0);
	imsg_free(&imsg);
	chan_close(&ch);
	free(a);
	free(b);
	free(all);
}

static void
test_fdpass(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	char		 buf[16];
	int		 p[2], fd, base;

	base = count_fds();
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 9, 1, 2, p[1], "pipe", 4) == 1);
	T_ASSERT(fd_is_open(p[1]));		/* queued, not yet sent */
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	T_ASSERT(!fd_is_open(p[1]));		/* closed once on its way */

	T_ASSERT(imsgbuf_read(&ch.rx) == 1);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 1);
	T_ASSERT(imsg_get_type(&imsg) == 9 && imsg_get_len(&imsg) == 4);
	T_ASSERT(memcmp(imsg.data, "pipe", 4) == 0);
	T_ASSERT(imsg.fd != -1);
	fd = imsg_get_fd(&imsg);
	T_ASSERT(fd != -1 && imsg.fd == -1);
	T_ASSERT(imsg_get_fd(&imsg) == -1);	/* claimed once */
	imsg_free(&imsg);
	T_ASSERT(fd_is_open(fd));		/* free left the claimed fd */
	T_ASSERT((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);

	T_ASSERT(write(fd, "hello", 5) == 5);
	T_ASSERT(read(p[0], buf, sizeof(buf)) == 5);
	T_ASSERT(memcmp(buf, "hello", 5) == 0);
	close(fd);
	T_ASSERT(read(p[0], buf, sizeof(buf)) == 0);	/* last writer gone */
	close(p[0]);
	chan_close(&ch);
	T_ASSERT(count_fds() == base);
}

/* imsg_free() closes a descriptor nobody claimed. */
static void
test_fd_unclaimed(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	char		 buf[4];
	int		 p[2], base;

	base = count_fds();
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[1], NULL, 0) == 1);
	T_ASSERT(pump(&ch, &imsg) == 1);
	T_ASSERT(imsg.fd != -1);
	T_ASSERT(count_fds() == base + 4);	/* 2 sockets, pipe, received */
	imsg_free(&imsg);
	T_ASSERT(imsg.fd == -1);
	T_ASSERT(count_fds() == base + 3);
	T_ASSERT(read(p[0], buf, sizeof(buf)) == 0);
	close(p[0]);
	chan_close(&ch);
	T_ASSERT(count_fds() == base);
}

/* Each descriptor comes out with the message it was sent with. */
static void
test_fd_order(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	int		 p[3][2], i, got = 0, base, fd;
	char		 c, tag[2];

	base = count_fds();
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	for (i = 0; i < 3; i++)
		T_ASSERT(pipe2(p[i], O_CLOEXEC) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 0, 0, 0, p[0][1], "0", 1) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, "-", 1) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, "-", 1) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 0, 0, 0, p[1][1], "1", 1) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 0, 0, 0, p[2][1], "2", 1) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, "-", 1) == 1);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);

	for (i = 0; i < 6; i++) {
		T_ASSERTF(pump(&ch, &imsg) == 1, "message %d: %s", i,
		    strerror(errno));
		T_ASSERT(imsg_get_len(&imsg) == 1);
		c = ((char *)imsg.data)[0];
		if (imsg_get_type(&imsg) == 1) {
			T_ASSERT(c == '-' && imsg.fd == -1);
		} else {
			T_ASSERTF(c == '0' + got, "got %c, want %d", c, got);
			T_ASSERT((fd = imsg_get_fd(&imsg)) != -1);
			T_ASSERT(write(fd, &c, 1) == 1);
			close(fd);
			T_ASSERT(read(p[got][0], tag, 1) == 1 && tag[0] == c);
			got++;
		}
		imsg_free(&imsg);
	}
	T_ASSERT(got == 3);
	for (i = 0; i < 3; i++) {
		T_ASSERT(read(p[i][0], tag, 1) == 0);
		close(p[i][0]);
	}
	chan_close(&ch);
	T_ASSERT(count_fds() == base);
}

/* A descriptor on a channel whose reader does not pass them. */
static void
test_fdpass_refused(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	char		 buf[4];
	int		 p[2], base;

	base = count_fds();
	T_ASSERT(chan_open(&ch, 1, 0) == 0);
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[1], "x", 1) == 1);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	T_ASSERT(count_fds() == base + 3);	/* in flight, in the kernel */
	errno = 0;
	T_ASSERT(imsgbuf_read(&ch.rx) == -1);
	T_ASSERT(errno == EBADMSG);
	T_ASSERT(ch.rx.nrfds == 0);
	T_ASSERT(count_fds() == base + 3);	/* received and closed */
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	T_ASSERT(read(p[0], buf, sizeof(buf)) == 0);
	close(p[0]);
	chan_close(&ch);
	T_ASSERT(count_fds() == base);
}

static void
test_compose_fd_refused(void)
{
	struct chan	 ch;
	unsigned char	*big;
	int		 p[2], base;

	base = count_fds();
	T_ASSERT((big = calloc(1, IMSG_MAXDATA + 1)) != NULL);
	T_ASSERT(chan_open(&ch, 0, 1) == 0);
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[1], "x", 1) == -1);
	T_ASSERT(errno == EINVAL);
	T_ASSERT(fd_is_open(p[1]));		/* still the caller's */
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 0);
	chan_close(&ch);
	T_ASSERT(fd_is_open(p[1]));

	/* Allowed, but a descriptor cannot ride on a fragmented message. */
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[1], big,
	    IMSG_MAXDATA + 1) == -1);
	T_ASSERT(errno == EINVAL);
	T_ASSERT(fd_is_open(p[1]));
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[1], big, IMSG_MAXDATA) == 1);
	chan_close(&ch);			/* closes the queued p[1] */
	T_ASSERT(!fd_is_open(p[1]));
	close(p[0]);
	free(big);
	T_ASSERT(count_fds() == base);
}

/* Many descriptors back and forth, every one accounted for. */
static void
test_fd_no_leak(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	int		 i, p[2], fd, base;
	char		 c;

	base = count_fds();
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	for (i = 0; i < 200; i++) {
		T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
		T_ASSERT(imsg_compose(&ch.tx, (uint32_t)i, 0, 0, p[1], &i,
		    sizeof(i)) == 1);
		if (i % 3 == 0)
			T_ASSERT(imsg_compose(&ch.tx, 0, 0, 0, -1, NULL, 0)
			    == 1);
		T_ASSERT(pump(&ch, &imsg) == 1);
		T_ASSERT(imsg_get_type(&imsg) == (uint32_t)i);
		if (i % 2 == 0) {
			fd = imsg_get_fd(&imsg);
			T_ASSERT(write(fd, "z", 1) == 1);
			close(fd);
			T_ASSERT(read(p[0], &c, 1) == 1 && c == 'z');
		}
		imsg_free(&imsg);
		if (i % 3 == 0) {
			T_ASSERT(pump(&ch, &imsg) == 1);
			T_ASSERT(imsg.fd == -1);
			imsg_free(&imsg);
		}
		T_ASSERT(read(p[0], &c, 1) == 0);
		close(p[0]);
	}
	chan_close(&ch);
	T_ASSERT(count_fds() == base);
}

/*
 * A full socket: imsgbuf_write() returns 0 with data still queued, and
 * again at once when nothing drained; alternating with the reader moves
 * everything across intact and in order.
 */
#define NPW	120

static size_t
pw_size(int i)
{
	if (i % 40 == 39)
		return (40000);			/* three fragments */
	return (1000 + (size_t)i * 997 % 7000);
}

static void
test_partial_writes(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	struct ibuf	*first;
	unsigned char	*buf;
	size_t		 total = 0, before, len;
	ssize_t		 n;
	int		 small = 4096, i, got = 0, full = 0, partial = 0;
	int		 rounds, base;

	base = count_fds();
	T_ASSERT((buf = malloc(40000)) != NULL);
	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	T_ASSERT(setsockopt(ch.sv[0], SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)) == 0);
	T_ASSERT(setsockopt(ch.sv[1], SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)) == 0);
	for (i = 0; i < NPW; i++) {
		len = pw_size(i);
		fill(buf, len, (uint32_t)i);
		T_ASSERT(imsg_compose(&ch.tx, (uint32_t)i, (uint32_t)i * 3,
		    i, -1, buf, len) == 1);
		total += len;
	}
	T_ASSERTF(total >= 300 * 1024, "only %zu bytes queued", total);

	for (rounds = 0; got < NPW && rounds < PUMP_MAX; rounds++) {
		T_ASSERT(imsgbuf_write(&ch.tx) == 0);
		if (imsgbuf_queuelen(&ch.tx) > 0) {
			full++;
			first = TAILQ_FIRST(&ch.tx.wq);
			if (first->wpos != 0)
				partial++;
			/* Nothing drained: returns at once, moves nothing. */
			before = imsgbuf_queuebytes(&ch.tx);
			T_ASSERT(imsgbuf_write(&ch.tx) == 0);
			T_ASSERT(imsgbuf_queuebytes(&ch.tx) == before);
		}
		T_ASSERT(imsgbuf_read(&ch.rx) == 1);
		while ((n = imsgbuf_get(&ch.rx, &imsg)) == 1) {
			len = pw_size(got);
			fill(buf, len, (uint32_t)got);
			T_ASSERTF(imsg_get_type(&imsg) == (uint32_t)got,
			    "type %u, want %d", imsg_get_type(&imsg), got);
			T_ASSERT(imsg_get_id(&imsg) == (uint32_t)got * 3);
			T_ASSERT(imsg_get_pid(&imsg) == got);
			T_ASSERT(imsg_get_len(&imsg) == len);
			T_ASSERTF(memcmp(imsg.data, buf, len) == 0,
			    "message %d corrupted", got);
			imsg_free(&imsg);
			got++;
		}
		T_ASSERT(n == 0);
	}
	T_ASSERTF(got == NPW, "%d of %d messages after %d rounds", got, NPW,
	    rounds);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 0);
	T_ASSERTF(full > 0, "the socket never filled");
	T_ASSERTF(partial > 0, "no message was ever written in part");
	T_ASSERT(ch.rx.rlen == 0);
	chan_close(&ch);
	free(buf);
	T_ASSERT(count_fds() == base);
}

/* Bytes arriving one at a time: no message until the last one. */
static void
test_partial_reads(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	unsigned char	 raw[IMSG_HEADER_SIZE + 100];
	unsigned char	*big, *want;
	size_t		 i, biglen, take;
	ssize_t		 n;

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	hdr.type = 42;
	hdr.len = sizeof(raw);
	hdr.peerid = 7;
	hdr.pid = 99;
	memcpy(raw, &hdr, sizeof(hdr));
	fill(raw + sizeof(hdr), 100, 3);
	for (i = 0; i < sizeof(raw); i++) {
		T_ASSERT(write(ch.sv[0], raw + i, 1) == 1);
		T_ASSERT(imsgbuf_read(&ch.rx) == 1);
		n = imsgbuf_get(&ch.rx, &imsg);
		if (i + 1 < sizeof(raw))
			T_ASSERTF(n == 0, "a message after %zu bytes", i + 1);
		else
			T_ASSERTF(n == 1, "no message after every byte");
	}
	T_ASSERT(imsg_get_type(&imsg) == 42 && imsg_get_id(&imsg) == 7 &&
	    imsg_get_pid(&imsg) == 99 && imsg_get_len(&imsg) == 100);
	T_ASSERT(memcmp(imsg.data, raw + sizeof(hdr), 100) == 0);
	imsg_free(&imsg);
	T_ASSERT(ch.rx.rlen == 0);

	/* Two fragments by hand, seven bytes at a time. */
	biglen = 2 * IMSG_HEADER_SIZE + IMSG_MAXDATA + 50;
	T_ASSERT((big = malloc(biglen)) != NULL);
	T_ASSERT((want = malloc(IMSG_MAXDATA + 50)) != NULL);
	fill(want, IMSG_MAXDATA + 50, 9);
	hdr.type = 43;
	hdr.len = IMSG_MAXSIZE | IMSG_MORE_MARK;
	hdr.peerid = 8;
	hdr.pid = 100;
	memcpy(big, &hdr, sizeof(hdr));
	memcpy(big + IMSG_HEADER_SIZE, want, IMSG_MAXDATA);
	hdr.len = IMSG_HEADER_SIZE + 50;
	memcpy(big + IMSG_MAXSIZE, &hdr, sizeof(hdr));
	memcpy(big + IMSG_MAXSIZE + IMSG_HEADER_SIZE, want + IMSG_MAXDATA,
	    50);
	for (i = 0; i < biglen; i += take) {
		take = biglen - i < 7 ? biglen - i : 7;
		T_ASSERT(write(ch.sv[0], big + i, take) == (ssize_t)take);
		T_ASSERT(imsgbuf_read(&ch.rx) == 1);
		n = imsgbuf_get(&ch.rx, &imsg);
		if (i + take < biglen)
			T_ASSERTF(n == 0, "a message after %zu bytes",
			    i + take);
		else
			T_ASSERT(n == 1);
	}
	T_ASSERT(imsg_get_type(&imsg) == 43 && imsg_get_id(&imsg) == 8);
	T_ASSERT(imsg_get_len(&imsg) == IMSG_MAXDATA + 50);
	T_ASSERT(memcmp(imsg.data, want, IMSG_MAXDATA + 50) == 0);
	imsg_free(&imsg);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	chan_close(&ch);
	free(big);
	free(want);
}

static void
test_large_messages(void)
{
	const size_t	 sizes[] = {
		IMSG_MAXDATA - 1, IMSG_MAXDATA, IMSG_MAXDATA + 1,
		2 * IMSG_MAXDATA, 2 * IMSG_MAXDATA + 1, 1024 * 1024,
		IMSG_DEFAULT_MAXMSG,
	};
	struct chan	 ch;
	struct imsg	 imsg;
	unsigned char	*buf;
	size_t		 i, nfrag;

	T_ASSERT((buf = malloc(IMSG_DEFAULT_MAXMSG + 1)) != NULL);
	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(buf, sizes[i], (uint32_t)i + 100);
		T_ASSERT(imsg_compose(&ch.tx, 50 + (uint32_t)i, 1000,
		    4321, -1, buf, sizes[i]) == 1);
		nfrag = (sizes[i] + IMSG_MAXDATA - 1) / IMSG_MAXDATA;
		T_ASSERTF(imsgbuf_queuelen(&ch.tx) == nfrag,
		    "%zu bytes: %zu fragments, want %zu", sizes[i],
		    imsgbuf_queuelen(&ch.tx), nfrag);
		T_ASSERT(imsgbuf_queuebytes(&ch.tx) ==
		    sizes[i] + nfrag * IMSG_HEADER_SIZE);
		T_ASSERTF(pump(&ch, &imsg) == 1, "%zu bytes: %s", sizes[i],
		    strerror(errno));
		T_ASSERT(imsg_get_type(&imsg) == 50 + (uint32_t)i);
		T_ASSERT(imsg_get_id(&imsg) == 1000);
		T_ASSERT(imsg_get_pid(&imsg) == 4321);
		T_ASSERTF(imsg_get_len(&imsg) == sizes[i], "%zu bytes: got %zu",
		    sizes[i], imsg_get_len(&imsg));
		T_ASSERTF(memcmp(imsg.data, buf, sizes[i]) == 0,
		    "%zu bytes: corrupted", sizes[i]);
		T_ASSERT(imsg.fd == -1);
		imsg_free(&imsg);
		T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
		T_ASSERT(ch.rx.frag_active == 0);
	}

	/* Two big ones and a small one in a row keep their order. */
	fill(buf, 100000, 1);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, 100000) == 1);
	fill(buf, 70000, 2);
	T_ASSERT(imsg_compose(&ch.tx, 2, 0, 0, -1, buf, 70000) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 3, 0, 0, -1, "s", 1) == 1);
	T_ASSERT(pump(&ch, &imsg) == 1);
	fill(buf, 100000, 1);
	T_ASSERT(imsg_get_type(&imsg) == 1 && imsg_get_len(&imsg) == 100000);
	T_ASSERT(memcmp(imsg.data, buf, 100000) == 0);
	imsg_free(&imsg);
	T_ASSERT(pump(&ch, &imsg) == 1);
	fill(buf, 70000, 2);
	T_ASSERT(imsg_get_type(&imsg) == 2 && imsg_get_len(&imsg) == 70000);
	T_ASSERT(memcmp(imsg.data, buf, 70000) == 0);
	imsg_free(&imsg);
	T_ASSERT(pump(&ch, &imsg) == 1);
	T_ASSERT(imsg_get_type(&imsg) == 3 && imsg_get_len(&imsg) == 1);
	imsg_free(&imsg);

	/* One byte over the default cap is refused by the sender. */
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf,
	    IMSG_DEFAULT_MAXMSG + 1) == -1);
	T_ASSERT(errno == EMSGSIZE);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	chan_close(&ch);
	free(buf);
}

static void
test_maxmsg_receiver(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	unsigned char	*buf;

	T_ASSERT((buf = malloc(100001)) != NULL);
	fill(buf, 100001, 5);
	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	imsgbuf_set_maxmsg(&ch.rx, 100000);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, 100000) == 1);
	T_ASSERT(pump(&ch, &imsg) == 1);
	T_ASSERT(imsg_get_len(&imsg) == 100000);
	T_ASSERT(memcmp(imsg.data, buf, 100000) == 0);
	imsg_free(&imsg);
	T_ASSERT(imsg_compose(&ch.tx, 2, 0, 0, -1, buf, 100001) == 1);
	errno = 0;
	T_ASSERT(pump(&ch, &imsg) == -1);
	T_ASSERTF(errno == EMSGSIZE, "errno %d (%s)", errno, strerror(errno));
	T_ASSERT(imsg.data == NULL && imsg.fd == -1);
	chan_close(&ch);

	/* A cap below one imsg is raised to one imsg. */
	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	imsgbuf_set_maxmsg(&ch.rx, 1);
	T_ASSERT(ch.rx.maxmsg == IMSG_MAXDATA);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, IMSG_MAXDATA) == 1);
	T_ASSERT(pump(&ch, &imsg) == 1);
	T_ASSERT(imsg_get_len(&imsg) == IMSG_MAXDATA);
	imsg_free(&imsg);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, IMSG_MAXDATA + 1)
	    == 1);
	errno = 0;
	T_ASSERT(pump(&ch, &imsg) == -1);
	T_ASSERT(errno == EMSGSIZE);
	chan_close(&ch);
	free(buf);
}

static void
test_maxmsg_sender(void)
{
	struct chan	 ch;
	struct iovec	 iov[2];
	unsigned char	*buf;

	T_ASSERT((buf = calloc(1, 100001)) != NULL);
	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	imsgbuf_set_maxmsg(&ch.tx, 100000);
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, 100001) == -1);
	T_ASSERT(errno == EMSGSIZE);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	iov[0].iov_base = buf;
	iov[0].iov_len = 50000;
	iov[1].iov_base = buf;
	iov[1].iov_len = 50001;
	errno = 0;
	T_ASSERT(imsg_composev(&ch.tx, 1, 0, 0, -1, iov, 2) == -1);
	T_ASSERT(errno == EMSGSIZE);
	iov[0].iov_len = SIZE_MAX;		/* the sum must not wrap */
	iov[1].iov_len = 2;
	errno = 0;
	T_ASSERT(imsg_composev(&ch.tx, 1, 0, 0, -1, iov, 2) == -1);
	T_ASSERT(errno == EMSGSIZE);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, 100000) == 1);
	chan_close(&ch);
	free(buf);
}

static void
test_maxqueue(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	unsigned char	*buf;
	size_t		 one = IMSG_HEADER_SIZE + 1000;
	int		 i;

	T_ASSERT((buf = calloc(1, 2 * IMSG_MAXDATA)) != NULL);
	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	imsgbuf_set_maxqueue(&ch.tx, 3 * one);
	for (i = 0; i < 3; i++)
		T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, 1000) == 1);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 3 * one);
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, 1000) == -1);
	T_ASSERT(errno == ENOBUFS);
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, NULL, 0) == -1);
	T_ASSERT(errno == ENOBUFS);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 3);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 3 * one);

	T_ASSERT(imsgbuf_write(&ch.tx) == 0);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 2, 0, 0, -1, buf, 1000) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 2, 0, 0, -1, buf, 999) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 2, 0, 0, -1, buf, 1001) == 1);
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 2, 0, 0, -1, NULL, 0) == -1);
	T_ASSERT(errno == ENOBUFS);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	for (i = 0; i < 6; i++) {
		T_ASSERT(pump(&ch, &imsg) == 1);
		imsg_free(&imsg);
	}

	/* One message larger than the whole queue, headers counted. */
	imsgbuf_set_maxqueue(&ch.tx, 2 * IMSG_MAXSIZE - 1);
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, 2 * IMSG_MAXDATA)
	    == -1);
	T_ASSERT(errno == ENOBUFS);
	imsgbuf_set_maxqueue(&ch.tx, 2 * IMSG_MAXSIZE);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, buf, 2 * IMSG_MAXDATA)
	    == 1);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 2 * IMSG_MAXSIZE);
	errno = 0;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, NULL, 0) == -1);
	T_ASSERT(errno == ENOBUFS);
	chan_close(&ch);
	free(buf);
}

static void
test_eof(void)
{
	struct chan	 ch;
	struct imsg	 imsg;

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, "last", 4) == 1);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	imsgbuf_clear(&ch.tx);
	close(ch.sv[0]);
	ch.sv[0] = -1;
	T_ASSERT(imsgbuf_read(&ch.rx) == 1);	/* what was sent first */
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 1);
	T_ASSERT(imsg_get_len(&imsg) == 4);
	imsg_free(&imsg);
	T_ASSERT(imsgbuf_read(&ch.rx) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 0);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	chan_close(&ch);
}

/* A truncated message at end of file never comes out. */
static void
test_eof_midmessage(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	hdr.type = 1;
	hdr.len = IMSG_HEADER_SIZE + 10;
	hdr.peerid = hdr.pid = 0;
	T_ASSERT(write_all(ch.sv[0], &hdr, sizeof(hdr)) == 0);
	T_ASSERT(write_all(ch.sv[0], "abc", 3) == 0);
	close(ch.sv[0]);
	ch.sv[0] = -1;
	T_ASSERT(imsgbuf_read(&ch.rx) == 1);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 0);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	chan_close(&ch);
}

/* Writing to a closed peer fails with EPIPE, and no SIGPIPE kills us. */
static void
test_write_closed_peer(void)
{
	struct chan	 ch;
	int		 p[2], base;

	base = count_fds();
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
	imsgbuf_clear(&ch.rx);
	close(ch.sv[1]);
	ch.sv[1] = -1;
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, "x", 1) == 1);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[1], "y", 1) == 1);
	errno = 0;
	T_ASSERT(imsgbuf_write(&ch.tx) == -1);
	T_ASSERT(errno == EPIPE);
	T_ASSERT(imsgbuf_flush(&ch.tx) == -1);
	T_ASSERT(fd_is_open(p[1]));		/* still queued */
	chan_close(&ch);
	T_ASSERT(!fd_is_open(p[1]));
	close(p[0]);
	T_ASSERT(count_fds() == base);
}

/*
 * Streams a compromised peer could write.  Each is a list of headers,
 * each followed by the payload its len announces when that is a sane
 * size; a pipe end rides along when withfd is set.
 */
static void
test_malformed(void)
{
	static const struct {
		const char	*what;
		int		 nhdr;
		uint32_t	 type[2];
		uint32_t	 len[2];
		uint32_t	 peerid[2];
		int		 withfd;
	} t[] = {
		{ "len below the header", 1, { 1 }, { 8 }, { 0 }, 0 },
		{ "len zero", 1, { 1 }, { 0 }, { 0 }, 0 },
		{ "len 15", 1, { 1 }, { 15 }, { 0 }, 0 },
		{ "len above IMSG_MAXSIZE", 1, { 1 }, { IMSG_MAXSIZE + 1 },
		    { 0 }, 0 },
		{ "len all ones", 1, { 1 }, { IMSG_LEN_MASK }, { 0 }, 0 },
		{ "FD_MARK without a descriptor", 1, { 1 },
		    { (IMSG_HEADER_SIZE + 4) | IMSG_FD_MARK }, { 0 }, 0 },
		{ "short MORE fragment", 1, { 1 },
		    { (IMSG_HEADER_SIZE + 10) | IMSG_MORE_MARK }, { 0 }, 0 },
		{ "empty MORE fragment", 1, { 1 },
		    { IMSG_HEADER_SIZE | IMSG_MORE_MARK }, { 0 }, 0 },
		{ "fragments of two types", 2, { 1, 2 },
		    { IMSG_MAXSIZE | IMSG_MORE_MARK, IMSG_HEADER_SIZE + 4 },
		    { 0, 0 }, 0 },
		{ "fragments of two peerids", 2, { 1, 1 },
		    { IMSG_MAXSIZE | IMSG_MORE_MARK, IMSG_HEADER_SIZE + 4 },
		    { 1, 2 }, 0 },
		{ "a short fragment after a full one", 2, { 1, 1 },
		    { IMSG_MAXSIZE | IMSG_MORE_MARK,
		    (IMSG_HEADER_SIZE + 4) | IMSG_MORE_MARK }, { 0, 0 }, 0 },
		{ "FD_MARK on a MORE fragment", 1, { 1 },
		    { IMSG_MAXSIZE | IMSG_MORE_MARK | IMSG_FD_MARK }, { 0 },
		    1 },
		{ "FD_MARK on the last fragment", 2, { 1, 1 },
		    { IMSG_MAXSIZE | IMSG_MORE_MARK,
		    (IMSG_HEADER_SIZE + 4) | IMSG_FD_MARK }, { 0, 0 }, 1 },
	};
	struct chan	 ch;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	unsigned char	*raw;
	size_t		 i, off, dlen;
	ssize_t		 n;
	char		 c;
	int		 j, k, p[2], base, r;

	T_ASSERT((raw = calloc(1, 2 * IMSG_MAXSIZE)) != NULL);
	base = count_fds();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_ASSERT(chan_open(&ch, 0, 1) == 0);
		off = 0;
		for (j = 0; j < t[i].nhdr; j++) {
			hdr.type = t[i].type[j];
			hdr.len = t[i].len[j];
			hdr.peerid = t[i].peerid[j];
			hdr.pid = 1;
			memcpy(raw + off, &hdr, sizeof(hdr));
			off += sizeof(hdr);
			dlen = hdr.len & IMSG_LEN_MASK;
			if (dlen >= IMSG_HEADER_SIZE && dlen <= IMSG_MAXSIZE)
				off += dlen - IMSG_HEADER_SIZE;
		}
		p[0] = p[1] = -1;
		if (t[i].withfd)
			T_ASSERT(pipe2(p, O_CLOEXEC) == 0);
		T_ASSERTF(send_raw(ch.sv[0], raw, off, p[1]) == 0, "%s: %s",
		    t[i].what, strerror(errno));
		if (p[1] != -1)
			close(p[1]);
		n = 0;
		for (k = 0; k < 16 && n == 0; k++) {
			r = imsgbuf_read(&ch.rx);
			T_ASSERTF(r == 1, "%s: read %d", t[i].what, r);
			errno = 0;
			n = imsgbuf_get(&ch.rx, &imsg);
		}
		T_ASSERTF(n == -1, "%s: get returned %zd", t[i].what, n);
		T_ASSERTF(errno == EBADMSG, "%s: errno %d", t[i].what, errno);
		T_ASSERT(imsg.data == NULL && imsg.fd == -1);
		chan_close(&ch);
		if (p[0] != -1) {
			T_ASSERTF(read(p[0], &c, 1) == 0, "%s: fd leaked",
			    t[i].what);
			close(p[0]);
		}
		T_ASSERTF(count_fds() == base, "%s: fd leaked", t[i].what);
	}
	free(raw);
}

/* Good messages before a bad header still come out, in order. */
static void
test_malformed_after_good(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;

	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, "ok", 2) == 1);
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	hdr.type = 2;
	hdr.len = 4;
	hdr.peerid = hdr.pid = 0;
	T_ASSERT(write_all(ch.sv[0], &hdr, sizeof(hdr)) == 0);
	T_ASSERT(imsgbuf_read(&ch.rx) == 1);
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 1);
	T_ASSERT(imsg_get_type(&imsg) == 1 && imsg_get_len(&imsg) == 2);
	imsg_free(&imsg);
	errno = 0;
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == -1 && errno == EBADMSG);
	chan_close(&ch);
}

/* imsgbuf_clear() closes descriptors still queued for writing. */
static void
test_clear_queued_fds(void)
{
	struct chan	 ch;
	unsigned char	*big;
	char		 c;
	int		 p[3][2], i, base;

	base = count_fds();
	T_ASSERT((big = calloc(1, 3 * IMSG_MAXDATA)) != NULL);
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	for (i = 0; i < 3; i++) {
		T_ASSERT(pipe2(p[i], O_CLOEXEC) == 0);
		T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[i][1], "f", 1) == 1);
		T_ASSERT(imsg_compose(&ch.tx, 2, 0, 0, -1, big,
		    3 * IMSG_MAXDATA) == 1);
	}
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 12);
	T_ASSERT(count_fds() == base + 2 + 6);
	imsgbuf_clear(&ch.tx);
	T_ASSERT(imsgbuf_queuelen(&ch.tx) == 0);
	T_ASSERT(imsgbuf_queuebytes(&ch.tx) == 0);
	T_ASSERT(count_fds() == base + 2 + 3);
	for (i = 0; i < 3; i++) {
		T_ASSERT(read(p[i][0], &c, 1) == 0);
		close(p[i][0]);
	}
	/* A cleared channel refuses to be used. */
	errno = 0;
	T_ASSERT(imsgbuf_read(&ch.tx) == -1 && errno == EINVAL);
	chan_close(&ch);
	free(big);
	T_ASSERT(count_fds() == base);
}

/* ... and descriptors received but not yet taken by imsgbuf_get(). */
static void
test_clear_received_fds(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	char		 c;
	int		 p[2][2], i, base;

	base = count_fds();
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	for (i = 0; i < 2; i++) {
		T_ASSERT(pipe2(p[i], O_CLOEXEC) == 0);
		T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[i][1], NULL, 0) == 1);
	}
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	for (i = 0; i < 4 && ch.rx.nrfds < 2; i++)
		T_ASSERT(imsgbuf_read(&ch.rx) == 1);
	T_ASSERT(ch.rx.nrfds == 2);
	imsgbuf_clear(&ch.rx);
	T_ASSERT(ch.rx.nrfds == 0);
	for (i = 0; i < 2; i++) {
		T_ASSERT(read(p[i][0], &c, 1) == 0);
		close(p[i][0]);
	}
	errno = 0;
	T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == -1 && errno == EINVAL);
	chan_close(&ch);
	T_ASSERT(count_fds() == base);
}

/* A fragment under way when the channel is cleared is freed. */
static void
test_clear_mid_fragment(void)
{
	struct chan	 ch;
	struct imsg	 imsg;
	unsigned char	*big;
	int		 i;

	T_ASSERT((big = calloc(1, 1024 * 1024)) != NULL);
	T_ASSERT(chan_open(&ch, 0, 0) == 0);
	T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, -1, big, 1024 * 1024) == 1);
	for (i = 0; i < 2; i++) {
		T_ASSERT(imsgbuf_write(&ch.tx) == 0);
		T_ASSERT(imsgbuf_read(&ch.rx) == 1);
		T_ASSERT(imsgbuf_get(&ch.rx, &imsg) == 0);
	}
	T_ASSERT(ch.rx.frag_active && ch.rx.frag_data != NULL);
	chan_close(&ch);
	T_ASSERT(ch.rx.frag_data == NULL && ch.rx.frag_active == 0);
	free(big);
}

/* Unclaimed descriptors are capped; the one over the cap is refused. */
static void
test_too_many_fds(void)
{
	struct chan	 ch;
	char		 c;
	int		 p[IMSG_MAXFDS + 1][2], i, r = 1, base;

	base = count_fds();
	T_ASSERT(chan_open(&ch, 1, 1) == 0);
	for (i = 0; i <= IMSG_MAXFDS; i++) {
		T_ASSERT(pipe2(p[i], O_CLOEXEC) == 0);
		T_ASSERT(imsg_compose(&ch.tx, 1, 0, 0, p[i][1], NULL, 0) == 1);
	}
	T_ASSERT(imsgbuf_flush(&ch.tx) == 0);
	for (i = 0; i < 4 * IMSG_MAXFDS && r == 1; i++)
		r = imsgbuf_read(&ch.rx);
	T_ASSERTF(r == -1, "read %d after %d calls", r, i);
	T_ASSERT(errno == EBADMSG);
	T_ASSERT(ch.rx.nrfds == IMSG_MAXFDS);
	chan_close(&ch);
	for (i = 0; i <= IMSG_MAXFDS; i++) {
		T_ASSERTF(read(p[i][0], &c, 1) == 0, "pipe %d still open", i);
		close(p[i][0]);
	}
	T_ASSERT(count_fds() == base);
}

int
main(void)
{
	t_suite = "imsg";
	T_RUN(test_roundtrip);
	T_RUN(test_both_directions);
	T_RUN(test_zero_length);
	T_RUN(test_get_data_wrong_size);
	T_RUN(test_get_string);
	T_RUN(test_composev);
	T_RUN(test_fdpass);
	T_RUN(test_fd_unclaimed);
	T_RUN(test_fd_order);
	T_RUN(test_fdpass_refused);
	T_RUN(test_compose_fd_refused);
	T_RUN(test_fd_no_leak);
	T_RUN(test_partial_writes);
	T_RUN(test_partial_reads);
	T_RUN(test_large_messages);
	T_RUN(test_maxmsg_receiver);
	T_RUN(test_maxmsg_sender);
	T_RUN(test_maxqueue);
	T_RUN(test_eof);
	T_RUN(test_eof_midmessage);
	T_RUN(test_write_closed_peer);
	T_RUN(test_malformed);
	T_RUN(test_malformed_after_good);
	T_RUN(test_clear_queued_fds);
	T_RUN(test_clear_received_fds);
	T_RUN(test_clear_mid_fragment);
	T_RUN(test_too_many_fds);
	return (t_done());
}
