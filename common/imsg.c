/*
 * imsg: framed messages between mcpgate processes.
 *
 * Wire format: struct imsg_hdr, then len - IMSG_HEADER_SIZE bytes.  Bit 31
 * of len says that one descriptor travelled with the message (in the
 * SCM_RIGHTS of the sendmsg that carried its first byte); bit 30 says that
 * the message is a fragment of a larger one and that more follow.  Every
 * fragment but the last is full, carries no descriptor, and fragments of one
 * message are queued together, so a receiver reassembles one message at a
 * time and anything else is a protocol error.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_RBUFSIZE	(4 * IMSG_MAXSIZE)
#define IMSG_IOVMAX	64

static int	imsg_push_fd(struct imsgbuf *, int);
static void	imsg_close_fds(struct cmsghdr *, struct msghdr *);

int
imsgbuf_init(struct imsgbuf *ib, int fd)
{
	int	 flags;

	memset(ib, 0, sizeof(*ib));
	ib->fd = fd;
	ib->pid = getpid();
	ib->maxmsg = IMSG_DEFAULT_MAXMSG;
	ib->maxqueue = IMSG_DEFAULT_MAXQUEUE;
	TAILQ_INIT(&ib->wq);
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return (-1);
	if ((ib->rbuf = malloc(IMSG_RBUFSIZE)) == NULL)
		return (-1);
	ib->rsize = IMSG_RBUFSIZE;
	return (0);
}

/* Descriptor passing is refused on a channel unless enabled here. */
void
imsgbuf_allow_fdpass(struct imsgbuf *ib)
{
	ib->fdpass = 1;
}

/* The largest reassembled message; never below one imsg. */
void
imsgbuf_set_maxmsg(struct imsgbuf *ib, size_t max)
{
	if (max < IMSG_MAXDATA)
		max = IMSG_MAXDATA;
	ib->maxmsg = max;
}

void
imsgbuf_set_maxqueue(struct imsgbuf *ib, size_t max)
{
	ib->maxqueue = max;
}

/* Free everything the channel holds; the socket itself stays open. */
void
imsgbuf_clear(struct imsgbuf *ib)
{
	struct ibuf	*buf;
	int		 i;

	while ((buf = TAILQ_FIRST(&ib->wq)) != NULL) {
		TAILQ_REMOVE(&ib->wq, buf, entry);
		if (buf->fd != -1)
			close(buf->fd);
		freezero(buf, sizeof(*buf) + buf->size);
	}
	ib->wqbytes = ib->wqcount = 0;
	for (i = 0; i < ib->nrfds; i++)
		close(ib->rfds[i]);
	ib->nrfds = 0;
	if (ib->rbuf != NULL)
		freezero(ib->rbuf, ib->rsize);
	ib->rbuf = NULL;
	ib->rsize = ib->rlen = 0;
	if (ib->frag_data != NULL)
		freezero(ib->frag_data, ib->frag_cap);
	ib->frag_data = NULL;
	ib->frag_active = 0;
	ib->frag_len = ib->frag_cap = 0;
}

static int
imsg_push_fd(struct imsgbuf *ib, int fd)
{
	if (!ib->fdpass || ib->nrfds == IMSG_MAXFDS) {
		close(fd);
		return (-1);
	}
	ib->rfds[ib->nrfds++] = fd;
	return (0);
}

static void
imsg_close_fds(struct cmsghdr *cmsg, struct msghdr *msg)
{
	size_t	 i, n;
	int	 fd;

	for (; cmsg != NULL; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(fd));
			close(fd);
		}
	}
}

/*
 * Read what the socket has.  Returns 1 when data was read or none was
 * ready, 0 on end of file, -1 on error.  A descriptor on a channel that
 * does not pass them, a truncated control message or too many unclaimed
 * descriptors are errors, and no descriptor is left open by them.
 */
int
imsgbuf_read(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * IMSG_MAXFDS)];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 fd, bad = 0;

	if (ib->rbuf == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (ib->rlen == ib->rsize)
		return (1);	/* imsgbuf_get() must drain first */

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = ib->rbuf + ib->rlen;
	iov.iov_len = ib->rsize - ib->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

	do {
		n = recvmsg(ib->fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (1);
		return (-1);
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		imsg_close_fds(CMSG_FIRSTHDR(&msg), &msg);
		errno = EMSGSIZE;
		return (-1);
	}
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(fd));
			if (imsg_push_fd(ib, fd) == -1)
				bad = 1;
		}
	}
	if (bad) {
		errno = EBADMSG;
		return (-1);
	}
	if (n == 0)
		return (0);
	ib->rlen += n;
	return (1);
}

