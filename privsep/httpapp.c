/*
 * The parent's side of the HTTP and SSE apps.  netd alone reaches their
 * servers, and only those the parent names: with every identity
 * snapshot (start, reload, each change of users, roles or apps) netd
 * gets the table of the origins users may be offered, with the CA
 * certificates that verify each, read here since netd opens no file.
 * At a session's start the parent, which holds the signing key and the
 * users' traits, renders the app's header templates for the user (the
 * JWT of {{internal.jwt}} signed for this session alone) and gives them
 * to netd, under the session's key; once netd says it holds them, mcpd
 * learns that the server may be reached (so that no request of mcpd's
 * races the headers), never a header.  mcpd's stop of the session
 * makes netd forget (and zero) them.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "buf.h"
#include "headertpl.h"
#include "log.h"
#include "privsep.h"

/* What netd reads from the parent takes the largest origin. */
_Static_assert(HTTP_SYSCA_MAX + sizeof(struct http_origin) + 64 <
    IMSG_DEFAULT_MAXMSG && APP_CA_FILE_MAX + sizeof(struct http_origin) +
    64 < IMSG_DEFAULT_MAXMSG, "an origin fits in a message");

struct httpsess {
	TAILQ_ENTRY(httpsess)	 entry;
	uint32_t		 peer;		/* mcpd's connection */
	struct app_ref		 ref;
	char			 app[RES_NAMELEN];
	struct app_http		 ah;		/* for mcpd, once netd has
						   the headers */
	int			 ready;
};

static TAILQ_HEAD(, httpsess)	 httpsess_list =
    TAILQ_HEAD_INITIALIZER(httpsess_list);
static size_t			 httpsess_n;
static int			 httpapp_sysca_said;	/* missing, logged */

/* --- the origins ------------------------------------------------------ */

/* Whether a verifies its server with the system's CAs. */
static int
httpapp_needs_sysca(const struct app_res *a)
{
	return (a->transport != APP_STDIO && a->remote.tls &&
	    a->remote.ca_file == NULL && !a->remote.insecure);
}

/*
 * The apps users may be offered, as apps_snapshot_send() has them: the
 * configuration's, then the store's that none of the configuration
 * hides.  fn is called for each HTTP or SSE one.
 */
static void
httpapp_foreach(void (*fn)(const struct app_res *, void *), void *arg)
{
	struct resources	*l = &parent->store.res[RES_APP];
	size_t			 i;

	if (!parent->conf.app_enabled)
		return;
	for (i = 0; i < parent->conf.napps; i++)
		if (parent->conf.apps[i].transport != APP_STDIO)
			fn(&parent->conf.apps[i], arg);
	for (i = 0; i < l->n; i++)
		if (l->v[i].u.app.transport != APP_STDIO &&
		    app_config(&parent->conf, l->v[i].u.app.name) == NULL)
			fn(&l->v[i].u.app, arg);
}

static void
httpapp_count_sysca(const struct app_res *a, void *arg)
{
	int	*need = arg;

	if (httpapp_needs_sysca(a))
		*need = 1;
}

