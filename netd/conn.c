/*
 * netd's connections: accept, the TLS 1.3 handshake under a deadline, and
 * a byte relay to and from mcpd with flow control in both directions.
 * netd reads at most CONN_WINDOW bytes ahead of what mcpd has consumed,
 * and mcpd never has more than CONN_WINDOW bytes waiting here to be
 * written, so a slow peer on either side stops the other, not memory.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "compat.h"
#include "log.h"
#include "netd.h"

#define ACCEPTS_PER_EVENT	64
#define ACCEPT_PAUSE_MS		1000

static const unsigned char alpn_wire[] = WIRE_ALPN_PROTOS;

static void	 conn_io(int, short, void *);
static void	 conn_free(struct conn *, int);
static int	 conn_read(struct conn *);
static int	 conn_write(struct conn *);
static void	 conn_events(struct conn *);

static int
conn_cmp(struct conn *a, struct conn *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

RB_GENERATE_STATIC(conn_tree, conn, entry, conn_cmp)

static int
addr_cmp(struct addr_count *a, struct addr_count *b)
{
	return (memcmp(a->key, b->key, sizeof(a->key)));
}

RB_GENERATE_STATIC(addr_tree, addr_count, entry, addr_cmp)

static struct ev_timer	 accept_timer;

/*
 * What connections are counted by: the address of an IPv4 peer (also
 * when it comes as ::ffff:a.b.c.d), the /64 of an IPv6 one.
 */
static void
addr_key(const struct sockaddr_storage *ss, uint8_t key[ADDR_KEY_LEN])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(key, 0, ADDR_KEY_LEN);
	if (ss->ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)ss;
		key[0] = 4;
		memcpy(key + 1, &sin->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, &sin6->sin6_addr, 8);
		}
	}
}

/*
 * Count one more connection from that address; NULL when it already has
 * max_connections_per_address that have not shown a certificate (or
 * when there is no memory to count it).
 */
static struct addr_count *
addr_take(const struct sockaddr_storage *ss)
{
	struct addr_count	 k, *a;

	addr_key(ss, k.key);
	if ((a = RB_FIND(addr_tree, &netd->addrs, &k)) == NULL) {
		if ((a = calloc(1, sizeof(*a))) == NULL)
			return (NULL);
		memcpy(a->key, k.key, sizeof(a->key));
		RB_INSERT(addr_tree, &netd->addrs, a);
	}
	if (a->n >= netd->conf.max_connections_per_address)
		return (NULL);
	a->n++;
	return (a);
}

/* The connection showed a certificate, or is gone: count it no more. */
static void
addr_release(struct conn *c)
{
	struct addr_count	*a = c->addr;

	if (a == NULL)
		return;
	c->addr = NULL;
	if (--a->n == 0) {
		RB_REMOVE(addr_tree, &netd->addrs, a);
		free(a);
	}
}

static void
tls_error(const char *what, const char *who)
{
	unsigned long	 e;
	char		 buf[256];

	if ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_debug("%s: %s: %s", who, what, buf);
	} else
		log_debug("%s: %s", who, what);
	ERR_clear_error();
}

/* Only mcpgate/1 is spoken; any other protocol list is a fatal alert. */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char	*sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, alpn_wire,
	    sizeof(alpn_wire) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_ALERT_FATAL);
	*out = sel;
	return (SSL_TLSEXT_ERR_OK);
}

/* A client that offers no ALPN at all is refused as early. */
static int
client_hello(SSL *ssl, int *alert, void *arg)
{
	const unsigned char	*ext;
	size_t			 len;

	(void)arg;
	if (SSL_client_hello_get0_ext(ssl,
	    TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
	    &len) != 1) {
		*alert = SSL_AD_NO_APPLICATION_PROTOCOL;
		return (SSL_CLIENT_HELLO_ERROR);
	}
	return (SSL_CLIENT_HELLO_SUCCESS);
}

