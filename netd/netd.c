/*
 * netd: main, set-up and the dispatch of its two channels.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/tree.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "log.h"
#include "netd.h"

struct netd		*netd;
static struct netd	 netd_state;

static void
netd_reconf(const struct conf_snapshot *snap)
{
	netd->conf = *snap;
}

/* The parent's messages for netd alone; 1 when handled. */
int
netd_dispatch_parent(struct imsg *imsg)
{
	struct http_origin	 o;
	struct http_session	 hs;
	struct http_session_end	 he;
	const void		*data;
	size_t			 len;

	switch (imsg_get_type(imsg)) {
	case IMSG_STATUS_REQ:
		child_imsg_fixed("parent", imsg, NULL, 0);
		child_chan_send(&child_parent, IMSG_STATUS_NETD,
		    imsg_get_id(imsg), -1, &netd->stats, sizeof(netd->stats));
		return (1);
	case IMSG_HTTP_ORIGINS_BEGIN:
		imsg_get_buf(imsg, &data, &len);
		http_origins_begin(data, len);
		return (1);
	case IMSG_HTTP_ORIGIN:
		imsg_get_buf(imsg, &data, &len);
		if (len < sizeof(o))
			child_bad_imsg("parent", imsg);
		memcpy(&o, data, sizeof(o));
		if (http_origin_add(&o, (const char *)data + sizeof(o),
		    len - sizeof(o)) == -1)
			child_bad_imsg("parent", imsg);
		return (1);
	case IMSG_HTTP_ORIGINS_END:
		child_imsg_fixed("parent", imsg, NULL, 0);
		http_origins_end();
		return (1);
	case IMSG_HTTP_SESSION:
		imsg_get_buf(imsg, &data, &len);
		if (len < sizeof(hs))
			child_bad_imsg("parent", imsg);
		memcpy(&hs, data, sizeof(hs));
		if (http_session_add(&hs, (const char *)data + sizeof(hs),
		    len - sizeof(hs)) == -1)
			child_bad_imsg("parent", imsg);
		child_chan_send(&child_parent, IMSG_HTTP_SESSION_READY,
		    imsg_get_id(imsg), -1, &hs.key, sizeof(hs.key));
		/* The headers hold the session's JWT: no copy stays. */
		explicit_bzero((void *)data, len);
		explicit_bzero(&hs, sizeof(hs));
		return (1);
	case IMSG_HTTP_SESSION_END:
		child_imsg_fixed("parent", imsg, &he, sizeof(he));
		http_session_end(&he.key);
		return (1);
	default:
		return (0);
	}
}

/*
 * mcpd's messages: each payload's size is checked before its connection
 * is looked up, so that a wrong one is caught whether or not the
 * connection is still there.
 */
void
netd_dispatch_mcpd(int fd, short events, void *arg)
{
	struct imsg	 imsg;
	struct conn_ack	 ack;
	struct http_req	 req;
	struct http_ref	 ref;
	struct http_ack	 hack;
	const void	*data;
	size_t		 len;
	ssize_t		 n;

	(void)fd;
	(void)arg;
	if (child_chan_io(&netd->mcpd, events, "mcpd") == -1)
		return;
	for (;;) {
		if ((n = imsgbuf_get(&netd->mcpd.ibuf, &imsg)) == -1)
			fatal("bad message from mcpd");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_CONN_DATA:
			imsg_get_buf(&imsg, &data, &len);
			conn_mcpd_data(imsg_get_id(&imsg), data, len);
			break;
		case IMSG_CONN_ACK:
			child_imsg_fixed("mcpd", &imsg, &ack, sizeof(ack));
			conn_mcpd_ack(imsg_get_id(&imsg), ack.bytes);
			break;
		case IMSG_CONN_CLOSE:
			child_imsg_fixed("mcpd", &imsg, NULL, 0);
			conn_mcpd_close(imsg_get_id(&imsg));
			break;
		case IMSG_HTTP_REQ:
			imsg_get_buf(&imsg, &data, &len);
			if (len < sizeof(req))
				child_bad_imsg("mcpd", &imsg);
			memcpy(&req, data, sizeof(req));
			if (req.key.conn != imsg_get_id(&imsg))
				child_bad_imsg("mcpd", &imsg);
			http_request(&req, (const char *)data + sizeof(req),
			    len - sizeof(req));
			break;
		case IMSG_HTTP_CANCEL:
			child_imsg_fixed("mcpd", &imsg, &ref, sizeof(ref));
			http_cancel(&ref);
			break;
		case IMSG_HTTP_ACK:
			child_imsg_fixed("mcpd", &imsg, &hack, sizeof(hack));
			http_ack(&hack);
			break;
		default:
			child_bad_imsg("mcpd", &imsg);
		}
		imsg_free(&imsg);
	}
	if (!TAILQ_EMPTY(&netd->stalled))
		conn_resume_stalled();
	child_chan_events(&netd->mcpd);
}

