/*
 * Fuzz the imsg reader: what a compromised peer process can send down a
 * channel.  The input, after a three-byte prefix, is written into one end
 * of a stream socketpair in chunks, so that headers and payloads arrive
 * split across reads; the other end reads and takes whole messages until
 * end of file or a protocol error.
 *
 * Prefix: bytes 0 and 1 give the chunk size (1 to 65536), byte 2 the
 * reassembly cap (one to four full imsgs), so that a handful of
 * fragments reaches it.  Descriptor passing is off: a message that claims
 * one must be refused, and none may ever come out.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define PREFIX_LEN	3

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	 maxmsg;

/*
 * Take every whole message the channel holds.  Returns 0 when more input
 * is needed, -1 on a malformed stream.
 */
static int
drain(struct imsgbuf *ib)
{
	struct imsg	 imsg;
	unsigned char	 small[16], hdr[sizeof(struct imsg_hdr)];
	char		 str[256];
	const void	*buf;
	size_t		 len;
	ssize_t		 n;
	int		 fd;

	for (;;) {
		if ((n = imsgbuf_get(ib, &imsg)) == -1)
			return (-1);
		if (n == 0)
			return (0);

		len = imsg_get_len(&imsg);
		if (len > maxmsg || (len > 0 && imsg.data == NULL))
			abort();
		if (imsg_get_data(&imsg, small, 4) != (len == 4 ? 0 : -1) ||
		    imsg_get_data(&imsg, small, sizeof(small)) !=
		    (len == sizeof(small) ? 0 : -1) ||
		    imsg_get_data(&imsg, hdr, sizeof(hdr)) !=
		    (len == sizeof(hdr) ? 0 : -1) ||
		    imsg_get_data(&imsg, NULL, 0) != (len == 0 ? 0 : -1))
			abort();
		if (imsg_get_string(&imsg, str, sizeof(str)) == 0 &&
		    strlen(str) != len)
			abort();
		if (imsg_get_buf(&imsg, &buf, &len) != 0 ||
		    len != imsg_get_len(&imsg))
			abort();
		(void)imsg_get_type(&imsg);
		(void)imsg_get_id(&imsg);
		(void)imsg_get_pid(&imsg);

		/* No descriptor can arrive on a channel that passes none. */
		if ((fd = imsg_get_fd(&imsg)) != -1)
			abort();
		imsg_free(&imsg);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsgbuf	 ib;
	const uint8_t	*p;
	size_t		 chunk, left, take;
	ssize_t		 n;
	int		 sv[2], r, done = 0;

	if (size < PREFIX_LEN)
		return (0);
	chunk = ((size_t)data[0] << 8 | data[1]) + 1;
	maxmsg = IMSG_MAXDATA * (1 + (data[2] & 3));
	p = data + PREFIX_LEN;
	left = size - PREFIX_LEN;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if (imsgbuf_init(&ib, sv[1]) == -1)
		abort();
	imsgbuf_set_maxmsg(&ib, maxmsg);

	/* Write what the socket takes, one chunk at a time, then read. */
	while (left > 0 && !done) {
		take = left < chunk ? left : chunk;
		n = send(sv[0], p, take, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			abort();
		if (n > 0) {
			p += n;
			left -= (size_t)n;
		}
		if ((r = imsgbuf_read(&ib)) == -1 || r == 0 ||
		    drain(&ib) == -1)
			done = 1;
	}

	/* The writer is done: read to end of file. */
	close(sv[0]);
	while (!done) {
		r = imsgbuf_read(&ib);
		if (r == -1 || drain(&ib) == -1 || r == 0)
			done = 1;
	}

	imsgbuf_clear(&ib);
	close(sv[1]);
	return (0);
}
