/*
 * Talking to the gateway: TCP with a deadline, TLS 1.3 with ALPN
 * mcpgate/1, the server checked against the pinned CA and the name dialed
 * (or, on first contact, against the CA it names), a connection with the
 * profile's certificate, one JSON line each way, and what to tell the
 * user when the gateway refuses.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "client.h"

#define GW_MAXLINE	(1024 * 1024)

/* "host", "host:port", "[v6]" or "[v6]:port"; the port defaults to 3080. */
int
gw_parse_addr(const char *s, struct gw_addr *a)
{
	const char	*p, *end;
	size_t		 n;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return (-1);
		n = (size_t)(end - s - 1);
		p = end[1] == ':' ? end + 2 : end[1] == '\0' ? NULL : "";
	} else {
		end = strrchr(s, ':');
		if (end != NULL && strchr(s, ':') != end)
			return (-1);	/* a bare IPv6 address needs [] */
		n = end != NULL ? (size_t)(end - s) : strlen(s);
		p = end != NULL ? end + 1 : NULL;
	}
	if (n == 0 || n >= sizeof(a->host))
		return (-1);
	memcpy(a->host, s[0] == '[' ? s + 1 : s, n);
	a->host[n] = '\0';
	if (p != NULL && (p[0] == '\0' || strspn(p, "0123456789") !=
	    strlen(p) || strlen(p) > 5 || atoi(p) == 0 || atoi(p) > 65535))
		return (-1);
	strlcpy(a->port, p != NULL ? p : WIRE_DEFAULT_PORT, sizeof(a->port));
	snprintf(a->text, sizeof(a->text), strchr(a->host, ':') != NULL ?
	    "[%s]:%s" : "%s:%s", a->host, a->port);
	return (0);
}

static int
tcp_connect(const struct gw_addr *a, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct pollfd	 pfd;
	struct timeval	 tv;
	socklen_t	 len;
	int		 fd = -1, e, soerr = 0, flags, on = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(a->host, a->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", a->host, gai_strerror(e));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			len = sizeof(soerr);
			if (poll(&pfd, 1, GW_CONNECT_MS) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &len) == 0 && soerr == 0)
				break;
			errno = soerr != 0 ? soerr : ETIMEDOUT;
		}
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		snprintf(err, errlen, "cannot reach the gateway at %s: %s",
		    a->text, strerror(errno));
		return (-1);
	}
	/*
	 * Blocking from here, but never for ever: the TLS handshake and
	 * each read or write give up after the same deadline.
	 */
	tv.tv_sec = GW_TIMEOUT_MS / 1000;
	tv.tv_usec = 0;
	/* Lines of a conversation: each goes at once, not with the next. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		snprintf(err, errlen, "socket options: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Whether an error is the gateway's TLS alert about our certificate.  In
 * TLS 1.3 the server checks it after the client's handshake is done, so
 * the alert arrives on the first read (or breaks the first write).
 */
static int
cert_alert(unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return (0);
	switch (ERR_GET_REASON(e)) {
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return (1);
	}
	return (0);
}

static void
ssl_reason(char *err, size_t errlen, const char *what)
{
	unsigned long	 e = ERR_get_error();
	const char	*r = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (r != NULL && cert_alert(e))
		snprintf(err, errlen, "the gateway refused your certificate "
		    "(%s): run 'mcpgate login'", r);
	else if (r == NULL && (errno == EAGAIN || errno == EWOULDBLOCK))
		snprintf(err, errlen, "%s: no progress for %d seconds", what,
		    GW_TIMEOUT_MS / 1000);
	else
		snprintf(err, errlen, "%s%s%s", what, r != NULL ? ": " : "",
		    r != NULL ? r : "");
	ERR_clear_error();
}