/* The resolver's answers to the lookups of HTTP requests. */
void
netd_dispatch_resolver(int fd, short events, void *arg)
{
	struct imsg		 imsg;
	struct dns_answer	 ans;
	ssize_t			 n;

	(void)fd;
	(void)arg;
	if (child_chan_io(&netd->resolver, events, "resolver") == -1)
		return;
	for (;;) {
		if ((n = imsgbuf_get(&netd->resolver.ibuf, &imsg)) == -1)
			fatal("bad message from the resolver");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_DNS_ANSWER:
			child_imsg_fixed("resolver", &imsg, &ans, sizeof(ans));
			http_dns_answer(imsg_get_id(&imsg), &ans);
			break;
		default:
			child_bad_imsg("resolver", &imsg);
		}
		imsg_free(&imsg);
	}
	child_chan_events(&netd->resolver);
	child_chan_events(&netd->mcpd);
}

/*
 * Enough descriptors for max_connections, raised while still root; the
 * soft limit goes up to the hard one, so a reload that raises
 * max_connections finds the descriptors there.
 */
static void
netd_rlimit(void)
{
	struct rlimit	 rl;
	rlim_t		 want = netd->conf.max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_max < want) {
		rl.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 &&
		    getrlimit(RLIMIT_NOFILE, &rl) == 0)
			log_warnx("max_connections %llu is more than the "
			    "descriptor limit allows (%llu)",
			    (unsigned long long)netd->conf.max_connections,
			    (unsigned long long)rl.rlim_max);
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit");
}

static char *
netd_copy(struct imsg *imsg, size_t *lenp)
{
	const void	*data;
	char		*p;
	size_t		 len;

	imsg_get_buf(imsg, &data, &len);
	if (len == 0 || (p = malloc(len + 1)) == NULL)
		fatalx("bad %s from the parent", imsg_type_name(
		    imsg_get_type(imsg)));
	memcpy(p, data, len);
	p[len] = '\0';
	*lenp = len;
	return (p);
}

/* What only netd receives at set-up. */
static char	*tls_cert, *tls_key, *tls_ca;
static size_t	 tls_certlen, tls_keylen, tls_calen;

