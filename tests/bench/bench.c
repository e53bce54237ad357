/*
 * Benchmarks of the daemon's hot paths, each beside a floor measured in
 * the same run:
 *
 *   audit	records appended and committed by auditd's journal, one per
 *		commit and 64 per commit (group commit), for each fsync mode;
 *		floor: one small write plus fdatasync in the same directory
 *   imsg	1 KiB and 16 KiB messages through imsg between two processes;
 *		floor: the same bytes written raw to the socketpair
 *   hello	{"op":"hello"} round trips through a running gateway, each on
 *		a new TLS 1.3 connection; floor: a TLS 1.3 handshake and one
 *		line echoed by a plain OpenSSL server in this process
 *
 *	bench [-n records] [host port cafile]
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../../auditd/auditd.h"
#include "benchlib.h"
#include "imsg.h"
#include "log.h"
#include "wire.h"

/* --- audit ------------------------------------------------------------- */

/* auditd's state, for the journal's acknowledgements: nobody to tell. */
static struct auditd	 fake_auditd;

static double
fdatasync_floor(const char *dir, size_t n, double *p99)
{
	double	*lat, p50;
	char	 path[256];

	snprintf(path, sizeof(path), "%s/floor", dir);
	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		err(1, NULL);
	fdatasync_times(path, 26, lat, n);
	*p99 = pct(lat, n, 0.99);
	p50 = pct(lat, n, 0.5);
	free(lat);
	return (p50);
}

struct audit_result {
	double	 p50, p99, rate;
};

static void
audit_run(const char *base, EVP_PKEY *key, int mode, size_t n, size_t group,
    struct audit_result *r)
{
	struct journal	 j;
	json_t		*rec;
	double		*lat, start, t;
	char		 dir[256];
	size_t		 i, k, nlat = 0;
	int		 dirfd;

	snprintf(dir, sizeof(dir), "%s/audit-%d-%zu", base, mode, group);
	if (mkdir(dir, 0700) == -1 || (dirfd = open(dir, O_RDONLY |
	    O_DIRECTORY)) == -1)
		err(1, "%s", dir);
	auditd = &fake_auditd;	/* mcpd's records; no channel to ack on */
	journal_init(&j, dirfd, key, 1ULL << 40, mode);
	if (journal_recover(&j) == -1)
		errx(1, "journal_recover");
	if ((lat = calloc(n / group + 1, sizeof(*lat))) == NULL)
		err(1, NULL);
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}}", "event",
	    "mcp.session.request", "user", "alice", "app", "mcpgate-demo",
	    "session", "4c1d6b0e-a53c-4e0e-a6b0-0cc1e4d9f0aa", "method",
	    "tools/call", "params", "name", "mcpgate_user_info", "arguments",
	    "{}");
	start = now();
	for (i = 0; i < n; i += group) {
		t = now();
		for (k = 0; k < group && i + k < n; k++)
			if (journal_append(&j, PROC_MCPD, 0, rec, 0) == -1)
				errx(1, "journal_append");
		journal_commit(&j);
		lat[nlat++] = now() - t;
	}
	r->rate = (double)n / (now() - start);
	r->p50 = pct(lat, nlat, 0.5);
	r->p99 = pct(lat, nlat, 0.99);
	json_decref(rec);
	journal_close(&j);
	close(dirfd);
	free(lat);
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

static void
bench_audit(size_t n)
{
	static const char *const names[] = { "always", "batch", "none" };
	static const int modes[] = { AUDIT_FSYNC_ALWAYS, AUDIT_FSYNC_NONE };
	struct audit_result	 seq, grp;
	EVP_PKEY		*key;
	char			 base[] = "/var/tmp/mgbench.XXXXXX";
	double			 floor50, floor99;
	size_t			 m;
	int			 mode;

	if (mkdtemp(base) == NULL)
		err(1, "mkdtemp");
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		errx(1, "keygen");
	floor50 = fdatasync_floor(base, n < 2000 ? n : 2000, &floor99);
	printf("audit: floor, write + fdatasync of a small record in %s: "
	    "p50 %.1f us, p99 %.1f us\n", base, floor50 * 1e6, floor99 * 1e6);
	/* batch syncs on a timer of the event loop, which this lacks. */
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		mode = modes[m];
		audit_run(base, key, mode, n, 1, &seq);
		audit_run(base, key, mode, n, 64, &grp);
		printf("audit: fsync %-6s one record per commit: %8.0f "
		    "records/s, p50 %7.1f us (%.2f x floor), p99 %7.1f us\n",
		    names[mode], seq.rate, seq.p50 * 1e6, seq.p50 / floor50,
		    seq.p99 * 1e6);
		printf("audit: fsync %-6s 64 records per commit:  %8.0f "
		    "records/s (%.1f x one per commit)\n", names[mode],
		    grp.rate, grp.rate / seq.rate);
	}
	EVP_PKEY_free(key);
	if (nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		warn("could not remove %s", base);
}

