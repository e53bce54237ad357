/*
 * mcpsession: a raw session client for the integration tests.  It sends
 * a request line, then relays stdin to the gateway and the gateway to
 * stdout, byte for byte, in both directions at once; at the end of stdin
 * it closes its sending side (TLS close_notify) and reads on until the
 * gateway closes.  Unlike mcpgate mcp connect it checks nothing and
 * tracks nothing, so tests can send what no honest client would.
 *
 *	mcpsession -c ca -C cert -K key [-t seconds] [-r line] host port
 *	    [app]
 *
 * With an app, the request line is {"op":"connect","app":APP}; -r sends
 * the given line instead.  Exit 0 when the gateway closed, 3 on timeout,
 * 2 if the handshake failed, 1 on other errors.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "wire.h"

#define BUFSZ	(256 * 1024)

static int
tcp_connect(const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "%s: %s", host, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		err(1, "connect %s:%s", host, port);
	return (fd);
}

static SSL_CTX	*ctx;

static SSL *
tls_connect(const char *host, const char *port, const char *ca,
    const char *cert, const char *key, int *fdp)
{
	static const unsigned char alpn[] = WIRE_ALPN_PROTOS;
	SSL		*ssl;
	int		 fd;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		errx(1, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		errx(1, "%s: cannot load", ca);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert != NULL && (SSL_CTX_use_certificate_file(ctx, cert,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key,
	    SSL_FILETYPE_PEM) != 1))
		errx(1, "%s: cannot load", cert);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	fd = tcp_connect(host, port);
	if ((ssl = SSL_new(ctx)) == NULL)
		errx(1, "SSL_new");
	SSL_set_fd(ssl, fd);
	SSL_set1_host(ssl, host);
	if (SSL_connect(ssl) != 1) {
		fprintf(stderr, "handshake failed\n");
		exit(2);
	}
	*fdp = fd;
	return (ssl);
}

int
main(int argc, char *argv[])
{
	struct pollfd	 pfd[2];
	SSL		*ssl;
	const char	*ca = NULL, *cert = NULL, *key = NULL, *line = NULL;
	char		*out, *in, first[512];
	size_t		 outlen = 0, outoff = 0;
	ssize_t		 r;
	time_t		 deadline;
	int		 ch, fd, n = 0, e, secs = 10, in_eof = 0, shut = 0;
	int		 reads;
	int		 status = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "c:C:K:r:t:")) != -1) {
		switch (ch) {
		case 'c':
			ca = optarg;
			break;
		case 'C':
			cert = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'r':
			line = optarg;
			break;
		case 't':
			secs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: mcpsession -c ca [-C cert -K "
			    "key] [-t s] [-r line] host port [app]\n");
			return (1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || ca == NULL || (line == NULL && argc < 3))
		errx(1, "ca, host, port and an app or -r line needed");
	if (line == NULL) {
		snprintf(first, sizeof(first), "{\"op\":\"connect\","
		    "\"app\":\"%s\"}", argv[2]);
		line = first;
	}
	deadline = time(NULL) + secs;
	ssl = tls_connect(argv[0], argv[1], ca, cert, key, &fd);
	if ((out = malloc(BUFSZ)) == NULL || (in = malloc(BUFSZ)) == NULL)
		err(1, NULL);
	outlen = (size_t)snprintf(out, BUFSZ, "%s\n", line);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	fcntl(0, F_SETFL, O_NONBLOCK);
	setvbuf(stdout, NULL, _IONBF, 0);

	for (;;) {
		/* Send what we have; take more from stdin when it is out. */
		while (outoff < outlen) {
			n = SSL_write(ssl, out + outoff, (int)(outlen - outoff));
			if (n <= 0) {
				e = SSL_get_error(ssl, n);
				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					break;
				/* The gateway closed: read what it said. */
				outoff = outlen;
				in_eof = 1;
				break;
			}
			outoff += (size_t)n;
		}
		if (outoff == outlen) {
			outoff = outlen = 0;
			if (in_eof && !shut) {
				SSL_shutdown(ssl);
				shut = 1;
			}
		}
		/* A gateway that never stops writing still lets us look up. */
		for (reads = 0; reads < 64 &&
		    (n = SSL_read(ssl, in, BUFSZ)) > 0; reads++)
			if (fwrite(in, 1, (size_t)n, stdout) != (size_t)n)
				err(1, "stdout");
		e = reads < 64 ? SSL_get_error(ssl, n) : SSL_ERROR_WANT_READ;
		if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ||
		    e == SSL_ERROR_SSL)
			break;
		if (time(NULL) >= deadline) {
			fprintf(stderr, "timeout\n");
			status = 3;
			break;
		}
		pfd[0].fd = fd;
		pfd[0].events = POLLIN | (outlen > 0 ? POLLOUT : 0);
		pfd[1].fd = outlen == 0 && !in_eof ? 0 : -1;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, 100) == -1 && errno != EINTR)
			err(1, "poll");
		if (pfd[1].fd == 0 && (pfd[1].revents & (POLLIN | POLLHUP))) {
			r = read(0, out, BUFSZ);
			if (r > 0)
				outlen = (size_t)r;
			else if (r == 0 || errno != EAGAIN)
				in_eof = 1;
		}
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	free(out);
	free(in);
	return (status);
}
