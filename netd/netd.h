/*
 * netd: the network process.  It accepts connections on the sockets the
 * parent bound, speaks TLS 1.3 with ALPN mcpgate/1, verifies client
 * certificates against the gateway CA, and relays bytes to and from mcpd
 * without reading them; and it is the HTTP client of HTTP MCP servers
 * (http.c), connecting only to their origins.  It opens no file and
 * parses no request.
 */
#ifndef MCPGATE_NETD_H
#define MCPGATE_NETD_H

#include <sys/types.h>
#include <sys/tree.h>

#include <openssl/ssl.h>

#include "child.h"
#include "ev.h"
#include "proto.h"
#include "sandbox.h"
#include "wire.h"

#define NETD_READ_CHUNK		(16 * 1024)	/* a TLS record's worth */
#define NETD_READS_PER_TURN	4
/* Stop reading clients while this much waits to go to mcpd. */
#define NETD_MCPD_HIGHWATER	(8 * 1024 * 1024)
#define NETD_MCPD_LOWWATER	(2 * 1024 * 1024)

enum conn_state {
	CONN_HANDSHAKE,
	CONN_OPEN,
	CONN_CLOSING,	/* mcpd asked to close once the output is written */
};

/*
 * The connections from one address (IPv4) or /64 (IPv6) that have not
 * shown a client certificate yet: in the TLS handshake, or open without
 * one (hello, login).
 */
#define ADDR_KEY_LEN	9
struct addr_count {
	RB_ENTRY(addr_count)	 entry;
	uint8_t			 key[ADDR_KEY_LEN];	/* family, prefix */
	uint32_t		 n;
};
RB_HEAD(addr_tree, addr_count);

struct out_chunk {
	TAILQ_ENTRY(out_chunk)	 entry;
	size_t			 len;
	size_t			 off;
	unsigned char		 data[];
};

struct conn {
	RB_ENTRY(conn)		 entry;
	TAILQ_ENTRY(conn)	 stall_entry;
	uint32_t		 id;
	int			 fd;
	enum conn_state		 state;
	SSL			*ssl;
	struct event		 ev;
	struct ev_timer		 timer;
	int			 want_read;	/* TLS needs input to go on */
	int			 want_write;	/* TLS needs to send to go on */
	int			 stalled;
	int			 peer_eof;	/* close_notify received */
	struct addr_count	*addr;		/* counted there, or NULL */
	uint64_t		 unacked;	/* sent to mcpd, not consumed */
	uint64_t		 written;	/* to the peer, not yet acked */
	TAILQ_HEAD(, out_chunk)	 out;
	size_t			 outlen;
	char			 remote[CONN_ADDR_MAX];
	char			 local[CONN_ADDR_MAX];
};

RB_HEAD(conn_tree, conn);

struct netd_listener {
	int			 fd;
	struct event		 ev;
	char			 addr[CONF_ADDRLEN];
};

struct netd {
	struct conf_snapshot	 conf;
	struct child_chan	 mcpd;
	struct child_chan	 resolver;
	SSL_CTX			*ctx;
	struct netd_listener	 listeners[CONF_MAXLISTEN];
	int			 nlisteners;
	int			 accept_paused;
	struct conn_tree	 conns;
	struct addr_tree	 addrs;
	TAILQ_HEAD(, conn)	 stalled;	/* in line to read */
	struct conn		*resuming;	/* its turn in the line */
	uint32_t		 nextid;
	struct netd_status	 stats;
};

extern struct netd		*netd;
extern const struct sandbox_policy netd_sandbox;
extern const struct sandbox_policy resolver_sandbox;

void	 netd_main(int, int) __attribute__((noreturn));
void	 netd_sandbox_enter(const struct sandbox_creds *);
int	 netd_dispatch_parent(struct imsg *);
void	 netd_dispatch_mcpd(int, short, void *);
void	 netd_dispatch_resolver(int, short, void *);

/* http.c */
void	 http_init(void);
void	 http_origins_begin(const void *, size_t);
int	 http_origin_add(const struct http_origin *, const void *, size_t);
void	 http_origins_end(void);
int	 http_session_add(const struct http_session *, const char *, size_t);
void	 http_session_end(const struct http_key *);
void	 http_request(const struct http_req *, const void *, size_t);
void	 http_cancel(const struct http_ref *);
void	 http_ack(const struct http_ack *);
void	 http_dns_answer(uint32_t, struct dns_answer *);

/* resolver.c: the resolver process, `mcpgated -P resolver` */
void	 resolver_main(int, int) __attribute__((noreturn));
int	 resolver_name_ok(const char *);
void	 resolver_lookup(const char *, struct dns_answer *);

/* conn.c */
SSL_CTX	*conn_tls_init(const char *, size_t, char *, size_t, const char *,
	    size_t);
void	 conn_accept(int, short, void *);
void	 conn_mcpd_data(uint32_t, const void *, size_t);
void	 conn_mcpd_ack(uint32_t, uint64_t);
void	 conn_mcpd_close(uint32_t);
void	 conn_resume_stalled(void);
struct conn *conn_find(uint32_t);

#endif
