/*
 * tlsprobe: a TLS client for the integration tests, with control over
 * what a real client would not vary.
 *
 *	tlsprobe [-2] [-a alpn | -A] [-b addr] [-c cafile] [-C cert -K key]
 *	    [-N count] [-T] [-t seconds] [-w wait] host port [line]
 *	(-w: send nothing for that long, printing what the server says;
 *	 -e: close the sending side with close_notify after the line;
 *	 -n: send the line without its newline;
 *	 -b: connect from this local address, such as 127.0.1.5;
 *	 -N: send the line count times, each on a new connection, printing
 *	     every answer; the exit status is the last one's;
 *	 -T: after each answer, print "elapsed N ms" from connect to answer)
 *	tlsprobe -r [-t seconds] host port	raw TCP: report when closed
 *	tlsprobe -k n [-t seconds] host port	hold n raw TCP connections
 *
 * With a line, it is sent followed by a newline and the first line of
 * the answer is printed.  Exit 0 on success, 2 if the handshake fails,
 * 3 if no answer comes, 1 on other errors.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "wire.h"

static const char	*source;	/* -b */

static int
tcp_connect(const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai, *src = NULL;
	int		 fd = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "%s: %s", host, gai_strerror(e));
	if (source != NULL) {
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if ((e = getaddrinfo(source, NULL, &hints, &src)) != 0)
			errx(1, "-b %s: %s", source, gai_strerror(e));
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			continue;
		if (src != NULL && (src->ai_family != ai->ai_family ||
		    bind(fd, src->ai_addr, src->ai_addrlen) == -1)) {
			close(fd);
			fd = -1;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (src != NULL)
		freeaddrinfo(src);
	if (fd == -1)
		err(1, "connect %s:%s%s%s", host, port, source != NULL ?
		    " from " : "", source != NULL ? source : "");
	return (fd);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Connect and wait until the server closes; print how long it took. */
static int
raw_wait(const char *host, const char *port, int secs)
{
	struct pollfd	 pfd;
	char		 buf[256];
	double		 start = now();
	int		 fd;

	fd = tcp_connect(host, port);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, secs * 1000) <= 0) {
			printf("open after %d s\n", secs);
			return (3);
		}
		if (read(fd, buf, sizeof(buf)) <= 0)
			break;
	}
	printf("closed after %.2f s\n", now() - start);
	return (0);
}

static int
raw_hold(const char *host, const char *port, int n, int secs)
{
	int	 i;

	for (i = 0; i < n; i++)
		tcp_connect(host, port);
	printf("holding %d\n", n);
	fflush(stdout);
	sleep((unsigned)secs);
	return (0);
}

/* One connection: handshake, the line, the first line of the answer. */
static int
exchange(SSL_CTX *ctx, const char *host, const char *port,
    const char *line, int wait, int halfclose, int nonewline, int timed)
{
	SSL		*ssl;
	char		 buf[65536];
	size_t		 len;
	double		 start = now();
	int		 fd, n, status = 0;
	unsigned long	 e;

	fd = tcp_connect(host, port);
	if ((ssl = SSL_new(ctx)) == NULL)
		errx(1, "SSL_new");
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, host);
	SSL_set1_host(ssl, host);
	if (SSL_connect(ssl) != 1) {
		e = ERR_get_error();
		fprintf(stderr, "handshake failed: %s\n",
		    e ? ERR_reason_error_string(e) : "connection closed");
		status = 2;
		goto done;
	}
	if (line == NULL) {
		printf("handshake ok: %s\n", SSL_get_version(ssl));
		goto done;
	}
	if (wait > 0) {
		/* Say nothing for a while; print what the server says. */
		struct pollfd	 pfd = { fd, POLLIN, 0 };

		if (poll(&pfd, 1, wait * 1000) == 1)
			goto answer;
	}
	snprintf(buf, sizeof(buf), nonewline ? "%s" : "%s\n", line);
	if ((n = SSL_write(ssl, buf, (int)strlen(buf))) <= 0) {
		/* The server may have refused us already: read its alert. */
		if (SSL_get_error(ssl, n) != SSL_ERROR_SSL)
			n = SSL_read(ssl, buf, (int)sizeof(buf));
		if (n <= 0 && SSL_get_error(ssl, n) == SSL_ERROR_SSL) {
			e = ERR_get_error();
			fprintf(stderr, "refused: %s\n",
			    ERR_reason_error_string(e));
			status = 2;
			goto done;
		}
		errx(1, "write failed");
	}
	if (halfclose)
		SSL_shutdown(ssl);
 answer:
	for (len = 0; len < sizeof(buf) - 1; ) {
		if ((n = SSL_read(ssl, buf + len, (int)(sizeof(buf) - 1 -
		    len))) <= 0) {
			/* TLS 1.3: the server judges our certificate late. */
			if (len == 0 &&
			    SSL_get_error(ssl, n) == SSL_ERROR_SSL) {
				e = ERR_get_error();
				fprintf(stderr, "refused: %s\n",
				    ERR_reason_error_string(e));
				status = 2;
				goto done;
			}
			break;
		}
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	if (len == 0) {
		fprintf(stderr, "no answer\n");
		status = 3;
		goto done;
	}
	buf[len] = '\0';
	fputs(buf, stdout);
	if (timed)
		printf("elapsed %.0f ms\n", (now() - start) * 1000);
	fflush(stdout);
	SSL_shutdown(ssl);
 done:
	SSL_free(ssl);
	close(fd);
	return (status);
}