/* One origin: a whose CA file cannot be read is left out, and said so. */
static void
httpapp_origin_send(const struct app_res *a, void *arg)
{
	struct http_origin	 o;
	struct iovec		 iov[2];
	char			 err[PATH_MAX + 128], *pem = NULL;
	size_t			 pemlen = 0;
	int			*n = arg;

	if (a->remote.ca_file != NULL && (pem = app_ca_load(a->remote.ca_file,
	    "tls.ca_file", APP_CA_FILE_MAX, &pemlen, err,
	    sizeof(err))) == NULL) {
		log_warnx("app %s: %s%s; its sessions cannot reach the server",
		    a->name, err, errno == EACCES ? " (the daemon reads CA "
		    "files only in the directories it had them in at start: "
		    "restart it)" : "");
		return;
	}
	memset(&o, 0, sizeof(o));
	strlcpy(o.app, a->name, sizeof(o.app));
	strlcpy(o.host, a->remote.host, sizeof(o.host));
	o.port = a->remote.port;
	o.tls = a->remote.tls ? 1 : 0;
	o.insecure = a->remote.insecure ? 1 : 0;
	o.timeout = a->remote.timeout > 0 ? a->remote.timeout :
	    APP_TIMEOUT_DEF;
	iov[0].iov_base = &o;
	iov[0].iov_len = sizeof(o);
	iov[1].iov_base = pem;
	iov[1].iov_len = pemlen;
	parent_sendv(PROC_NETD, IMSG_HTTP_ORIGIN, 0, iov, pemlen > 0 ? 2 : 1);
	free(pem);
	(*n)++;
	log_debug("app %s: origin %s://%s:%u for netd%s", a->name,
	    o.tls ? "https" : "http", o.host, o.port, a->remote.ca_file !=
	    NULL ? ", its own CA" : "");
}

/*
 * netd's table of origins, whole: the system's CA bundle first when an
 * app needs it, then each HTTP or SSE app users may be offered.  netd
 * takes it once it serves (its set-up takes nothing of the kind), and
 * again after each change.
 */
void
httpapp_origins_push(void)
{
	char	 err[PATH_MAX + 128], *sysca = NULL;
	size_t	 syscalen = 0;
	int	 need = 0, n = 0;

	if (!parent->children[PROC_NETD].ready || parent->stopping)
		return;
	httpapp_foreach(httpapp_count_sysca, &need);
	if (need) {
		sysca = app_ca_load(HTTP_SYSTEM_CA, "the system's CA bundle",
		    HTTP_SYSCA_MAX, &syscalen, err, sizeof(err));
		if (sysca == NULL && !httpapp_sysca_said)
			log_warnx("%s: HTTPS servers verified with the "
			    "system's CAs cannot be reached", err);
		httpapp_sysca_said = sysca == NULL;
	}
	parent_send(PROC_NETD, IMSG_HTTP_ORIGINS_BEGIN, 0, -1, sysca,
	    syscalen);
	free(sysca);
	httpapp_foreach(httpapp_origin_send, &n);
	parent_send(PROC_NETD, IMSG_HTTP_ORIGINS_END, 0, -1, NULL, 0);
	log_debug("netd's table of HTTP origins: %d", n);
}

/* --- sessions --------------------------------------------------------- */

static struct httpsess *
httpsess_find(uint32_t peer, const struct app_ref *ref)
{
	struct httpsess	*h;

	TAILQ_FOREACH(h, &httpsess_list, entry)
		if (h->peer == peer && h->ref.serial == ref->serial &&
		    strcmp(h->ref.session, ref->session) == 0)
			return (h);
	return (NULL);
}