/*
 * The TLS context, from PEM handed over by the parent: TLS 1.3 only, no
 * session tickets or cache, client certificates optional but verified
 * against the gateway CA when sent.  The key buffer is zeroed here.
 */
SSL_CTX *
conn_tls_init(const char *cert, size_t certlen, char *key, size_t keylen,
    const char *ca, size_t calen)
{
	SSL_CTX			*ctx;
	BIO			*bio;
	X509			*x = NULL, *cax = NULL;
	EVP_PKEY		*pkey = NULL;
	STACK_OF(X509_NAME)	*names;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);

	if ((bio = BIO_new_mem_buf(cert, (int)certlen)) == NULL)
		goto fail;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if ((bio = BIO_new_mem_buf(key, (int)keylen)) == NULL)
		goto fail;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	explicit_bzero(key, keylen);
	if ((bio = BIO_new_mem_buf(ca, (int)calen)) == NULL)
		goto fail;
	cax = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL || pkey == NULL || cax == NULL)
		goto fail;
	if (SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	/* A CA in a store, not a directory read lazily mid-handshake. */
	if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cax) != 1)
		goto fail;
	if ((names = sk_X509_NAME_new_null()) == NULL ||
	    sk_X509_NAME_push(names,
	    X509_NAME_dup(X509_get_subject_name(cax))) <= 0)
		goto fail;
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 2);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	SSL_CTX_set_client_hello_cb(ctx, client_hello, NULL);
	X509_free(x);
	X509_free(cax);
	EVP_PKEY_free(pkey);
	return (ctx);
 fail:
	tls_error("TLS set-up failed", "netd");
	X509_free(x);
	X509_free(cax);
	EVP_PKEY_free(pkey);
	SSL_CTX_free(ctx);
	return (NULL);
}

struct conn *
conn_find(uint32_t id)
{
	struct conn	 key;

	key.id = id;
	return (RB_FIND(conn_tree, &netd->conns, &key));
}

static void
accept_resume(void *arg)
{
	int	 i;

	(void)arg;
	netd->accept_paused = 0;
	for (i = 0; i < netd->nlisteners; i++)
		if (ev_add(&netd->listeners[i].ev, EV_READ) == -1)
			fatal("ev_add");
}

/* Out of descriptors: stop accepting for a moment instead of spinning. */
static void
accept_pause(void)
{
	int	 i;

	if (netd->accept_paused)
		return;
	netd->accept_paused = 1;
	for (i = 0; i < netd->nlisteners; i++)
		ev_del(&netd->listeners[i].ev);
	ev_timer_set(&accept_timer, accept_resume, NULL);
	ev_timer_add(&accept_timer, ACCEPT_PAUSE_MS);
}

static void
handshake_timeout(void *arg)
{
	struct conn	*c = arg;

	log_debug("%s: TLS handshake timed out", c->remote);
	netd->stats.tls_failed++;
	netd->stats.handshake_timeouts++;
	conn_free(c, 0);
}

/*
 * mcpd ended the connection but the client does not read what is left:
 * it goes after handshake_timeout, with what it did not read.
 */
static void
close_timeout(void *arg)
{
	struct conn	*c = arg;

	log_debug("%s: connection %u: %zu bytes not read by the client, "
	    "closing", c->remote, c->id, c->outlen);
	netd->stats.close_timeouts++;
	conn_free(c, 0);
}

static void
addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char	 host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		strlcpy(buf, "unknown", size);
		return;
	}
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, serv);
}

