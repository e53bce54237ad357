/*
 * The MCP benchmark: tools/call round trips to the demo server through
 * running gateways, beside the floors measured in the same run.
 *
 *   floors	one line each way over an open TLS 1.3 connection on
 *		loopback (a plain OpenSSL server in this process), and one
 *		write plus fdatasync of a small record in the audit directory
 *   calls	mcpgate_user_info called sequentially in one session, then
 *		with 16 and 256 sessions each keeping one call in flight,
 *		against a gateway with audit.fsync none and one with always
 *   memory	netd plus mcpd, resident, with idle sessions open
 *
 *	mcpbench [-n calls] [-i idle] auditdir none-home none-port
 *	    always-home always-port netd-pid mcpd-pid
 *
 * A home is a logged-in mcpgate profile (ca.pem, cert.pem, key.pem);
 * netd-pid and mcpd-pid belong to the "none" gateway.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "benchlib.h"
#include "wire.h"

#define LINE_MAX_IN	(256 * 1024)
#define ROUNDS		7

static const char init_line[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
    "\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
    "\"capabilities\":{},\"clientInfo\":{\"name\":\"mcpbench\","
    "\"version\":\"1\"}}}\n";

struct sess {
	SSL		*ssl;
	int		 fd;
	char		*in;
	size_t		 inlen;
	double		 sent;
	int		 busy;
	int		 want_write;
	char		 out[256];
	size_t		 outlen;
	size_t		 outoff;
};

static SSL_CTX *
client_ctx(const char *home)
{
	static const unsigned char alpn[] = WIRE_ALPN_PROTOS;
	SSL_CTX	*ctx;
	char	 ca[512], cert[512], key[512];

	snprintf(ca, sizeof(ca), "%s/ca.pem", home);
	snprintf(cert, sizeof(cert), "%s/cert.pem", home);
	snprintf(key, sizeof(key), "%s/key.pem", home);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		errx(1, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		errx(1, "%s: cannot load the profile", home);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return (ctx);
}

/* Read one whole line, blocking; the line stays in s->in. */
static void
read_line(struct sess *s, const char *what)
{
	char	*nl;
	int	 n;

	for (;;) {
		if (s->inlen > 0 && (nl = memchr(s->in, '\n', s->inlen)) !=
		    NULL) {
			*nl = '\0';
			if (strstr(s->in, "\"error\"") != NULL)
				errx(1, "%s: %s", what, s->in);
			s->inlen -= (size_t)(nl + 1 - s->in);
			memmove(s->in, nl + 1, s->inlen);
			return;
		}
		if ((n = SSL_read(s->ssl, s->in + s->inlen,
		    (int)(LINE_MAX_IN - s->inlen))) <= 0)
			errx(1, "%s: the gateway closed", what);
		s->inlen += (size_t)n;
	}
}

/* A session: TLS, connect, initialize; then non-blocking. */
static void
sess_open_app(struct sess *s, SSL_CTX *ctx, int port, const char *app)
{
	char	 connect[128];
	int	 len;

	len = snprintf(connect, sizeof(connect),
	    "{\"op\":\"connect\",\"app\":\"%s\"}\n", app);
	memset(s, 0, sizeof(*s));
	if ((s->in = malloc(LINE_MAX_IN)) == NULL)
		err(1, NULL);
	s->fd = loopback_connect(port);
	s->ssl = SSL_new(ctx);
	SSL_set_fd(s->ssl, s->fd);
	if (SSL_connect(s->ssl) != 1)
		errx(1, "handshake failed");
	if (SSL_write(s->ssl, connect, len) <= 0 ||
	    SSL_write(s->ssl, init_line, sizeof(init_line) - 1) <= 0)
		errx(1, "write failed");
	read_line(s, "connect");
	read_line(s, "initialize");
	fcntl(s->fd, F_SETFL, O_NONBLOCK);
}

static void
sess_open(struct sess *s, SSL_CTX *ctx, int port)
{
	sess_open_app(s, ctx, port, "mcpgate-demo");
}

static void
sess_close(struct sess *s)
{
	SSL_free(s->ssl);
	close(s->fd);
	free(s->in);
}

static int	 use_ping;	/* ping instead of tools/call */

static void
sess_send(struct sess *s, unsigned id)
{
	if (use_ping)
		s->outlen = (size_t)snprintf(s->out, sizeof(s->out),
		    "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"ping\"}\n",
		    id);
	else
		s->outlen = (size_t)snprintf(s->out, sizeof(s->out),
		    "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":"
		    "\"tools/call\",\"params\":{\"name\":"
		    "\"mcpgate_user_info\"}}\n", id);
	s->outoff = 0;
	s->sent = now();
	s->busy = 1;
}

