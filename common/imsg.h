/*
 * Messages between mcpgate processes, in the shape of OpenBSD's imsg:
 * a 16-byte header, non-blocking reads and writes over a stream socketpair
 * that survive partial transfers, one descriptor per message over
 * SCM_RIGHTS, a bounded write queue, and typed getters that refuse a payload
 * of the wrong size.  A payload larger than one imsg is sent as fragments
 * and reassembled by the receiver, up to a per-channel cap.
 */
#ifndef MCPGATE_IMSG_H
#define MCPGATE_IMSG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
#define IMSG_MAXSIZE		16384	/* one imsg, header included */
#define IMSG_MAXDATA		(IMSG_MAXSIZE - IMSG_HEADER_SIZE)
#define IMSG_FD_MARK		0x80000000U	/* a descriptor comes along */
#define IMSG_MORE_MARK		0x40000000U	/* a fragment: more follow */
#define IMSG_LEN_MASK		0x3fffffffU

#define IMSG_DEFAULT_MAXMSG	(4U * 1024 * 1024)
#define IMSG_DEFAULT_MAXQUEUE	(16U * 1024 * 1024)

#define IMSG_MAXFDS		8	/* received, not yet claimed */

struct imsg_hdr {
	uint32_t	 type;
	uint32_t	 len;	/* header plus data, with the two marks */
	uint32_t	 peerid;
	uint32_t	 pid;
};

struct ibuf {
	TAILQ_ENTRY(ibuf)	 entry;
	size_t			 size;
	size_t			 wpos;
	int			 fd;
	unsigned char		 data[];
};

struct imsgbuf {
	int			 fd;
	int			 fdpass;
	pid_t			 pid;
	size_t			 maxmsg;
	size_t			 maxqueue;

	unsigned char		*rbuf;
	size_t			 rsize;
	size_t			 rlen;
	int			 rfds[IMSG_MAXFDS];
	int			 nrfds;

	/* the message being reassembled from fragments */
	int			 frag_active;
	uint32_t		 frag_type;
	uint32_t		 frag_peerid;
	uint32_t		 frag_pid;
	unsigned char		*frag_data;
	size_t			 frag_len;
	size_t			 frag_cap;

	TAILQ_HEAD(, ibuf)	 wq;
	size_t			 wqbytes;
	size_t			 wqcount;
};

struct imsg {
	struct imsg_hdr		 hdr;
	int			 fd;
	size_t			 datalen;
	unsigned char		*data;
};

int	 imsgbuf_init(struct imsgbuf *, int);
void	 imsgbuf_allow_fdpass(struct imsgbuf *);
void	 imsgbuf_set_maxmsg(struct imsgbuf *, size_t);
void	 imsgbuf_set_maxqueue(struct imsgbuf *, size_t);
void	 imsgbuf_clear(struct imsgbuf *);
int	 imsgbuf_read(struct imsgbuf *);
int	 imsgbuf_write(struct imsgbuf *);
int	 imsgbuf_flush(struct imsgbuf *);
ssize_t	 imsgbuf_get(struct imsgbuf *, struct imsg *);
size_t	 imsgbuf_queuelen(struct imsgbuf *);
size_t	 imsgbuf_queuebytes(struct imsgbuf *);

int	 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, pid_t, int,
	    const void *, size_t);
int	 imsg_composev(struct imsgbuf *, uint32_t, uint32_t, pid_t, int,
	    const struct iovec *, int);

uint32_t imsg_get_type(const struct imsg *);
uint32_t imsg_get_id(const struct imsg *);
pid_t	 imsg_get_pid(const struct imsg *);
size_t	 imsg_get_len(const struct imsg *);
int	 imsg_get_data(const struct imsg *, void *, size_t);
int	 imsg_get_buf(const struct imsg *, const void **, size_t *);
int	 imsg_get_string(const struct imsg *, char *, size_t);
int	 imsg_get_fd(struct imsg *);
void	 imsg_free(struct imsg *);

#endif