static void
conn_new(int fd, const struct sockaddr_storage *ss, socklen_t sslen,
    struct addr_count *addr)
{
	struct sockaddr_storage	 local;
	socklen_t		 llen = sizeof(local);
	struct conn		*c;
	int			 on = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		close(fd);
		c = NULL;
		goto fail;
	}
	c->addr = addr;
	do {
		c->id = netd->nextid++;
	} while (c->id == 0 || conn_find(c->id) != NULL);
	c->fd = fd;
	c->state = CONN_HANDSHAKE;
	TAILQ_INIT(&c->out);
	addr_text((const struct sockaddr *)ss, sslen, c->remote,
	    sizeof(c->remote));
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
		addr_text((struct sockaddr *)&local, llen, c->local,
		    sizeof(c->local));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	/*
	 * Lines of a conversation: an answer goes at once, not after the
	 * client acknowledges the handshake (Nagle and delayed ACKs).
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if ((c->ssl = SSL_new(netd->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, fd) != 1) {
		tls_error("SSL_new", c->remote);
		SSL_free(c->ssl);
		close(fd);
		goto fail;
	}
	RB_INSERT(conn_tree, &netd->conns, c);
	netd->stats.conns++;
	netd->stats.handshaking++;
	netd->stats.accepted++;
	ev_set(&c->ev, fd, conn_io, c);
	ev_timer_set(&c->timer, handshake_timeout, c);
	ev_timer_add(&c->timer, netd->conf.handshake_timeout);
	log_debug("%s: connection %u accepted", c->remote, c->id);
	conn_io(fd, EV_READ, c);
	return;
 fail:
	if (c != NULL)
		addr_release(c);
	else if (addr != NULL && --addr->n == 0) {
		RB_REMOVE(addr_tree, &netd->addrs, addr);
		free(addr);
	}
	free(c);
}

void
conn_accept(int fd, short events, void *arg)
{
	struct sockaddr_storage	 ss;
	struct addr_count	*addr;
	socklen_t		 sslen;
	int			 i, s;
	static uint64_t		 last_refusal_log, last_address_log;

	(void)events;
	(void)arg;
	for (i = 0; i < ACCEPTS_PER_EVENT; i++) {
		sslen = sizeof(ss);
		s = accept4(fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("accept: pausing for a second");
				accept_pause();
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (netd->stats.conns >= netd->conf.max_connections) {
			netd->stats.refused++;
			if (ev_now_ms() - last_refusal_log >= 10000) {
				log_warnx("max_connections (%llu) reached: "
				    "refusing connections",
				    (unsigned long long)
				    netd->conf.max_connections);
				last_refusal_log = ev_now_ms();
			}
			close(s);
			continue;
		}
		/*
		 * One address cannot hold the gateway by opening connections
		 * it never completes: past its share, it is refused at once.
		 */
		if ((addr = addr_take(&ss)) == NULL) {
			netd->stats.refused_address++;
			if (ev_now_ms() - last_address_log >= 10000) {
				char	 who[CONN_ADDR_MAX];

				addr_text((struct sockaddr *)&ss, sslen, who,
				    sizeof(who));
				log_warnx("%s: max_connections_per_address "
				    "(%llu) reached: refusing its connections",
				    who, (unsigned long long)
				    netd->conf.max_connections_per_address);
				last_address_log = ev_now_ms();
			}
			close(s);
			continue;
		}
		conn_new(s, &ss, sslen, addr);
	}
}

/* The verified client certificate, for mcpd to judge. */
static void
conn_identity(struct conn *c, struct conn_open *co)
{
	X509			*x;
	X509_NAME		*name;
	X509_NAME_ENTRY		*ne;
	const ASN1_STRING	*cn;
	const ASN1_INTEGER	*serial;
	BIGNUM			*bn;
	char			*hex;
	struct tm		 tm;
	int			 idx;

	if ((x = SSL_get0_peer_certificate(c->ssl)) == NULL ||
	    SSL_get_verify_result(c->ssl) != X509_V_OK)
		return;
	name = X509_get_subject_name(x);
	if ((idx = X509_NAME_get_index_by_NID(name, NID_commonName,
	    -1)) < 0 || (ne = X509_NAME_get_entry(name, idx)) == NULL ||
	    (cn = X509_NAME_ENTRY_get_data(ne)) == NULL ||
	    ASN1_STRING_length(cn) <= 0 ||
	    ASN1_STRING_length(cn) >= CONN_CN_MAX ||
	    memchr(ASN1_STRING_get0_data(cn), '\0',
	    (size_t)ASN1_STRING_length(cn)) != NULL)
		return;
	memcpy(co->cert_cn, ASN1_STRING_get0_data(cn),
	    (size_t)ASN1_STRING_length(cn));
	co->cert_cn[ASN1_STRING_length(cn)] = '\0';
	serial = X509_get0_serialNumber(x);
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) != NULL) {
		if ((hex = BN_bn2hex(bn)) != NULL) {
			strlcpy(co->cert_serial, hex, sizeof(co->cert_serial));
			OPENSSL_free(hex);
		}
		BN_free(bn);
	}
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1)
		co->cert_not_before = timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		co->cert_not_after = timegm(&tm);
	co->has_cert = 1;
}

