/*
 * mgload: many connections at once, for the tests that attack the
 * gateway's limits.  Every mode is bounded by a count and a time.
 *
 *	mgload idle [-b addr] [-n count] [-t seconds] host port
 *		hold count TCP connections that never start TLS; print how
 *		many the gateway closed before the time was up
 *	mgload sessions -c ca -C cert -K key [-n count] [-t seconds]
 *	    [-i] host port app
 *		open count sessions at once, sending initialize with -i,
 *		and hold them; print a line per session with how the
 *		gateway answered the connect, and when it ended it
 *	mgload partial -c ca -C cert -K key [-n count] [-s bytes]
 *	    [-t seconds] host port app
 *		open count sessions and send each a message of bytes that
 *		never ends (no closing quote, no newline), all at once; hold
 *		them until none has ended for 3 seconds (at most seconds in
 *		all), and print how many the gateway ended and why
 *
 * The summary is one line of key=value pairs on standard output.  Exit 0
 * when the run went as far as its time, 1 on an error of mgload itself.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

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

#define LINE_MAX_IN	4096

struct lconn {
	int		 fd;
	SSL		*ssl;
	int		 open;		/* the gateway has not closed it */
	int		 ok;		/* connect answered ok */
	int		 refused;	/* connect answered with an error */
	char		 error[64];	/* its code, or the session's end */
	char		 why[256];
	size_t		 sent;		/* of the partial message */
	double		 ended;		/* seconds from the start */
	char		 in[LINE_MAX_IN];
	size_t		 inlen;
};

static const char	*bindaddr;
static SSL_CTX		*ctx;
static struct timespec	 t0;

static double
elapsed(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)(ts.tv_sec - t0.tv_sec) +
	    (double)(ts.tv_nsec - t0.tv_nsec) / 1e9);
}

static void
usage(void)
{
	fprintf(stderr, "usage: mgload idle|sessions|partial [-i] [-b addr] "
	    "[-c ca -C cert -K key] [-n count] [-s bytes] [-t seconds] host "
	    "port [app]\n");
	exit(1);
}

/* Enough descriptors for the count asked for. */
static void
raise_nofile(int n)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			err(1, "setrlimit %d descriptors", n + 64);
	}
}

/* A TCP connection, from bindaddr when given; -1 when refused. */
static int
tcp_connect(const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	struct sockaddr_storage	 ss;
	int		 fd = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "%s: %s", host, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			continue;
		if (bindaddr != NULL) {
			memset(&ss, 0, sizeof(ss));
			if (ai->ai_family == AF_INET) {
				struct sockaddr_in *sin = (void *)&ss;

				sin->sin_family = AF_INET;
				if (inet_pton(AF_INET, bindaddr,
				    &sin->sin_addr) != 1)
					errx(1, "bad address %s", bindaddr);
			} else {
				struct sockaddr_in6 *sin6 = (void *)&ss;

				sin6->sin6_family = AF_INET6;
				if (inet_pton(AF_INET6, bindaddr,
				    &sin6->sin6_addr) != 1)
					errx(1, "bad address %s", bindaddr);
			}
			if (bind(fd, (struct sockaddr *)&ss,
			    ai->ai_addrlen) == -1)
				err(1, "bind %s", bindaddr);
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return (fd);
}

static void
tls_init(const char *ca, const char *cert, const char *key)
{
	static const unsigned char alpn[] = WIRE_ALPN_PROTOS;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		errx(1, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		errx(1, "%s: cannot load", ca);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		errx(1, "%s: cannot load", cert);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
}

/* Note one line from the gateway: the connect answer, or an end. */
static void
take_line(struct lconn *c, const char *line)
{
	const char	*p, *q;

	if (!c->ok && !c->refused) {
		if (strstr(line, "\"ok\":true") != NULL) {
			c->ok = 1;
			return;
		}
		c->refused = 1;
	}
	/* {"ok":false,"error":CODE,...} or a JSON-RPC error with id null */
	if ((p = strstr(line, "\"error\":\"")) != NULL) {
		p += 9;
		if ((q = strchr(p, '"')) != NULL)
			snprintf(c->error, sizeof(c->error), "%.*s",
			    (int)(q - p), p);
	} else if (strstr(line, "\"id\":null") != NULL &&
	    strstr(line, "-32000") != NULL)
		strlcpy(c->error, "session_ended", sizeof(c->error));
	if ((p = strstr(line, "\"message\":\"")) != NULL) {
		p += 11;
		if ((q = strchr(p, '"')) != NULL)
			snprintf(c->why, sizeof(c->why), "%.*s",
			    (int)(q - p), p);
	}
}

/* Read what the gateway sent; note when it closed. */
static void
drain(struct lconn *c)
{
	char	*nl;
	int	 n, e;

	while (c->open) {
		n = SSL_read(c->ssl, c->in + c->inlen,
		    (int)(sizeof(c->in) - 1 - c->inlen));
		if (n <= 0) {
			e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE)
				return;
			c->open = 0;
			c->ended = elapsed();
			return;
		}
		c->inlen += (size_t)n;
		c->in[c->inlen] = '\0';
		while ((nl = strchr(c->in, '\n')) != NULL) {
			*nl = '\0';
			take_line(c, c->in);
			c->inlen -= (size_t)(nl + 1 - c->in);
			memmove(c->in, nl + 1, c->inlen + 1);
		}
		if (c->inlen == sizeof(c->in) - 1)
			c->inlen = 0;	/* a line too long to matter */
	}
}

/*
 * A session: the handshake and the connect line, blocking, then the
 * socket goes non-blocking.  The answer to connect is read later.
 */
static int
session_open(struct lconn *c, const char *host, const char *port,
    const char *app, int init)
{
	static const char init_line[] = "{\"jsonrpc\":\"2.0\",\"id\":0,"
	    "\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
	    "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":"
	    "\"mgload\",\"version\":\"1\"}}}\n";
	char	 line[256];
	int	 n;

	memset(c, 0, sizeof(*c));
	if ((c->fd = tcp_connect(host, port)) == -1)
		return (-1);
	if ((c->ssl = SSL_new(ctx)) == NULL)
		errx(1, "SSL_new");
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1) {
		SSL_free(c->ssl);
		close(c->fd);
		return (-1);
	}
	n = snprintf(line, sizeof(line), "{\"op\":\"connect\",\"app\":\"%s\"}"
	    "\n%s", app, init ? init_line : "");
	if (SSL_write(c->ssl, line, n) != n) {
		SSL_free(c->ssl);
		close(c->fd);
		return (-1);
	}
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	c->open = 1;
	return (0);
}