/* --- imsg --------------------------------------------------------------- */

static double
imsg_run(size_t msgsize, size_t total, int raw)
{
	struct imsgbuf	 ib;
	struct imsg	 imsg;
	char		*buf;
	size_t		 got = 0, sent = 0;
	double		 start;
	ssize_t		 n;
	pid_t		 pid;
	int		 sp[2], status;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		err(1, "socketpair");
	if ((buf = calloc(1, msgsize)) == NULL)
		err(1, NULL);
	if ((pid = fork()) == 0) {
		close(sp[0]);
		if (raw) {
			while (sent < total) {
				if ((n = write(sp[1], buf, total - sent <
				    msgsize ? total - sent : msgsize)) <= 0)
					_exit(1);
				sent += (size_t)n;
			}
		} else {
			if (imsgbuf_init(&ib, sp[1]) == -1)
				_exit(1);
			imsgbuf_set_maxmsg(&ib, 2 * 1024 * 1024);
			for (; sent < total; sent += n) {
				n = (ssize_t)(total - sent < msgsize ?
				    total - sent : msgsize);
				if (imsg_compose(&ib, 1, 0, 0, -1, buf,
				    (size_t)n) == -1)
					_exit(1);
				if (imsgbuf_queuebytes(&ib) > 1024 * 1024 &&
				    imsgbuf_flush(&ib) == -1)
					_exit(1);
			}
			if (imsgbuf_flush(&ib) == -1)
				_exit(1);
			imsgbuf_clear(&ib);
		}
		_exit(0);
	}
	close(sp[1]);
	start = now();
	if (raw) {
		while ((n = read(sp[0], buf, msgsize)) > 0)
			got += (size_t)n;
	} else {
		if (imsgbuf_init(&ib, sp[0]) == -1)
			err(1, "imsgbuf_init");
		imsgbuf_set_maxmsg(&ib, 2 * 1024 * 1024);
		for (;;) {
			struct pollfd	 pfd = { sp[0], POLLIN, 0 };

			if (poll(&pfd, 1, -1) == -1)
				err(1, "poll");
			if ((n = imsgbuf_read(&ib)) == -1)
				err(1, "imsgbuf_read");
			if (n == 0)
				break;
			while (imsgbuf_get(&ib, &imsg) == 1) {
				got += imsg_get_len(&imsg);
				imsg_free(&imsg);
			}
		}
		imsgbuf_clear(&ib);
	}
	waitpid(pid, &status, 0);
	close(sp[0]);
	free(buf);
	if (got != total)
		errx(1, "imsg: got %zu of %zu bytes", got, total);
	return ((double)total / (now() - start) / (1024 * 1024));
}

static void
bench_imsg(void)
{
	size_t	 sizes[] = { 1024, 16 * 1024 - IMSG_HEADER_SIZE, 1024 * 1024 };
	size_t	 total = 512 * 1024 * 1024, i;
	double	 r, m;

	/* The floor: the same bytes in 64 KiB writes, the best case. */
	r = imsg_run(65536, total, 1);
	printf("imsg: floor, raw 64 KiB writes to a socketpair: %.0f MiB/s\n",
	    r);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		m = imsg_run(sizes[i], total, 0);
		printf("imsg: %7zu-byte messages: %6.0f MiB/s (%.2f of the "
		    "floor)\n", sizes[i], m, m / r);
	}
}

/* --- hello ---------------------------------------------------------------- */