static void
httpapp_failed(uint32_t peer, const struct app_start *as, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* The session cannot start: mcpd is told why, and the log. */
static void
httpapp_failed(uint32_t peer, const struct app_start *as, const char *fmt,
    ...)
{
	struct app_failed	 f;
	va_list			 ap;

	memset(&f, 0, sizeof(f));
	f.ref = as->ref;
	va_start(ap, fmt);
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	va_end(ap);
	log_warnx("session %s of %s: %s", as->ref.session, as->user,
	    f.message);
	parent_send(PROC_MCPD, IMSG_APP_FAILED, peer, -1, &f, sizeof(f));
}

/* {{external.TRAIT}}: how many values user arg has, the first in *value. */
static size_t
httpapp_trait(void *arg, const char *name, const char **value)
{
	const struct user	*u = arg;
	size_t			 i;

	for (i = 0; i < u->ntraits; i++) {
		if (strcmp(u->traits[i].key, name) != 0)
			continue;
		if (u->traits[i].values.n > 0)
			*value = u->traits[i].values.v[0];
		return (u->traits[i].values.n);
	}
	return (0);
}

/*
 * Whether a template of a holds {{internal.jwt}}: a token is signed only
 * for a session that sends one.  A literal that merely reads so makes a
 * token that goes nowhere, never the reverse.
 */
static int
httpapp_uses_jwt(const struct app_res *a)
{
	size_t	 i;

	for (i = 0; i < a->remote.headers.n; i++)
		if (strstr(a->remote.headers.v[i], "internal.jwt") != NULL)
			return (1);
	return (0);
}

/*
 * A session of HTTP or SSE app a for the user mcpd verified: its
 * headers rendered and given to netd; httpapp_ready() tells mcpd how the
 * server is reached.  Anything wrong is IMSG_APP_FAILED with why.
 */
void
httpapp_start(uint32_t peer, const struct app_start *as,
    const struct app_res *a)
{
	struct resource		*r;
	struct user		*u;
	struct header_vars	 v;
	struct http_session	 hs;
	struct httpsess		*h;
	struct iovec		 iov[2];
	struct buf		 hdrs;
	json_t			*claims;
	unsigned char		 rnd[16];
	char			 jti[sizeof(rnd) * 2 + 1], err[256];
	char			*tok = NULL;
	int64_t			 now, exp;
	size_t			 i, cap;

	if (httpsess_find(peer, &as->ref) != NULL) {
		httpapp_failed(peer, as, "app %s: session %s has its "
		    "server already", a->name, as->ref.session);
		return;
	}
	if (httpsess_n >= parent->conf.max_connections) {
		log_warnx("app %s session %s: refused, %zu HTTP sessions "
		    "(limits.max_connections)", a->name, as->ref.session,
		    httpsess_n);
		httpapp_failed(peer, as, "the gateway serves too many "
		    "sessions; try again later");
		return;
	}
	if ((r = store_find(&parent->store, RES_USER, as->user)) == NULL) {
		httpapp_failed(peer, as, "app %s: user %s is not known "
		    "to the gateway", a->name, as->user);
		return;
	}
	u = &r->u.user;
	if (u->locked) {
		httpapp_failed(peer, as, "app %s: user %s is locked",
		    a->name, as->user);
		return;
	}
	if (a->remote.path == NULL || strlen(a->remote.path) >=
	    sizeof(h->ah.path)) {
		httpapp_failed(peer, as, "app %s: its path is longer "
		    "than %zu bytes", a->name, sizeof(h->ah.path) - 1);
		return;
	}

	/* The token's end bounds the headers' even without a token. */
	now = time(NULL);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
	if ((claims = jwt_claims(parent->conf.name, u, a, now, as->not_after,
	    (int64_t)(parent->conf.cert_ttl / 1000), jti, &exp, err,
	    sizeof(err))) == NULL) {
		httpapp_failed(peer, as, "app %s: %s", a->name, err);
		return;
	}
	if (httpapp_uses_jwt(a) && (tok = jwt_sign(&parent->jwt,
	    claims)) == NULL) {
		json_decref(claims);
		httpapp_failed(peer, as, "app %s: the gateway cannot "
		    "sign the session's token", a->name);
		return;
	}
	json_decref(claims);

	/*
	 * Room for every line the bound lets through and one more, taken
	 * at once: a buffer that grew would leave copies of the token in
	 * the memory it freed.
	 */
	cap = HTTP_HEADERS_MAX + HEADER_LINE_MAX + 3;
	buf_init(&hdrs, 0);
	if ((hdrs.data = calloc(1, cap)) == NULL)
		fatal("%s", __func__);
	hdrs.cap = cap;
	memset(&v, 0, sizeof(v));
	v.user = u->name;
	v.jwt = tok;
	v.session = as->ref.session;
	v.trait = httpapp_trait;
	v.arg = u;
	for (i = 0; i < a->remote.headers.n; i++) {
		if (header_render(a->remote.headers.v[i], &v, &hdrs, err,
		    sizeof(err)) == -1)
			goto fail;
		if (buf_add(&hdrs, "\r\n", 2) == -1 ||
		    hdrs.len > HTTP_HEADERS_MAX) {
			snprintf(err, sizeof(err), "its headers would be "
			    "longer than %d bytes together", HTTP_HEADERS_MAX);
			goto fail;
		}
	}

	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal("%s", __func__);
	h->peer = peer;
	h->ref = as->ref;
	strlcpy(h->app, a->name, sizeof(h->app));
	h->ah.ref = as->ref;
	h->ah.transport = a->transport == APP_SSE ? HTTP_SSE :
	    HTTP_STREAMABLE;
	h->ah.timeout = a->remote.timeout > 0 ? a->remote.timeout :
	    APP_TIMEOUT_DEF;
	strlcpy(h->ah.path, a->remote.path, sizeof(h->ah.path));
	TAILQ_INSERT_TAIL(&httpsess_list, h, entry);
	httpsess_n++;

	memset(&hs, 0, sizeof(hs));
	hs.key.conn = peer;
	hs.key.ref = as->ref;
	strlcpy(hs.app, a->name, sizeof(hs.app));
	hs.not_after = exp;
	iov[0].iov_base = &hs;
	iov[0].iov_len = sizeof(hs);
	iov[1].iov_base = hdrs.data;
	iov[1].iov_len = hdrs.len;
	parent_sendv(PROC_NETD, IMSG_HTTP_SESSION, peer, iov,
	    hdrs.len > 0 ? 2 : 1);

	if (tok != NULL)
		log_info("app %s session %s of %s: HTTP headers sent (%zu), "
		    "jwt jti=%s", a->name, as->ref.session, u->name,
		    a->remote.headers.n, jti);
	else
		log_info("app %s session %s of %s: HTTP headers sent (%zu), "
		    "no jwt", a->name, as->ref.session, u->name,
		    a->remote.headers.n);
	freezero(hdrs.data, hdrs.cap);
	if (tok != NULL)
		freezero(tok, strlen(tok));
	return;

 fail:
	freezero(hdrs.data, hdrs.cap);
	if (tok != NULL)
		freezero(tok, strlen(tok));
	httpapp_failed(peer, as, "app %s: %s", a->name, err);
}

/*
 * netd holds the headers of session key (its peerid peer): mcpd may
 * reach the server.  A session that mcpd ended meanwhile is gone from
 * the table, and nothing is sent; -1 for what no honest netd says (a
 * key of another connection, the same session twice).
 */
int
httpapp_ready(uint32_t peer, const struct http_key *key)
{
	struct httpsess	*h;

	if (key->conn != peer)
		return (-1);
	if ((h = httpsess_find(peer, &key->ref)) == NULL)
		return (0);
	if (h->ready)
		return (-1);
	h->ready = 1;
	parent_send(PROC_MCPD, IMSG_APP_HTTP, peer, -1, &h->ah,
	    sizeof(h->ah));
	return (0);
}

/*
 * mcpd ended session ref of connection peer: when it is an HTTP one,
 * netd forgets its headers and 1 is returned.  mcpd waits for no
 * IMSG_APP_EXITED of an HTTP session.
 */
int
httpapp_stop(uint32_t peer, const struct app_ref *ref)
{
	struct http_session_end	 he;
	struct httpsess		*h;

	if ((h = httpsess_find(peer, ref)) == NULL)
		return (0);
	memset(&he, 0, sizeof(he));
	he.key.conn = peer;
	he.key.ref = h->ref;
	parent_send(PROC_NETD, IMSG_HTTP_SESSION_END, peer, -1, &he,
	    sizeof(he));
	log_debug("app %s session %s: ended", h->app, h->ref.session);
	TAILQ_REMOVE(&httpsess_list, h, entry);
	httpsess_n--;
	free(h);
	return (1);
}

size_t
httpapp_sessions(void)
{
	return (httpsess_n);
}
