/*
 * mcpd: the MCP process.  It frames and parses what clients send (the
 * request line, later the MCP JSON-RPC stream), decides what each user
 * may do, answers, and writes to netd.  It opens no file and no socket and
 * holds no private key.
 */
#ifndef MCPGATE_MCPD_H
#define MCPGATE_MCPD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <jansson.h>

#include "child.h"
#include "ev.h"
#include "proto.h"
#include "resource.h"
#include "sandbox.h"
#include "util.h"

#define REQUEST_LINE_MAX	(16 * 1024)
/* Stop handing netd output while this much waits in the channel. */
#define MCPD_NETD_HIGHWATER	(8 * 1024 * 1024)
#define MCPD_NETD_LOWWATER	(2 * 1024 * 1024)

enum request_op {
	OP_HELLO,
	OP_LOGIN,
	OP_WHOAMI,
	OP_APPS,
	OP_CONNECT,
};

struct request {
	enum request_op	 op;
	json_t		*obj;		/* the whole request */
};

enum mconn_state {
	MCONN_REQUEST,		/* waiting for the request line */
	MCONN_LOGIN,		/* the parent is checking a login */
	MCONN_DONE,		/* answered; closing once written */
};

struct mout_chunk {
	TAILQ_ENTRY(mout_chunk)	 entry;
	size_t			 len;
	size_t			 off;
	unsigned char		 data[];
};

struct mconn {
	RB_ENTRY(mconn)		 entry;
	TAILQ_ENTRY(mconn)	 blocked_entry;
	int			 blocked;	/* waiting for netd's queue */
	uint32_t		 id;
	enum mconn_state	 state;
	struct conn_open	 peer;
	struct ev_timer		 timer;
	char			 line[REQUEST_LINE_MAX];
	size_t			 linelen;
	uint64_t		 out_unacked;	/* at netd, not yet written */
	TAILQ_HEAD(, mout_chunk) out;
	int			 close_when_sent;
	char			 login_user[RES_NAMELEN];
};

RB_HEAD(mconn_tree, mconn);

struct mcpd {
	struct conf_snapshot	 conf;
	struct child_chan	 netd;
	struct child_chan	 auditd;
	struct mconn_tree	 conns;
	struct resources	 identity;	/* roles and users */
	TAILQ_HEAD(, mconn)	 blocked;
	char			*ca_pem;
	char			 ca_fpr[FINGERPRINT_LEN + 1];
};

extern struct mcpd		*mcpd;
extern const struct sandbox_policy mcpd_sandbox;

void	 mcpd_main(int, int) __attribute__((noreturn));

/* request.c */
int	 request_parse(const char *, size_t, struct request *, const char **,
	    char *, size_t);
void	 request_free(struct request *);

/* identity.c */
const struct user *identity_user(const char *);
const struct user *identity_check(const struct conn_open *, const char **,
	    char *, size_t);
void	 identity_snapshot(const void *, size_t);

/* login.c */
void	 login_start(struct mconn *, struct request *);
void	 login_result(uint32_t, const void *, size_t);
void	 whoami(struct mconn *);

/* mconn.c */
void	 mconn_recheck(void);
struct mconn *mconn_find(uint32_t);
void	 mconn_open(uint32_t, const struct conn_open *);
void	 mconn_data(uint32_t, const unsigned char *, size_t);
void	 mconn_ack(uint32_t, uint64_t);
void	 mconn_eof(uint32_t);
void	 mconn_closed(uint32_t);
void	 mconn_resume_blocked(void);
void	 mconn_answer(struct mconn *, json_t *);
void	 mconn_error(struct mconn *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 mconn_request(struct mconn *, const char *, size_t);

#endif
