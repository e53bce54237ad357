/*
 * tlsprobe: a TLS client for the integration tests, with control over
 * what a real client would not vary.
 *
 *	tlsprobe [-2] [-a alpn | -A] [-c cafile] [-C cert -K key]
 *	    [-t seconds] [-w wait] host port [line]
 *	(-w: send nothing for that long, printing what the server says;
 *	 -e: close the sending side with close_notify after the line;
 *	 -n: send the line without its newline)
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

int
main(int argc, char *argv[])
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	const char	*alpn = "mcpgate/1", *cafile = NULL, *cert = NULL;
	const char	*key = NULL;
	unsigned char	 wire[256];
	char		 buf[65536];
	size_t		 len = 0;
	int		 ch, tls12 = 0, noalpn = 0, raw = 0, hold = 0;
	int		 secs = 10;
	int		 fd, n, wait = 0, status = 0, halfclose = 0;
	int		 nonewline = 0;
	unsigned long	 e;

	while ((ch = getopt(argc, argv, "2a:Ac:C:eK:k:nrt:w:")) != -1) {
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
		case 'r':
			raw = 1;
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'w':
			wait = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: tlsprobe [-2] [-a alpn | -A] "
			    "[-c ca] [-C cert -K key] [-en] [-t s] [-w s] "
			    "[-r | -k n] host port [line]\n");
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
	fd = tcp_connect(argv[0], argv[1]);
	if ((ssl = SSL_new(ctx)) == NULL)
		errx(1, "SSL_new");
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, argv[0]);
	SSL_set1_host(ssl, argv[0]);
	if (SSL_connect(ssl) != 1) {
		e = ERR_get_error();
		fprintf(stderr, "handshake failed: %s\n",
		    e ? ERR_reason_error_string(e) : "connection closed");
		status = 2;
		goto done;
	}
	if (argc < 3) {
		printf("handshake ok: %s\n", SSL_get_version(ssl));
		goto done;
	}
	if (wait > 0) {
		/* Say nothing for a while; print what the server says. */
		struct pollfd	 pfd = { fd, POLLIN, 0 };

		if (poll(&pfd, 1, wait * 1000) == 1)
			goto answer;
	}
	snprintf(buf, sizeof(buf), nonewline ? "%s" : "%s\n", argv[2]);
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
	SSL_shutdown(ssl);
 done:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return (status);
}