static void
netd_init(struct imsg *imsg)
{
	struct init_peer	 peer;
	struct init_listen	 il;
	struct netd_listener	*l;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_INIT_PEER:
		child_imsg_fixed("parent", imsg, &peer, sizeof(peer));
		if ((fd = imsg_get_fd(imsg)) == -1)
			child_bad_imsg("parent", imsg);
		if (peer.proc == PROC_MCPD && netd->mcpd.cb == NULL) {
			child_chan_init(&netd->mcpd, fd, 0, netd_dispatch_mcpd,
			    NULL);
			imsgbuf_set_maxqueue(&netd->mcpd.ibuf,
			    2 * NETD_MCPD_HIGHWATER);
		} else if (peer.proc == PROC_RESOLVER &&
		    netd->resolver.cb == NULL)
			child_chan_init(&netd->resolver, fd, 0,
			    netd_dispatch_resolver, NULL);
		else
			child_bad_imsg("parent", imsg);
		break;
	case IMSG_INIT_LISTEN:
		child_imsg_fixed("parent", imsg, &il, sizeof(il));
		if (netd->nlisteners == CONF_MAXLISTEN ||
		    (fd = imsg_get_fd(imsg)) == -1)
			child_bad_imsg("parent", imsg);
		l = &netd->listeners[netd->nlisteners++];
		l->fd = fd;
		il.addr[sizeof(il.addr) - 1] = '\0';
		strlcpy(l->addr, il.addr, sizeof(l->addr));
		break;
	case IMSG_INIT_TLS_CERT:
		if (tls_cert != NULL)
			child_bad_imsg("parent", imsg);
		tls_cert = netd_copy(imsg, &tls_certlen);
		break;
	case IMSG_INIT_TLS_KEY:
		if (tls_key != NULL)
			child_bad_imsg("parent", imsg);
		tls_key = netd_copy(imsg, &tls_keylen);
		break;
	case IMSG_INIT_CA_CERT:
		if (tls_ca != NULL)
			child_bad_imsg("parent", imsg);
		tls_ca = netd_copy(imsg, &tls_calen);
		break;
	default:
		child_bad_imsg("parent", imsg);
	}
}

/*
 * No file at all; TCP left to seccomp and to netd/http.c, which connects
 * only to the addresses of the apps' origins: the ports of HTTP apps
 * created at run time are not known now, when Landlock's rules are
 * made, and seccomp allows no bind nor listen.
 */
void
netd_sandbox_enter(const struct sandbox_creds *creds)
{
	sandbox_enter_rules(&netd_sandbox, creds, NULL, 0, NULL, 0,
	    SB_SCOPE_UNIX | SB_SCOPE_SIGNAL | SB_FS_ONLY);
}

static const struct child_ops netd_ops = {
	netd_init, netd_reconf, netd_dispatch_parent
};

void
netd_main(int foreground, int verbose)
{
	struct child_init	 ci;
	struct netd_listener	*l;
	unsigned char		 seed[16];
	int			 i;

	child_setup(PROC_NETD, foreground, verbose);
	netd = &netd_state;
	RB_INIT(&netd->conns);
	RB_INIT(&netd->addrs);
	TAILQ_INIT(&netd->stalled);
	netd->nextid = 1;

	child_receive_init(&ci, &netd_ops);
	netd->conf = ci.conf;
	if (netd->mcpd.cb == NULL || netd->resolver.cb == NULL ||
	    tls_cert == NULL || tls_key == NULL || tls_ca == NULL)
		fatalx("incomplete set-up from the parent");

	/* Whatever could touch a file happens now, before the sandbox. */
	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		fatalx("OpenSSL initialisation failed");
	if ((netd->ctx = conn_tls_init(tls_cert, tls_certlen, tls_key,
	    tls_keylen, tls_ca, tls_calen)) == NULL)
		fatalx("cannot set up TLS");
	freezero(tls_key, tls_keylen + 1);
	free(tls_cert);
	free(tls_ca);
	tls_key = tls_cert = tls_ca = NULL;
	if (RAND_bytes(seed, sizeof(seed)) != 1)
		fatalx("OpenSSL RNG failed");
	explicit_bzero(seed, sizeof(seed));
	netd_rlimit();
	if (ev_init() == -1)
		fatal("ev_init");
	http_init();

	netd_sandbox_enter(&ci.creds);

	for (i = 0; i < netd->nlisteners; i++) {
		l = &netd->listeners[i];
		ev_set(&l->ev, l->fd, conn_accept, l);
		if (ev_add(&l->ev, EV_READ) == -1)
			fatal("ev_add");
		log_debug("listening on %s", l->addr);
	}
	child_chan_init(&child_parent, PROC_PARENT_FD, 1,
	    child_dispatch_parent, (void *)&netd_ops);
	child_chan_events(&child_parent);
	child_chan_events(&netd->mcpd);
	child_chan_events(&netd->resolver);
	child_chan_send(&child_parent, IMSG_READY, 0, -1, NULL, 0);
	if (ev_dispatch() == -1)
		fatal("event loop");
	exit(0);
}