/* Why an SSL call failed, in words: the alert, the errno or the end. */
void
gw_ssl_error(SSL *ssl, int ret, const char *what, char *err, size_t errlen)
{
	int	 e = errno;

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_ZERO_RETURN:
		snprintf(err, errlen, "%s: the connection closed", what);
		break;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0) {
			ssl_reason(err, errlen, what);
			break;
		}
		snprintf(err, errlen, "%s: %s", what, ret == 0 || e == 0 ?
		    "the connection ended without a TLS close" :
		    strerror(e));
		break;
	case SSL_ERROR_SSL:
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			snprintf(err, errlen, "%s: the connection ended "
			    "without a TLS close", what);
			break;
		}
		errno = e;
		ssl_reason(err, errlen, what);
		break;
	default:
		errno = e;
		ssl_reason(err, errlen, what);
		break;
	}
	ERR_clear_error();
}

/* The name dialed must be the one the server's certificate carries. */
static void
set_peer_name(SSL *ssl, const char *host)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	else {
		SSL_set_tlsext_host_name(ssl, host);
		SSL_set1_host(ssl, host);
	}
}

/*
 * Connect.  With ca_pem the server must chain to it and carry the name
 * dialed; without (a first contact) nothing is checked yet and the caller
 * must check the server against the CA that hello returns.  With cert and
 * key files the client certificate is presented.
 */