static void
conn_established(struct conn *c)
{
	struct conn_open	 co;
	const unsigned char	*alpn;
	unsigned int		 alpnlen;

	SSL_get0_alpn_selected(c->ssl, &alpn, &alpnlen);
	if (alpnlen != sizeof(alpn_wire) - 2 ||
	    memcmp(alpn, WIRE_ALPN, alpnlen) != 0) {
		log_debug("%s: no ALPN %s", c->remote, WIRE_ALPN);
		netd->stats.tls_failed++;
		conn_free(c, 0);
		return;
	}
	ev_timer_del(&c->timer);
	netd->stats.handshaking--;
	c->state = CONN_OPEN;
	memset(&co, 0, sizeof(co));
	strlcpy(co.remote, c->remote, sizeof(co.remote));
	strlcpy(co.local, c->local, sizeof(co.local));
	conn_identity(c, &co);
	/* A verified certificate: mcpd limits its user's sessions. */
	if (co.has_cert)
		addr_release(c);
	log_debug("%s: connection %u: TLS established%s%s", c->remote, c->id,
	    co.has_cert ? ", certificate of " : "", co.cert_cn);
	child_chan_send(&netd->mcpd, IMSG_CONN_OPEN, c->id, -1, &co,
	    sizeof(co));
}

static int
conn_handshake(struct conn *c)
{
	int	 r;

	c->want_read = c->want_write = 0;
	if ((r = SSL_accept(c->ssl)) == 1) {
		conn_established(c);
		return (c->state == CONN_OPEN ? 0 : -1);
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->want_read = 1;
		return (0);
	case SSL_ERROR_WANT_WRITE:
		c->want_write = 1;
		return (0);
	default:
		tls_error("TLS handshake failed", c->remote);
		netd->stats.tls_failed++;
		conn_free(c, 0);
		return (-1);
	}
}

static void
conn_stall(struct conn *c)
{
	/* Not read while in line: its turn reads. */
	c->want_read = 0;
	if (c->stalled)
		return;
	c->stalled = 1;
	TAILQ_INSERT_TAIL(&netd->stalled, c, stall_entry);
}

/*
 * Read from the peer while the window and mcpd's queue allow, and at most
 * NETD_READS_PER_TURN records a turn of the loop, so that a connection
 * with much to send takes its turn with the others.  Reading never stops
 * with decrypted bytes held inside OpenSSL, which no descriptor event
 * would announce; a window that reopens or a stall that ends calls here
 * directly.
 */