/* Push out what is pending; -1 on a dead connection. */
static int
sess_flush(struct sess *s)
{
	int	 n;

	s->want_write = 0;
	while (s->outoff < s->outlen) {
		if ((n = SSL_write(s->ssl, s->out + s->outoff,
		    (int)(s->outlen - s->outoff))) <= 0) {
			if (SSL_get_error(s->ssl, n) == SSL_ERROR_WANT_WRITE) {
				s->want_write = 1;
				return (0);
			}
			if (SSL_get_error(s->ssl, n) == SSL_ERROR_WANT_READ)
				return (0);
			return (-1);
		}
		s->outoff += (size_t)n;
	}
	return (0);
}

/* Answers that came; each records its latency. */
static int
sess_read(struct sess *s, double *lat, size_t *nlat)
{
	char	*nl;
	int	 n, got = 0;

	for (;;) {
		n = SSL_read(s->ssl, s->in + s->inlen,
		    (int)(LINE_MAX_IN - s->inlen));
		if (n <= 0) {
			if (SSL_get_error(s->ssl, n) == SSL_ERROR_WANT_READ)
				break;
			errx(1, "a session ended: %d", SSL_get_error(s->ssl,
			    n));
		}
		s->inlen += (size_t)n;
	}
	while ((nl = memchr(s->in, '\n', s->inlen)) != NULL) {
		*nl = '\0';
		if (strstr(s->in, use_ping ? "\"result\":{}" :
		    "\"structuredContent\"") == NULL)
			errx(1, "not an answer: %.300s", s->in);
		lat[(*nlat)++] = now() - s->sent;
		s->busy = 0;
		got++;
		s->inlen -= (size_t)(nl + 1 - s->in);
		memmove(s->in, nl + 1, s->inlen);
	}
	return (got);
}

struct result {
	double	 p50, p99, rate;
};

/* total calls over nsess sessions, each with one call in flight. */
static struct result
run_calls(SSL_CTX *ctx, int port, size_t nsess, size_t total)
{
	struct result	 r;
	struct sess	*s;
	struct pollfd	*pfd;
	double		*lat, start;
	size_t		 i, sent = 0, nlat = 0;
	unsigned	 id = 1;

	if ((s = calloc(nsess, sizeof(*s))) == NULL ||
	    (pfd = calloc(nsess, sizeof(*pfd))) == NULL ||
	    (lat = calloc(total, sizeof(*lat))) == NULL)
		err(1, NULL);
	for (i = 0; i < nsess; i++)
		sess_open(&s[i], ctx, port);
	start = now();
	for (i = 0; i < nsess && sent < total; i++, sent++) {
		sess_send(&s[i], id++);
		if (sess_flush(&s[i]) == -1)
			errx(1, "write failed");
	}
	while (nlat < total) {
		for (i = 0; i < nsess; i++) {
			pfd[i].fd = s[i].fd;
			pfd[i].events = POLLIN | (s[i].want_write ? POLLOUT :
			    0);
		}
		if (poll(pfd, nsess, 10000) <= 0)
			errx(1, "no answer for 10 s");
		for (i = 0; i < nsess; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (sess_flush(&s[i]) == -1)
				errx(1, "write failed");
			sess_read(&s[i], lat, &nlat);
			if (!s[i].busy && sent < total) {
				sess_send(&s[i], id++);
				sent++;
				if (sess_flush(&s[i]) == -1)
					errx(1, "write failed");
			}
		}
	}
	r.rate = (double)total / (now() - start);
	r.p50 = pct(lat, total, 0.5);
	r.p99 = pct(lat, total, 0.99);
	for (i = 0; i < nsess; i++)
		sess_close(&s[i]);
	free(s);
	free(pfd);
	free(lat);
	return (r);
}

/* --- floors --------------------------------------------------------------- */

struct echo {
	SSL_CTX	*ctx;
	int	 ls;
};