int
main(int argc, char *argv[])
{
	SSL_CTX		*ctx;
	const char	*alpn = WIRE_ALPN, *cafile = NULL, *cert = NULL;
	const char	*key = NULL;
	unsigned char	 wire[256];
	size_t		 len = 0;
	int		 ch, tls12 = 0, noalpn = 0, raw = 0, hold = 0;
	int		 secs = 10, count = 1, timed = 0, i;
	int		 wait = 0, status = 0, halfclose = 0;
	int		 nonewline = 0;

	while ((ch = getopt(argc, argv, "2a:Ab:c:C:eK:k:nN:rTt:w:")) != -1) {
		switch (ch) {
		case 'e':
			halfclose = 1;
			break;
		case 'n':
			nonewline = 1;
			break;
		case '2':
			tls12 = 1;
			break;
		case 'a':
			alpn = optarg;
			break;
		case 'A':
			noalpn = 1;
			break;
		case 'b':
			source = optarg;
			break;
		case 'c':
			cafile = optarg;
			break;
		case 'C':
			cert = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'k':
			hold = atoi(optarg);
			break;
		case 'N':
			if ((count = atoi(optarg)) < 1)
				errx(1, "-N needs a count of 1 or more");
			break;
		case 'r':
			raw = 1;
			break;
		case 'T':
			timed = 1;
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'w':
			wait = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: tlsprobe [-2] [-a alpn | -A] "
			    "[-b addr] [-c ca] [-C cert -K key] [-enT] "
			    "[-N count] [-t s] [-w s] [-r | -k n] host port "
			    "[line]\n");
			return (1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		errx(1, "host and port needed");
	if (raw)
		return (raw_wait(argv[0], argv[1], secs));
	if (hold > 0)
		return (raw_hold(argv[0], argv[1], hold, secs));

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		errx(1, "SSL_CTX_new");
	if (tls12) {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	}
	if (cafile != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
			errx(1, "%s: cannot load", cafile);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (cert != NULL && (SSL_CTX_use_certificate_file(ctx, cert,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key,
	    SSL_FILETYPE_PEM) != 1))
		errx(1, "%s: cannot load", cert);
	if (!noalpn) {
		len = strlen(alpn);
		wire[0] = (unsigned char)len;
		memcpy(wire + 1, alpn, len);
		SSL_CTX_set_alpn_protos(ctx, wire, (unsigned int)len + 1);
	}
	for (i = 0; i < count; i++)
		status = exchange(ctx, argv[0], argv[1], argc < 3 ? NULL :
		    argv[2], wait, halfclose, nonewline, timed);
	SSL_CTX_free(ctx);
	return (status);
}