static int
imsg_frag_append(struct imsgbuf *ib, const unsigned char *p, size_t len)
{
	unsigned char	*nd;
	size_t		 cap;

	if (len > ib->maxmsg - ib->frag_len) {
		errno = EMSGSIZE;
		return (-1);
	}
	if (len == 0)
		return (0);
	if (ib->frag_len + len > ib->frag_cap) {
		cap = ib->frag_cap == 0 ? 4 * IMSG_MAXDATA : ib->frag_cap;
		while (cap < ib->frag_len + len)
			cap *= 2;
		if (cap > ib->maxmsg)
			cap = ib->maxmsg;
		if ((nd = recallocarray(ib->frag_data, ib->frag_cap, cap,
		    1)) == NULL)
			return (-1);
		ib->frag_data = nd;
		ib->frag_cap = cap;
	}
	memcpy(ib->frag_data + ib->frag_len, p, len);
	ib->frag_len += len;
	return (0);
}

/*
 * Take the next whole message.  Returns 1 with *imsg filled (free it with
 * imsg_free()), 0 when more input is needed, -1 on a malformed stream,
 * which the caller must treat as a compromised peer.
 */
ssize_t
imsgbuf_get(struct imsgbuf *ib, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;
	unsigned char	*p;
	size_t		 len, datalen, off = 0;
	ssize_t		 ret = 0;
	int		 fd, i;

	memset(imsg, 0, sizeof(*imsg));
	imsg->fd = -1;
	if (ib->rbuf == NULL) {
		errno = EINVAL;
		return (-1);
	}
	for (;;) {
		if (ib->rlen - off < IMSG_HEADER_SIZE)
			break;
		p = ib->rbuf + off;
		memcpy(&hdr, p, sizeof(hdr));
		len = hdr.len & IMSG_LEN_MASK;
		if (len < IMSG_HEADER_SIZE || len > IMSG_MAXSIZE) {
			errno = EBADMSG;
			ret = -1;
			break;
		}
		if (ib->rlen - off < len)
			break;
		datalen = len - IMSG_HEADER_SIZE;

		if (ib->frag_active && (hdr.type != ib->frag_type ||
		    hdr.peerid != ib->frag_peerid)) {
			errno = EBADMSG;
			ret = -1;
			break;
		}
		fd = -1;
		if (hdr.len & IMSG_FD_MARK) {
			if (ib->nrfds == 0 ||
			    (hdr.len & IMSG_MORE_MARK) || ib->frag_active) {
				errno = EBADMSG;
				ret = -1;
				break;
			}
			fd = ib->rfds[0];
			for (i = 1; i < ib->nrfds; i++)
				ib->rfds[i - 1] = ib->rfds[i];
			ib->nrfds--;
		}

		if (hdr.len & IMSG_MORE_MARK) {
			if (datalen != IMSG_MAXDATA) {
				errno = EBADMSG;
				ret = -1;
				break;
			}
			if (!ib->frag_active) {
				ib->frag_active = 1;
				ib->frag_type = hdr.type;
				ib->frag_peerid = hdr.peerid;
				ib->frag_pid = hdr.pid;
				ib->frag_len = 0;
			}
			if (imsg_frag_append(ib, p + IMSG_HEADER_SIZE,
			    datalen) == -1) {
				ret = -1;
				break;
			}
			off += len;
			continue;
		}

		if (ib->frag_active) {
			if (imsg_frag_append(ib, p + IMSG_HEADER_SIZE,
			    datalen) == -1) {
				ret = -1;
				break;
			}
			imsg->data = ib->frag_data;
			imsg->datalen = ib->frag_len;
			ib->frag_data = NULL;
			ib->frag_len = ib->frag_cap = 0;
			ib->frag_active = 0;
		} else if (datalen > ib->maxmsg) {
			errno = EMSGSIZE;
			ret = -1;
			if (fd != -1)
				close(fd);
			break;
		} else if (datalen > 0) {
			if ((imsg->data = malloc(datalen)) == NULL) {
				if (fd != -1)
					close(fd);
				ret = -1;
				break;
			}
			memcpy(imsg->data, p + IMSG_HEADER_SIZE, datalen);
			imsg->datalen = datalen;
		}
		imsg->hdr = hdr;
		imsg->hdr.len = datalen + IMSG_HEADER_SIZE;
		imsg->fd = fd;
		off += len;
		ret = 1;
		break;
	}
	if (off > 0) {
		/* Consumed bytes may be secrets: leave no copy behind. */
		memmove(ib->rbuf, ib->rbuf + off, ib->rlen - off);
		ib->rlen -= off;
		explicit_bzero(ib->rbuf + ib->rlen, off);
	}
	return (ret);
}