static int
conn_read(struct conn *c)
{
	unsigned char	 buf[NETD_READ_CHUNK];
	size_t		 want;
	int		 r, turns = 0;

	for (;;) {
		if (c->state != CONN_OPEN || c->peer_eof ||
		    c->unacked >= CONN_WINDOW)
			return (0);
		if (turns++ >= NETD_READS_PER_TURN &&
		    !SSL_has_pending(c->ssl))
			return (0);	/* the socket's readiness brings us back */
		/*
		 * Over the high-water mark everyone waits in line, and while
		 * anyone waits, newcomers join the line rather than overtake
		 * it: a connection with little to say is not starved by
		 * those with much.
		 */
		if (imsgbuf_queuebytes(&netd->mcpd.ibuf) >
		    NETD_MCPD_HIGHWATER || (!TAILQ_EMPTY(&netd->stalled) &&
		    c != netd->resuming)) {
			conn_stall(c);
			return (0);
		}
		want = CONN_WINDOW - c->unacked;
		if (want > sizeof(buf))
			want = sizeof(buf);
		c->want_read = 0;
		if ((r = SSL_read(c->ssl, buf, (int)want)) > 0) {
			child_chan_send(&netd->mcpd, IMSG_CONN_DATA, c->id, -1,
			    buf, (size_t)r);
			c->unacked += (uint64_t)r;
			netd->stats.bytes_in += (uint64_t)r;
			continue;
		}
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			c->want_read = 1;
			return (0);
		case SSL_ERROR_WANT_WRITE:
			c->want_write = 1;
			return (0);
		case SSL_ERROR_ZERO_RETURN:
			/*
			 * TLS 1.3 closes one direction at a time: the
			 * client has said all it will, but may still read.
			 */
			log_debug("%s: connection %u: the client closed its "
			    "side", c->remote, c->id);
			c->peer_eof = 1;
			child_chan_send(&netd->mcpd, IMSG_CONN_EOF, c->id, -1,
			    NULL, 0);
			return (0);
		default:
			tls_error("read", c->remote);
			conn_free(c, 1);
			return (-1);
		}
	}
}

/* Write what mcpd sent, acknowledging it as it leaves. */
static int
conn_write(struct conn *c)
{
	struct out_chunk	*ch;
	struct conn_ack		 ack;
	int			 r;

	while ((ch = TAILQ_FIRST(&c->out)) != NULL) {
		c->want_write = 0;
		r = SSL_write(c->ssl, ch->data + ch->off,
		    (int)(ch->len - ch->off));
		if (r > 0) {
			ch->off += (size_t)r;
			c->outlen -= (size_t)r;
			c->written += (uint64_t)r;
			netd->stats.bytes_out += (uint64_t)r;
			if (ch->off == ch->len) {
				TAILQ_REMOVE(&c->out, ch, entry);
				free(ch);
			}
			continue;
		}
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
			c->want_write = 1;
			break;
		case SSL_ERROR_WANT_READ:
			c->want_read = 1;
			break;
		default:
			tls_error("write", c->remote);
			conn_free(c, 1);
			return (-1);
		}
		break;
	}
	/*
	 * Acknowledge in quarters of the window, not every write: mcpd then
	 * wakes only when its window needs room, not once per answer.
	 */
	if (c->written >= CONN_WINDOW / 4 && c->state == CONN_OPEN) {
		ack.bytes = c->written;
		c->written = 0;
		child_chan_send(&netd->mcpd, IMSG_CONN_ACK, c->id, -1, &ack,
		    sizeof(ack));
	}
	if (c->outlen == 0 && c->state == CONN_CLOSING) {
		SSL_shutdown(c->ssl);
		conn_free(c, 0);
		return (-1);
	}
	return (0);
}

static void
conn_events(struct conn *c)
{
	short	 events = 0;

	if (c->want_read || (c->state == CONN_OPEN && !c->peer_eof &&
	    c->unacked < CONN_WINDOW && !c->stalled))
		events |= EV_READ;
	if (c->want_write || c->outlen > 0)
		events |= EV_WRITE;
	if (c->state == CONN_HANDSHAKE && events == 0)
		events = EV_READ;
	if (ev_add(&c->ev, events) == -1) {
		log_warn("%s: ev_add", c->remote);
		conn_free(c, 1);
	}
}

