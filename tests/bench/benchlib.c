/*
 * What the two benchmarks share; see benchlib.h.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "benchlib.h"

double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
dcmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* The p-th percentile of v; sorts v. */
double
pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), dcmp);
	return (v[(size_t)(p * (double)(n - 1))]);
}

/* A listening socket on 127.0.0.1 and an ephemeral port, put in sin. */
int
loopback_listen(struct sockaddr_in *sin)
{
	socklen_t	 len = sizeof(*sin);
	int		 fd;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) == -1)
		err(1, "floor server");
	return (fd);
}

/* A TCP connection to 127.0.0.1:port, without Nagle's delay. */
int
loopback_connect(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "connect to port %d", port);
	return (fd);
}

static int
alpn_any(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)s;
	(void)arg;
	if (inlen < 2)
		return (SSL_TLSEXT_ERR_ALERT_FATAL);
	*out = in + 1;
	*outlen = in[0];
	return (SSL_TLSEXT_ERR_OK);
}

/*
 * A plain TLS 1.3 server: a self-signed Ed25519 certificate, and
 * whatever ALPN protocol the client offers first.
 */
SSL_CTX *
floor_server_ctx(void)
{
	EVP_PKEY	*key;
	X509		*x;
	SSL_CTX		*ctx;

	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    (x = X509_new()) == NULL)
		errx(1, "floor: key");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"floor", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (X509_sign(x, key, NULL) == 0 ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		errx(1, "floor: certificate");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_any, NULL);
	X509_free(x);
	EVP_PKEY_free(key);
	return (ctx);
}

/* n timings of a write of reclen bytes and an fdatasync, into lat. */
void
fdatasync_times(const char *path, size_t reclen, double *lat, size_t n)
{
	char	*rec;
	double	 t;
	size_t	 i;
	int	 fd;

	if ((rec = malloc(reclen)) == NULL)
		err(1, NULL);
	memset(rec, 'x', reclen);
	rec[reclen - 1] = '\n';
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
	    0600)) == -1)
		err(1, "%s", path);
	for (i = 0; i < n; i++) {
		t = now();
		if (write(fd, rec, reclen) != (ssize_t)reclen ||
		    fdatasync(fd) == -1)
			err(1, "%s", path);
		lat[i] = now() - t;
	}
	close(fd);
	unlink(path);
	free(rec);
}