static SSL_CTX *
client_ctx(const char *cafile)
{
	SSL_CTX		*ctx;
	static const unsigned char alpn[] = WIRE_ALPN_PROTOS;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		errx(1, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (cafile != NULL &&
	    SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		errx(1, "%s", cafile);
	SSL_CTX_set_verify(ctx, cafile != NULL ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return (ctx);
}

/* One new TLS connection, one line out, one line back. */
static double
round_trip(SSL_CTX *ctx, const struct sockaddr_in *sin)
{
	char	 buf[8192];
	double	 t = now();
	SSL	*ssl;
	int	 fd, n, len = 0;

	fd = loopback_connect(ntohs(sin->sin_port));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		errx(1, "handshake failed");
	if (SSL_write(ssl, "{\"op\":\"hello\"}\n", 15) != 15)
		errx(1, "write failed");
	while (len < (int)sizeof(buf) &&
	    (n = SSL_read(ssl, buf + len, (int)sizeof(buf) - len)) > 0) {
		len += n;
		if (memchr(buf, '\n', (size_t)len) != NULL)
			break;
	}
	if (len == 0)
		errx(1, "no answer");
	t = now() - t;
	SSL_free(ssl);
	close(fd);
	return (t);
}

struct floor_server {
	SSL_CTX		*ctx;
	int		 ls;
	size_t		 n;
};

/* The floor: a plain TLS 1.3 server answering one line per connection. */
static void *
floor_serve(void *arg)
{
	struct floor_server	*fs = arg;
	char			 buf[512];
	size_t			 i;
	SSL			*ssl;
	int			 fd, n;

	for (i = 0; i < fs->n; i++) {
		if ((fd = accept(fs->ls, NULL, NULL)) == -1)
			err(1, "accept");
		ssl = SSL_new(fs->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1 &&
		    (n = SSL_read(ssl, buf, sizeof(buf))) > 0)
			SSL_write(ssl, "{\"ok\":true}\n", 12);
		SSL_shutdown(ssl);
		SSL_free(ssl);
		close(fd);
	}
	return (NULL);
}

static double
floor_round_trip(size_t n, double *p99)
{
	struct floor_server	 fs;
	struct sockaddr_in	 sin;
	pthread_t		 th;
	SSL_CTX			*cctx;
	double			*lat, p50;
	size_t			 i;

	fs.ctx = floor_server_ctx();
	SSL_CTX_set_num_tickets(fs.ctx, 0);
	fs.n = n;
	fs.ls = loopback_listen(&sin);
	pthread_create(&th, NULL, floor_serve, &fs);
	cctx = client_ctx(NULL);
	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		err(1, NULL);
	for (i = 0; i < n; i++)
		lat[i] = round_trip(cctx, &sin);
	pthread_join(th, NULL);
	*p99 = pct(lat, n, 0.99);
	p50 = pct(lat, n, 0.5);
	free(lat);
	close(fs.ls);
	SSL_CTX_free(cctx);
	SSL_CTX_free(fs.ctx);
	return (p50);
}

static void
bench_hello(const char *host, const char *port, const char *cafile, size_t n)
{
	struct addrinfo		 hints, *res;
	struct sockaddr_in	 sin;
	SSL_CTX			*ctx;
	double			*lat, floor50, floor99, p50, p99, start, rate;
	size_t			 i;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		errx(1, "%s:%s", host, port);
	memcpy(&sin, res->ai_addr, sizeof(sin));
	freeaddrinfo(res);

	floor50 = floor_round_trip(n, &floor99);
	ctx = client_ctx(cafile);
	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		err(1, NULL);
	start = now();
	for (i = 0; i < n; i++)
		lat[i] = round_trip(ctx, &sin);
	rate = (double)n / (now() - start);
	p50 = pct(lat, n, 0.5);
	p99 = pct(lat, n, 0.99);
	printf("hello: floor, TLS 1.3 handshake + one line, plain OpenSSL: "
	    "p50 %.0f us, p99 %.0f us\n", floor50 * 1e6, floor99 * 1e6);
	printf("hello: through mcpgated (netd, mcpd, back): p50 %.0f us "
	    "(%.2f x floor), p99 %.0f us, %.0f connections/s\n", p50 * 1e6,
	    p50 / floor50, p99 * 1e6, rate);
	free(lat);
	SSL_CTX_free(ctx);
}

int
main(int argc, char *argv[])
{
	size_t	 n = 5000;
	int	 ch;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch != 'n')
			errx(1, "usage: bench [-n records] [host port cafile]");
		n = (size_t)strtoul(optarg, NULL, 10);
	}
	argc -= optind;
	argv += optind;
	json_object_seed(0);
	log_setlevel(LOG_LVL_WARNING);
	bench_audit(n);
	bench_imsg();
	if (argc == 3)
		bench_hello(argv[0], argv[1], argv[2], n / 5 > 200 ? n / 5 :
		    200);
	return (0);
}