static void
conn_io(int fd, short events, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)events;
	if (c->state == CONN_HANDSHAKE) {
		if (conn_handshake(c) == -1)
			return;
		if (c->state == CONN_HANDSHAKE) {
			conn_events(c);
			return;
		}
	}
	if (conn_write(c) == -1)
		return;
	if (conn_read(c) == -1)
		return;
	conn_events(c);
}

static void
conn_free(struct conn *c, int notify)
{
	struct out_chunk	*ch;

	if (notify && c->state == CONN_OPEN)
		child_chan_send(&netd->mcpd, IMSG_CONN_CLOSE, c->id, -1,
		    NULL, 0);
	if (c->state == CONN_HANDSHAKE)
		netd->stats.handshaking--;
	if (c->stalled)
		TAILQ_REMOVE(&netd->stalled, c, stall_entry);
	addr_release(c);
	ev_del(&c->ev);
	ev_timer_del(&c->timer);
	SSL_free(c->ssl);
	close(c->fd);
	while ((ch = TAILQ_FIRST(&c->out)) != NULL) {
		TAILQ_REMOVE(&c->out, ch, entry);
		free(ch);
	}
	RB_REMOVE(conn_tree, &netd->conns, c);
	netd->stats.conns--;
	free(c);
}

/* mcpd's queue drained: let stalled connections read again. */
void
conn_resume_stalled(void)
{
	struct conn	*c;

	while (imsgbuf_queuebytes(&netd->mcpd.ibuf) < NETD_MCPD_LOWWATER &&
	    (c = TAILQ_FIRST(&netd->stalled)) != NULL) {
		TAILQ_REMOVE(&netd->stalled, c, stall_entry);
		c->stalled = 0;
		netd->resuming = c;
		if (conn_read(c) == 0)
			conn_events(c);
		netd->resuming = NULL;
	}
}

/*
 * Connection messages from mcpd, their sizes checked by the dispatcher.
 * Unknown ids are connections that closed while the message was on its
 * way.  Breaking the flow control is not a race but a misbehaving mcpd:
 * fail closed.
 */
static struct conn *
conn_of_mcpd(uint32_t id)
{
	struct conn	*c;

	if ((c = conn_find(id)) == NULL || c->state == CONN_HANDSHAKE)
		return (NULL);
	return (c);
}

/* Bytes for the client. */
void
conn_mcpd_data(uint32_t id, const void *data, size_t len)
{
	struct out_chunk	*ch;
	struct conn		*c;

	if ((c = conn_of_mcpd(id)) == NULL || c->state != CONN_OPEN ||
	    len == 0)
		return;
	if (c->outlen + len > CONN_WINDOW)
		fatalx("mcpd overran the window of connection %u", id);
	if ((ch = malloc(sizeof(*ch) + len)) == NULL) {
		log_warn("%s: connection %u", c->remote, c->id);
		conn_free(c, 1);
		return;
	}
	ch->len = len;
	ch->off = 0;
	memcpy(ch->data, data, len);
	TAILQ_INSERT_TAIL(&c->out, ch, entry);
	c->outlen += len;
	if (conn_write(c) == -1)
		return;
	conn_events(c);
}

/* mcpd consumed bytes: read the client again within the window. */
void
conn_mcpd_ack(uint32_t id, uint64_t bytes)
{
	struct conn	*c;

	if ((c = conn_of_mcpd(id)) == NULL)
		return;
	if (bytes > c->unacked)
		fatalx("mcpd acknowledged more than it was sent");
	c->unacked -= bytes;
	if (conn_read(c) == -1)
		return;
	conn_events(c);
}

/* Close once the output is written, or when the client stops reading. */
void
conn_mcpd_close(uint32_t id)
{
	struct conn	*c;

	if ((c = conn_of_mcpd(id)) == NULL)
		return;
	c->state = CONN_CLOSING;
	ev_timer_del(&c->timer);
	ev_timer_set(&c->timer, close_timeout, c);
	ev_timer_add(&c->timer, netd->conf.handshake_timeout);
	if (conn_write(c) == -1)
		return;
	conn_events(c);
}