/* One connection; every line is answered by a line. */
static void *
echo_serve(void *arg)
{
	struct echo	*e = arg;
	char		 buf[4096];
	SSL		*ssl;
	int		 fd, n;

	if ((fd = accept(e->ls, NULL, NULL)) == -1)
		err(1, "accept");
	ssl = SSL_new(e->ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		errx(1, "floor: handshake");
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		if (SSL_write(ssl, buf, n) != n)
			break;
	SSL_free(ssl);
	close(fd);
	return (NULL);
}

/*
 * With proc set the echo server is a child process, as a gateway is to
 * its clients; otherwise a thread of this process, which on some
 * virtual machines is much cheaper to wake, since no address space is
 * switched.
 */
static struct result
tls_floor(size_t n, int proc)
{
	struct echo		 e;
	struct sockaddr_in	 sin;
	struct result		 r;
	pthread_t		 th;
	pid_t			 pid = -1;
	SSL_CTX			*cctx;
	SSL			*ssl;
	double			*lat, t;
	char			 line[128], buf[256];
	size_t			 i;
	int			 fd, m, got, k;

	e.ctx = floor_server_ctx();
	e.ls = loopback_listen(&sin);
	if (proc) {
		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid == 0) {
			echo_serve(&e);
			_exit(0);
		}
	} else
		pthread_create(&th, NULL, echo_serve, &e);
	cctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	fd = loopback_connect(ntohs(sin.sin_port));
	ssl = SSL_new(cctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		errx(1, "floor: handshake");
	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		err(1, NULL);
	for (i = 0; i < n; i++) {
		m = snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":"
		    "%zu,\"method\":\"tools/call\"}\n", i);
		t = now();
		if (SSL_write(ssl, line, m) != m)
			errx(1, "floor: write");
		for (got = 0; got < m; got += k)
			if ((k = SSL_read(ssl, buf, sizeof(buf))) <= 0)
				errx(1, "floor: read");
		lat[i] = now() - t;
	}
	SSL_free(ssl);
	close(fd);
	if (proc)
		waitpid(pid, NULL, 0);
	else
		pthread_join(th, NULL);
	close(e.ls);
	r.p50 = pct(lat, n, 0.5);
	r.p99 = pct(lat, n, 0.99);
	r.rate = 1 / r.p50;
	free(lat);
	SSL_CTX_free(cctx);
	SSL_CTX_free(e.ctx);
	return (r);
}

static struct result
fdatasync_floor(const char *dir, size_t n)
{
	struct result	 r;
	double		*lat;
	char		 path[512];

	snprintf(path, sizeof(path), "%s/.mcpbench-floor", dir);
	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		err(1, NULL);
	fdatasync_times(path, 200, lat, n);
	r.p50 = pct(lat, n, 0.5);
	r.p99 = pct(lat, n, 0.99);
	r.rate = 1 / r.p50;
	free(lat);
	return (r);
}

/* --- memory ------------------------------------------------------------- */