int
imsg_compose(struct imsgbuf *ib, uint32_t type, uint32_t peerid, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	struct iovec	 iov;

	iov.iov_base = (void *)data;
	iov.iov_len = datalen;
	return (imsg_composev(ib, type, peerid, pid, fd, &iov,
	    datalen > 0 ? 1 : 0));
}

/*
 * Queue one message, split into fragments when it is larger than one
 * imsg.  On success the channel owns fd and closes it once sent; on
 * failure the caller still owns it.  Fails with EMSGSIZE over the
 * channel's message cap and ENOBUFS when the write queue is full.
 */
int
imsg_composev(struct imsgbuf *ib, uint32_t type, uint32_t peerid, pid_t pid,
    int fd, const struct iovec *iov, int iovcnt)
{
	TAILQ_HEAD(, ibuf)	 frags;
	struct imsg_hdr		 hdr;
	struct ibuf		*buf;
	size_t			 total = 0, nfrag, wire, left, chunk, n;
	size_t			 ioff = 0;
	int			 i, vi = 0;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - total) {
			errno = EMSGSIZE;
			return (-1);
		}
		total += iov[i].iov_len;
	}
	if (total > ib->maxmsg) {
		errno = EMSGSIZE;
		return (-1);
	}
	if (fd != -1 && (!ib->fdpass || total > IMSG_MAXDATA)) {
		errno = EINVAL;
		return (-1);
	}
	nfrag = total == 0 ? 1 : (total + IMSG_MAXDATA - 1) / IMSG_MAXDATA;
	wire = total + nfrag * IMSG_HEADER_SIZE;
	if (wire > ib->maxqueue || ib->wqbytes > ib->maxqueue - wire) {
		errno = ENOBUFS;
		return (-1);
	}

	TAILQ_INIT(&frags);
	left = total;
	do {
		chunk = left > IMSG_MAXDATA ? IMSG_MAXDATA : left;
		left -= chunk;
		if ((buf = malloc(sizeof(*buf) + IMSG_HEADER_SIZE +
		    chunk)) == NULL)
			goto fail;
		buf->size = IMSG_HEADER_SIZE + chunk;
		buf->wpos = 0;
		buf->fd = -1;
		hdr.type = type;
		hdr.len = (uint32_t)(IMSG_HEADER_SIZE + chunk);
		if (left > 0)
			hdr.len |= IMSG_MORE_MARK;
		if (fd != -1)
			hdr.len |= IMSG_FD_MARK;
		hdr.peerid = peerid;
		hdr.pid = (uint32_t)pid;
		memcpy(buf->data, &hdr, sizeof(hdr));
		for (n = 0; n < chunk; ) {
			size_t	 take = iov[vi].iov_len - ioff;

			if (take > chunk - n)
				take = chunk - n;
			memcpy(buf->data + IMSG_HEADER_SIZE + n,
			    (const unsigned char *)iov[vi].iov_base + ioff,
			    take);
			n += take;
			ioff += take;
			if (ioff == iov[vi].iov_len) {
				vi++;
				ioff = 0;
			}
		}
		TAILQ_INSERT_TAIL(&frags, buf, entry);
	} while (left > 0);

	/* Only now, when nothing can fail, does the channel take fd. */
	TAILQ_FIRST(&frags)->fd = fd;
	while ((buf = TAILQ_FIRST(&frags)) != NULL) {
		TAILQ_REMOVE(&frags, buf, entry);
		TAILQ_INSERT_TAIL(&ib->wq, buf, entry);
		ib->wqcount++;
	}
	ib->wqbytes += wire;
	return (1);

 fail:
	while ((buf = TAILQ_FIRST(&frags)) != NULL) {
		TAILQ_REMOVE(&frags, buf, entry);
		freezero(buf, sizeof(*buf) + buf->size);
	}
	errno = ENOMEM;
	return (-1);
}