SSL *
gw_connect(const struct gw_addr *a, const char *ca_pem, const char *cert,
    const char *key, char *err, size_t errlen)
{
	static const unsigned char alpn[] = WIRE_ALPN_PROTOS;
	SSL_CTX		*ctx;
	SSL		*ssl = NULL;
	X509		*ca;
	BIO		*bio;
	char		 what[400];
	long		 v;
	int		 fd, r;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_reason(err, errlen, "TLS");
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (ca_pem != NULL) {
		if ((bio = BIO_new_mem_buf(ca_pem, -1)) == NULL ||
		    (ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
			BIO_free(bio);
			snprintf(err, errlen, "the pinned CA certificate does "
			    "not parse");
			goto fail;
		}
		BIO_free(bio);
		X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
		X509_free(ca);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (cert != NULL && (SSL_CTX_use_certificate_file(ctx, cert,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key,
	    SSL_FILETYPE_PEM) != 1)) {
		ssl_reason(err, errlen, "your key or certificate");
		goto fail;
	}
	if ((fd = tcp_connect(a, err, errlen)) == -1)
		goto fail;
	if ((ssl = SSL_new(ctx)) == NULL) {
		close(fd);
		ssl_reason(err, errlen, "TLS");
		goto fail;
	}
	SSL_set_fd(ssl, fd);
	set_peer_name(ssl, a->host);
	if ((r = SSL_connect(ssl)) != 1) {
		if ((v = SSL_get_verify_result(ssl)) != X509_V_OK)
			snprintf(err, errlen, "the gateway at %s is not the "
			    "one you trusted: %s", a->text,
			    X509_verify_cert_error_string(v));
		else {
			snprintf(what, sizeof(what), "the TLS handshake with "
			    "the gateway at %s failed", a->text);
			gw_ssl_error(ssl, r, what, err, errlen);
		}
		gw_close(ssl);
		ssl = NULL;
	}
 fail:
	SSL_CTX_free(ctx);
	return (ssl);
}

void
gw_close(SSL *ssl)
{
	int	 fd;

	if (ssl == NULL)
		return;
	fd = SSL_get_fd(ssl);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	if (fd != -1)
		close(fd);
}

/*
 * Why a request could not be sent.  A gateway that refuses the
 * certificate (TLS 1.3 checks it after the handshake) sends an alert and
 * closes, so the write fails with a reset while the alert, which says
 * why, still waits to be read.
 */
static void
write_error(SSL *ssl, int r, char *err, size_t errlen)
{
	char	 buf[64];
	int	 n;

	gw_ssl_error(ssl, r, "cannot send the request", err, errlen);
	ERR_clear_error();
	if ((n = SSL_read(ssl, buf, sizeof(buf))) <= 0 &&
	    SSL_get_error(ssl, n) == SSL_ERROR_SSL)
		gw_ssl_error(ssl, n, "cannot send the request", err, errlen);
	ERR_clear_error();
}

/* One request line (req is taken), one answer line. */
json_t *
gw_request(SSL *ssl, json_t *req, char *err, size_t errlen)
{
	struct pollfd	 pfd;
	json_error_t	 jerr;
	json_t		*ans;
	char		*line, *buf, *nl;
	size_t		 len = 0, cap = 16 * 1024;
	int		 n, r;

	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (line == NULL)
		errx(CLIENT_EXIT_FAIL, "cannot encode the request");
	n = (int)strlen(line);
	line[n] = '\0';
	if ((r = SSL_write(ssl, line, n)) != n ||
	    (r = SSL_write(ssl, "\n", 1)) != 1) {
		explicit_bzero(line, (size_t)n);
		free(line);
		write_error(ssl, r, err, errlen);
		return (NULL);
	}
	explicit_bzero(line, (size_t)n);
	free(line);
	if ((buf = malloc(cap)) == NULL)
		errx(CLIENT_EXIT_FAIL, "out of memory");
	for (;;) {
		if (SSL_pending(ssl) == 0) {
			pfd.fd = SSL_get_fd(ssl);
			pfd.events = POLLIN;
			if (poll(&pfd, 1, GW_TIMEOUT_MS) != 1) {
				snprintf(err, errlen, "the gateway did not "
				    "answer within %d seconds",
				    GW_TIMEOUT_MS / 1000);
				free(buf);
				return (NULL);
			}
		}
		if (len + 1 >= cap) {
			if (cap >= GW_MAXLINE) {
				snprintf(err, errlen, "the answer is too long");
				free(buf);
				return (NULL);
			}
			cap *= 2;
			if ((buf = realloc(buf, cap)) == NULL)
				errx(CLIENT_EXIT_FAIL, "out of memory");
		}
		if ((n = SSL_read(ssl, buf + len, (int)(cap - len - 1))) <= 0) {
			gw_ssl_error(ssl, n, "no answer from the gateway", err,
			    errlen);
			free(buf);
			return (NULL);
		}
		len += (size_t)n;
		if ((nl = memchr(buf, '\n', len)) != NULL)
			break;
	}
	ans = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	explicit_bzero(buf, len);
	free(buf);
	if (!json_is_object(ans)) {
		json_decref(ans);
		snprintf(err, errlen, "the gateway's answer is not JSON");
		return (NULL);
	}
	return (ans);
}

/*
 * On first contact nothing was verified: the server's certificate must
 * chain to the CA that hello returned and carry the name we dialed.
 */
int
gw_check_server(SSL *ssl, const char *ca_pem, const char *host)
{
	X509_STORE_CTX	*sctx;
	X509_STORE	*store;
	X509		*ca = NULL, *peer;
	BIO		*bio;
	struct in6_addr	 a6;
	struct in_addr	 a4;
	int		 ok = 0;

	if ((peer = SSL_get0_peer_certificate(ssl)) == NULL)
		return (0);
	if ((bio = BIO_new_mem_buf(ca_pem, -1)) != NULL) {
		ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (ca == NULL || (store = X509_STORE_new()) == NULL) {
		X509_free(ca);
		return (0);
	}
	X509_STORE_add_cert(store, ca);
	if ((sctx = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(sctx, store, peer,
	    SSL_get_peer_cert_chain(ssl)) == 1) {
		X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_SERVER);
		ok = X509_verify_cert(sctx) == 1;
	}
	if (ok && (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1))
		ok = X509_check_ip_asc(peer, host, 0) == 1;
	else if (ok)
		ok = X509_check_host(peer, host, 0, 0, NULL) == 1;
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
	X509_free(ca);
	return (ok);
}

/*
 * The files a connection with the profile's certificate needs, checked
 * here so that the user hears what to do rather than a TLS error: not
 * logged in, logged out, or expired.
 */
static int
profile_creds(struct profile *p, struct gw_addr *a, char **ca, char *cpath,
    char *kpath, char *err, size_t errlen)
{
	char	 when[TIME_RFC3339_LEN];
	char	*cert;
	int64_t	 na;

	if (profile_find(p, err, errlen) == -1)
		return (-1);
	if (profile_load(p) == -1) {
		snprintf(err, errlen, "the profile in %s is damaged: run "
		    "'mcpgate login'", p->dir);
		return (-1);
	}
	if (!p->have) {
		snprintf(err, errlen, "not logged in: run 'mcpgate login "
		    "--proxy HOST --user NAME'");
		return (-1);
	}
	if ((cert = profile_read(p, "cert.pem", NULL)) == NULL ||
	    profile_path(p, "cert.pem", cpath, PATH_MAX) == -1 ||
	    profile_path(p, "key.pem", kpath, PATH_MAX) == -1 ||
	    access(kpath, R_OK) == -1) {
		free(cert);
		snprintf(err, errlen, "not logged in (no key or certificate "
		    "in %s): run 'mcpgate login'", p->dir);
		return (-1);
	}
	na = cert_not_after(cert);
	free(cert);
	if (na <= time(NULL)) {
		fmt_time_us(na * 1000000, when, sizeof(when));
		when[19] = 'Z';
		when[20] = '\0';
		snprintf(err, errlen, "your certificate expired at %s: run "
		    "'mcpgate login'", na == -1 ? "an unknown time" : when);
		return (-1);
	}
	if (gw_parse_addr(p->proxy, a) == -1 ||
	    (*ca = profile_read(p, "ca.pem", NULL)) == NULL) {
		snprintf(err, errlen, "the profile in %s is damaged: run "
		    "'mcpgate login'", p->dir);
		return (-1);
	}
	return (0);
}

/*
 * A connection to the profile's gateway with the profile's certificate,
 * or NULL and err says why and what to do.
 */
SSL *
gw_profile_connect(char *err, size_t errlen)
{
	struct profile	 p;
	struct gw_addr	 a;
	SSL		*ssl;
	char		 cpath[PATH_MAX], kpath[PATH_MAX];
	char		*ca = NULL;

	if (profile_creds(&p, &a, &ca, cpath, kpath, err, errlen) == -1)
		return (NULL);
	ssl = gw_connect(&a, ca, cpath, kpath, err, errlen);
	free(ca);
	return (ssl);
}

/* What to do about a refusal, when the gateway's message does not say. */
const char *
gw_advice(const char *code, const char *message)
{
	static const struct {
		const char	*code;
		const char	*advice;
	} advice[] = {
		{ WIRE_ERR_CERT_REQUIRED, "run 'mcpgate login'" },
		{ WIRE_ERR_EXPIRED, "run 'mcpgate login'" },
		{ WIRE_ERR_REVOKED, "run 'mcpgate login'" },
		{ WIRE_ERR_UNKNOWN_USER, "ask your administrator" },
		{ WIRE_ERR_LOCKED, "ask your administrator" },
		{ WIRE_ERR_UNKNOWN_APP, "run 'mcpgate mcp ls' to see the MCP "
		    "servers you may use" },
		{ WIRE_ERR_AUDIT_UNAVAILABLE, "try again later" },
	};
	size_t	 i;

	if (strstr(message, "mcpgate login") != NULL ||
	    strstr(message, "administrator") != NULL)
		return (NULL);
	for (i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		if (strcmp(code, advice[i].code) == 0)
			return (advice[i].advice);
	return (NULL);
}

/* The end of a certificate's validity, in seconds, or -1. */
int64_t
cert_not_after(const char *pem)
{
	BIO		*bio;
	X509		*x;
	struct tm	 tm;
	int64_t		 t = -1;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return (-1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		t = timegm(&tm);
	X509_free(x);
	return (t);
}