static void
mode_idle(const char *host, const char *port, int n, int secs)
{
	struct pollfd	*pfd;
	char		 b[64];
	int		 i, opened = 0, closed = 0;

	if ((pfd = calloc((size_t)n, sizeof(*pfd))) == NULL)
		err(1, NULL);
	for (i = 0; i < n; i++) {
		pfd[i].fd = tcp_connect(host, port);
		pfd[i].events = POLLIN;
		if (pfd[i].fd != -1)
			opened++;
	}
	printf("opened=%d in=%.2fs\n", opened, elapsed());
	fflush(stdout);
	while (elapsed() < secs) {
		if (poll(pfd, (nfds_t)n, 100) == -1 && errno != EINTR)
			err(1, "poll");
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (read(pfd[i].fd, b, sizeof(b)) <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				closed++;
			}
		}
	}
	printf("opened=%d closed_by_gateway=%d held=%d\n", opened, closed,
	    opened - closed);
}

/* Wait up to secs, reading from every open connection. */
static void
hold(struct lconn *cs, int n, double until)
{
	struct pollfd	*pfd;
	int		 i, live;

	if ((pfd = calloc((size_t)n, sizeof(*pfd))) == NULL)
		err(1, NULL);
	while (elapsed() < until) {
		for (i = 0, live = 0; i < n; i++) {
			pfd[i].fd = cs[i].open ? cs[i].fd : -1;
			pfd[i].events = POLLIN;
			live += cs[i].open;
		}
		if (live == 0)
			break;
		if (poll(pfd, (nfds_t)n, 50) == -1 && errno != EINTR)
			err(1, "poll");
		for (i = 0; i < n; i++)
			if (cs[i].open && pfd[i].revents != 0)
				drain(&cs[i]);
	}
	for (i = 0; i < n; i++)
		if (cs[i].open)
			drain(&cs[i]);
	free(pfd);
}

static void
mode_sessions(const char *host, const char *port, const char *app, int n,
    int secs, int init)
{
	struct lconn	*cs;
	int		 i, ok = 0, refused = 0, ended = 0;

	if ((cs = calloc((size_t)n, sizeof(*cs))) == NULL)
		err(1, NULL);
	for (i = 0; i < n; i++)
		if (session_open(&cs[i], host, port, app, init) == -1)
			errx(1, "session %d: cannot connect", i);
	printf("connected in=%.2fs\n", elapsed());
	fflush(stdout);
	hold(cs, n, secs);
	for (i = 0; i < n; i++) {
		printf("session %d: %s %s ended=%s at=%.2f why=%s\n", i,
		    cs[i].ok ? "ok" : cs[i].refused ? "refused" : "unanswered",
		    cs[i].error[0] ? cs[i].error : "-", cs[i].open ? "no" :
		    "yes", cs[i].open ? 0.0 : cs[i].ended, cs[i].why);
		ok += cs[i].ok;
		refused += cs[i].refused;
		ended += !cs[i].open;
	}
	printf("ok=%d refused=%d ended=%d\n", ok, refused, ended);
}

#define PARTIAL_QUIET	3	/* seconds without an end: settled */