static long
rss_kib(const char *pid)
{
	char	 path[64], line[256];
	FILE	*fp;
	long	 kib = -1;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if ((fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(fp);
	return (kib);
}

static void
bench_memory(SSL_CTX *ctx, int port, const char *netd, const char *mcpd,
    size_t n)
{
	struct sess	*s;
	long		 before, after;
	size_t		 i;

	if ((s = calloc(n, sizeof(*s))) == NULL)
		err(1, NULL);
	before = rss_kib(netd) + rss_kib(mcpd);
	for (i = 0; i < n; i++) {
		sess_open(&s[i], ctx, port);
		/* Keep the client small: the read buffer is not needed. */
		free(s[i].in);
		s[i].in = NULL;
	}
	usleep(200000);
	after = rss_kib(netd) + rss_kib(mcpd);
	printf("memory: netd + mcpd resident: %ld KiB idle, %ld KiB with "
	    "%zu idle sessions: %.1f KiB per session (target: at most "
	    "100)\n", before, after, n, (double)(after - before) / (double)n);
	for (i = 0; i < n; i++)
		sess_close(&s[i]);
	free(s);
}

/*
 * The gateway's own memory per session with a stdio server: netd, mcpd,
 * the parent and its spawner, resident, before and with n sessions open,
 * each with its server started (whose own memory is not counted).
 */
static void
bench_memory_app(SSL_CTX *ctx, int port, char *const pids[], size_t npids,
    const char *app, size_t n)
{
	struct sess	*s;
	long		 before = 0, after = 0;
	size_t		 i;

	if ((s = calloc(n, sizeof(*s))) == NULL)
		err(1, NULL);
	for (i = 0; i < npids; i++)
		before += rss_kib(pids[i]);
	for (i = 0; i < n; i++) {
		sess_open_app(&s[i], ctx, port, app);
		free(s[i].in);
		s[i].in = NULL;
	}
	usleep(500000);
	for (i = 0; i < npids; i++)
		after += rss_kib(pids[i]);
	printf("memory: netd + mcpd + parent + spawner resident: %ld KiB "
	    "idle, %ld KiB with %zu sessions of %s, each with its server: "
	    "%.1f KiB per session (target: at most 32)\n", before, after, n,
	    app, (double)(after - before) / (double)n);
	for (i = 0; i < n; i++)
		sess_close(&s[i]);
	free(s);
}

/* The median of the rounds' figures, each field on its own. */
static struct result
median(struct result *v, size_t n)
{
	struct result	 m;
	double		 a[ROUNDS];
	size_t		 i;

	for (i = 0; i < n; i++)
		a[i] = v[i].p50;
	m.p50 = pct(a, n, 0.5);
	for (i = 0; i < n; i++)
		a[i] = v[i].p99;
	m.p99 = pct(a, n, 0.5);
	for (i = 0; i < n; i++)
		a[i] = v[i].rate;
	m.rate = pct(a, n, 0.5);
	return (m);
}

static void
print_seq(const char *what, struct result r)
{
	printf("%s: p50 %.0f us, p99 %.0f us\n", what, r.p50 * 1e6,
	    r.p99 * 1e6);
}

int
main(int argc, char *argv[])
{
	static const size_t conc[] = { 16, 256 };
	struct result	 tls[ROUNDS], tlst[ROUNDS], sync[ROUNDS];
	struct result	 seq[3][ROUNDS], mt, mtt, ms, m[3], r[2][2];
	SSL_CTX		*ctx[2];
	const char	*mode[2] = { "none", "always" };
	size_t		 n = 4000, idle = 1000, i, k, total, per;
	size_t		 app_n = 100, npids = 0;
	char		*app = NULL, *pids[2], *p;
	int		 ch, port[2];

	while ((ch = getopt(argc, argv, "a:i:n:p:s:")) != -1) {
		switch (ch) {
		case 'a':
			app = optarg;
			break;
		case 'p':
			/* The parent's and the spawner's, comma separated. */
			for (p = optarg; npids < 2 && p != NULL;) {
				pids[npids++] = strsep(&p, ",");
			}
			break;
		case 's':
			app_n = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			idle = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = (size_t)strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 7) {
 usage:
		fprintf(stderr, "usage: mcpbench [-n calls] [-i idle] [-a app "
		    "-s sessions -p parent,spawner] auditdir none-home "
		    "none-port always-home always-port netd-pid mcpd-pid\n");
		return (1);
	}
	for (k = 0; k < 2; k++) {
		ctx[k] = client_ctx(argv[1 + 2 * k]);
		port[k] = atoi(argv[2 + 2 * k]);
	}

	/*
	 * Sequential round trips and their floors, measured in turns, so
	 * that what disturbs the machine for a while disturbs them alike;
	 * each figure is the median of the rounds.
	 */
	per = n / 2 / ROUNDS > 50 ? n / 2 / ROUNDS : 50;
	for (i = 0; i < ROUNDS; i++) {
		tls[i] = tls_floor(per, 1);
		tlst[i] = tls_floor(per, 0);
		sync[i] = fdatasync_floor(argv[0], per / 2);
		seq[0][i] = run_calls(ctx[0], port[0], 1, per);
		seq[1][i] = run_calls(ctx[1], port[1], 1, per);
		use_ping = 1;
		seq[2][i] = run_calls(ctx[0], port[0], 1, per);
		use_ping = 0;
	}
	mt = median(tls, ROUNDS);
	mtt = median(tlst, ROUNDS);
	ms = median(sync, ROUNDS);
	for (k = 0; k < 3; k++)
		m[k] = median(seq[k], ROUNDS);
	printf("sequential, %d rounds of %zu, medians:\n", ROUNDS, per);
	print_seq("  floor: one line each way over an open TLS 1.3 "
	    "connection, loopback, server process", mt);
	print_seq("  the same, server thread in the client's process", mtt);
	print_seq("  floor: write + fdatasync of a 200-byte record in the "
	    "audit directory", ms);
	print_seq("  tools/call, fsync none  ", m[0]);
	print_seq("  tools/call, fsync always", m[1]);
	print_seq("  ping, fsync none (audited, not waited for)", m[2]);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 2; i++) {
			total = n * 2 > conc[i] * 8 ? n * 2 : conc[i] * 8;
			r[k][i] = run_calls(ctx[k], port[k], conc[i], total);
			printf("tools/call, fsync %-6s %3zu sessions: p50 %6.0f "
			    "us, p99 %6.0f us, %6.0f calls/s\n", mode[k],
			    conc[i], r[k][i].p50 * 1e6, r[k][i].p99 * 1e6,
			    r[k][i].rate);
		}
	}
	printf("ratio: sequential p50, fsync none, to the TLS floor: %.2f "
	    "(target: at most 2.5; %.2f to the server thread)\n",
	    m[0].p50 / mt.p50, m[0].p50 / mtt.p50);
	printf("ratio: sequential p50, fsync always minus none, in "
	    "fdatasyncs: %.2f (target: at most 1)\n",
	    (m[1].p50 - m[0].p50) / ms.p50);
	printf("ratio: calls/s at 16 sessions, always to none: %.2f\n",
	    r[1][0].rate / r[0][0].rate);
	printf("ratio: calls/s at 256 sessions, always to none: %.2f "
	    "(target: at least 0.5)\n", r[1][1].rate / r[0][1].rate);
	bench_memory(ctx[0], port[0], argv[5], argv[6], idle);
	if (app != NULL && npids == 2) {
		char	*all[4] = { argv[5], argv[6], pids[0], pids[1] };

		bench_memory_app(ctx[0], port[0], all, 4, app, app_n);
	}
	return (0);
}