/*
 * Write as much of the queue as the socket takes.  Returns 0 when the
 * queue is empty or the socket is full (wait for POLLOUT), -1 on error.
 * A message with a descriptor starts its own sendmsg, and the descriptor
 * is closed here as soon as it is on its way.
 */
int
imsgbuf_write(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct iovec	 iov[IMSG_IOVMAX];
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct ibuf	*buf, *first;
	ssize_t		 sent;
	size_t		 left, take;
	int		 n;

	while ((first = TAILQ_FIRST(&ib->wq)) != NULL) {
		n = 0;
		for (buf = first; buf != NULL && n < IMSG_IOVMAX;
		    buf = TAILQ_NEXT(buf, entry)) {
			if (buf != first && buf->fd != -1)
				break;
			iov[n].iov_base = buf->data + buf->wpos;
			iov[n].iov_len = buf->size - buf->wpos;
			n++;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = n;
		if (first->fd != -1) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &first->fd, sizeof(int));
		}
		sent = sendmsg(ib->fd, &msg, MSG_NOSIGNAL);
		if (sent == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (0);
			return (-1);
		}
		if (first->fd != -1) {
			close(first->fd);
			first->fd = -1;
		}
		for (left = (size_t)sent; left > 0; ) {
			buf = TAILQ_FIRST(&ib->wq);
			take = buf->size - buf->wpos;
			if (take > left)
				take = left;
			buf->wpos += take;
			left -= take;
			ib->wqbytes -= take;
			if (buf->wpos == buf->size) {
				TAILQ_REMOVE(&ib->wq, buf, entry);
				ib->wqcount--;
				freezero(buf, sizeof(*buf) + buf->size);
			}
		}
	}
	return (0);
}

/* Write the whole queue, waiting for the socket as needed. */
int
imsgbuf_flush(struct imsgbuf *ib)
{
	struct pollfd	 pfd;

	while (ib->wqcount > 0) {
		if (imsgbuf_write(ib) == -1)
			return (-1);
		if (ib->wqcount == 0)
			break;
		pfd.fd = ib->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
	return (0);
}

size_t
imsgbuf_queuelen(struct imsgbuf *ib)
{
	return (ib->wqcount);
}

size_t
imsgbuf_queuebytes(struct imsgbuf *ib)
{
	return (ib->wqbytes);
}

uint32_t
imsg_get_type(const struct imsg *imsg)
{
	return (imsg->hdr.type);
}

uint32_t
imsg_get_id(const struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

pid_t
imsg_get_pid(const struct imsg *imsg)
{
	return ((pid_t)imsg->hdr.pid);
}

size_t
imsg_get_len(const struct imsg *imsg)
{
	return (imsg->datalen);
}

/* Copy a fixed-size payload; anything but exactly len bytes is refused. */
int
imsg_get_data(const struct imsg *imsg, void *data, size_t len)
{
	if (imsg->datalen != len) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(data, imsg->data, len);
	return (0);
}

/* A variable payload, read in place; it stays the imsg's. */
int
imsg_get_buf(const struct imsg *imsg, const void **data, size_t *len)
{
	*data = imsg->data;
	*len = imsg->datalen;
	return (0);
}

/*
 * A string payload: no NUL inside, shorter than size, terminated here.
 */
int
imsg_get_string(const struct imsg *imsg, char *str, size_t size)
{
	if (size == 0 || imsg->datalen >= size ||
	    (imsg->datalen > 0 && memchr(imsg->data, '\0',
	    imsg->datalen) != NULL)) {
		errno = EBADMSG;
		return (-1);
	}
	if (imsg->datalen > 0)
		memcpy(str, imsg->data, imsg->datalen);
	str[imsg->datalen] = '\0';
	return (0);
}

/* Claim the descriptor; imsg_free() closes one nobody claimed. */
int
imsg_get_fd(struct imsg *imsg)
{
	int	 fd = imsg->fd;

	imsg->fd = -1;
	return (fd);
}

void
imsg_free(struct imsg *imsg)
{
	if (imsg->fd != -1)
		close(imsg->fd);
	imsg->fd = -1;
	if (imsg->data != NULL)
		freezero(imsg->data, imsg->datalen);
	imsg->data = NULL;
	imsg->datalen = 0;
}