static void
mode_partial(const char *host, const char *port, const char *app, int n,
    size_t size, int secs)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\",\"params\":{\"a\":\"";
	struct lconn	*cs;
	struct pollfd	*pfd;
	char		*msg;
	int		 i, w, e, left, ok = 0, ended = 0, budget = 0, other = 0;
	int		 held = 0;

	if ((cs = calloc((size_t)n, sizeof(*cs))) == NULL ||
	    (pfd = calloc((size_t)n, sizeof(*pfd))) == NULL ||
	    (msg = malloc(size)) == NULL)
		err(1, NULL);
	memset(msg, 'x', size);
	memcpy(msg, head, sizeof(head) - 1);
	for (i = 0; i < n; i++)
		if (session_open(&cs[i], host, port, app, 0) == -1)
			errx(1, "session %d: cannot connect", i);
	printf("connected=%d in=%.2fs\n", n, elapsed());
	fflush(stdout);
	/* Everyone writes at once, as fast as the gateway reads. */
	while (elapsed() < secs) {
		for (i = 0, left = 0; i < n; i++) {
			pfd[i].fd = -1;
			if (!cs[i].open)
				continue;
			pfd[i].fd = cs[i].fd;
			pfd[i].events = POLLIN;
			if (cs[i].sent < size) {
				pfd[i].events |= POLLOUT;
				left++;
			}
		}
		if (left == 0)
			break;
		if (poll(pfd, (nfds_t)n, 50) == -1 && errno != EINTR)
			err(1, "poll");
		for (i = 0; i < n; i++) {
			if (!cs[i].open || pfd[i].revents == 0)
				continue;
			drain(&cs[i]);
			while (cs[i].open && cs[i].sent < size) {
				w = SSL_write(cs[i].ssl, msg + cs[i].sent,
				    (int)(size - cs[i].sent));
				if (w > 0) {
					cs[i].sent += (size_t)w;
					continue;
				}
				e = SSL_get_error(cs[i].ssl, w);
				if (e != SSL_ERROR_WANT_WRITE &&
				    e != SSL_ERROR_WANT_READ) {
					drain(&cs[i]);
					if (cs[i].open) {
						cs[i].open = 0;
						cs[i].ended = elapsed();
					}
				}
				break;
			}
		}
	}
	printf("written in=%.2fs\n", elapsed());
	fflush(stdout);
	/* A busy gateway takes its time: wait while sessions still end. */
	for (e = 0, left = -1; elapsed() < secs; ) {
		for (i = 0, w = 0; i < n; i++)
			w += cs[i].open;
		if (w != left) {
			left = w;
			e = 0;
		} else if (++e == PARTIAL_QUIET)
			break;
		hold(cs, n, elapsed() + 1);
	}
	printf("settled in=%.2fs\n", elapsed());
	for (i = 0; i < n; i++) {
		ok += cs[i].ok;
		if (cs[i].open) {
			held += cs[i].sent == size;
			continue;
		}
		ended++;
		if (strstr(cs[i].why, "max_buffered") != NULL)
			budget++;
		else
			other++;
	}
	for (i = 0; i < n; i++)
		if (!cs[i].open && strstr(cs[i].why, "max_buffered") == NULL) {
			printf("session %d ended: %s %s\n", i, cs[i].error,
			    cs[i].why);
			break;
		}
	for (i = 0; i < n; i++)
		if (!cs[i].open && strstr(cs[i].why, "max_buffered") != NULL) {
			printf("first over budget: session %d: %s: %s\n", i,
			    cs[i].error, cs[i].why);
			break;
		}
	printf("sessions=%d ok=%d ended=%d over_budget=%d other=%d "
	    "holding_whole_message=%d\n", n, ok, ended, budget, other, held);
	free(msg);
}

int
main(int argc, char *argv[])
{
	const char	*mode, *ca = NULL, *cert = NULL, *key = NULL;
	size_t		 size = 4190000;
	int		 ch, n = 10, secs = 10, init = 0;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "b:c:C:iK:n:s:t:")) != -1) {
		switch (ch) {
		case 'b':
			bindaddr = optarg;
			break;
		case 'c':
			ca = optarg;
			break;
		case 'C':
			cert = optarg;
			break;
		case 'i':
			init = 1;
			break;
		case 'K':
			key = optarg;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 's':
			size = strtoul(optarg, NULL, 10);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (n < 1 || n > 100000 || secs < 1 || secs > 600 || size < 64)
		usage();
	raise_nofile(n);
	if (strcmp(mode, "idle") == 0 && argc == 2) {
		mode_idle(argv[0], argv[1], n, secs);
		return (0);
	}
	if (argc != 3 || ca == NULL || cert == NULL || key == NULL)
		usage();
	tls_init(ca, cert, key);
	if (strcmp(mode, "sessions") == 0)
		mode_sessions(argv[0], argv[1], argv[2], n, secs, init);
	else if (strcmp(mode, "partial") == 0)
		mode_partial(argv[0], argv[1], argv[2], n, size, secs);
	else
		usage();
	return (0);
}
