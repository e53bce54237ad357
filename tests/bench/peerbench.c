/*
 * The peers benchmark: tools/call echo to the reference server-everything
 * through each target, with a minimal JSON-RPC client of its own (no SDK),
 * sequentially in one session and with several sessions each keeping one
 * call in flight, and what each proxy adds over the first target.
 *
 *	peerbench [-n calls] [-c sessions] [-r rounds] [-w warmup]
 *	    [-f floor] [-x reference] [-H gateway,direct,stdio-gateway]
 *	    -t label=stdio:command [arg ...]
 *	    -t label=http://127.0.0.1:port/path ...
 *	peerbench -p
 *
 * A stdio target is a command (split on spaces; no quoting, no shell) run
 * once per session with pipes on its stdin and stdout: the server itself,
 * or a bridge to it such as `mcpgate mcp connect NAME` (`env NAME=VALUE
 * cmd` sets its environment).  An http target is a Streamable HTTP
 * endpoint on loopback (supergateway --stateful in front of the server):
 * each session is one keep-alive connection and one Mcp-Session-Id, each
 * call a POST whose answer is JSON or an SSE stream.  The first target is
 * the baseline (the server over stdio, direct); -x names the proxy that
 * the others are compared with (default: supergateway); -f names the
 * floor, the same server behind processes that only pass bytes along the
 * hops of the gateway (relaychain): what a gateway of that shape adds
 * before doing any work, so that the figures above it are its own.  -H
 * names a gateway in front of an HTTP server, that server reached
 * directly, and the gateway in front of the same server over stdio: what
 * the first adds over the second is set against what the third adds over
 * the baseline plus one loopback HTTP round trip (the direct HTTP
 * target's latency less the baseline's).  -p prints a free loopback port
 * and exits.
 *
 * Rounds run the targets in turns, so that what disturbs the machine for a
 * while disturbs them alike; each figure is the median of the rounds.
 * Every wait is bounded (10 s), and so is every count.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define MAX_TARGETS	8
#define MAX_SESSIONS	64
#define MAX_ARGS	32
#define BUF_MAX		(1024 * 1024)
#define WAIT_MS		10000
#define PROTO_VERSION	"2025-11-25"

static const char init_body[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
    "\"initialize\",\"params\":{\"protocolVersion\":\"" PROTO_VERSION "\","
    "\"capabilities\":{},\"clientInfo\":{\"name\":\"peerbench\","
    "\"version\":\"1\"}}}";
static const char initialized_body[] = "{\"jsonrpc\":\"2.0\",\"method\":"
    "\"notifications/initialized\"}";

enum kind { STDIO, HTTP };

struct target {
	const char	*label;
	enum kind	 kind;
	char		*argv[MAX_ARGS];	/* stdio */
	int		 port;			/* http */
	char		 path[256];
};

struct sess {
	struct target	*t;
	pid_t		 pid;		/* stdio */
	int		 wfd, rfd;	/* the same socket for http */
	char		 sid[128];	/* http: Mcp-Session-Id */
	char		*in;
	size_t		 inlen;
	unsigned	 id;
};

struct result {
	double	 p50, p99, rate;
};

/* --- I/O, bounded ----------------------------------------------------- */

static void
write_all(int fd, const char *p, size_t n, const char *what)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s: write", what);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* More input into s->in; fatal on EOF or after WAIT_MS. */
static void
fill(struct sess *s, const char *what)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	if (s->inlen >= BUF_MAX - 1)
		errx(1, "%s: an answer over %d bytes", what, BUF_MAX);
	pfd.fd = s->rfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, WAIT_MS) <= 0)
		errx(1, "%s: no answer within %d s", what, WAIT_MS / 1000);
	if ((n = read(s->rfd, s->in + s->inlen, BUF_MAX - 1 - s->inlen)) ==
	    -1)
		err(1, "%s: read", what);
	if (n == 0)
		errx(1, "%s: the peer closed", what);
	s->inlen += (size_t)n;
	s->in[s->inlen] = '\0';
}

static void
consume(struct sess *s, size_t n)
{
	s->inlen -= n;
	memmove(s->in, s->in + n, s->inlen);
	s->in[s->inlen] = '\0';
}

/*
 * Does this JSON-RPC message answer id with a result?  An error answer is
 * fatal; anything else (a notification, a request of the server's) is not
 * the answer.  Bench-only: the server's writer puts no space after ':'.
 */
static int
answers(const char *msg, size_t len, unsigned id)
{
	char	 a[32], b[32];

	snprintf(a, sizeof(a), "\"id\":%u,", id);
	snprintf(b, sizeof(b), "\"id\":%u}", id);
	if (memmem(msg, len, a, strlen(a)) == NULL &&
	    memmem(msg, len, b, strlen(b)) == NULL)
		return (0);
	if (memmem(msg, len, "\"result\"", 8) != NULL)
		return (1);
	if (memmem(msg, len, "\"error\"", 7) != NULL)
		errx(1, "an error for id %u: %.*s", id, (int)(len > 300 ? 300 :
		    len), msg);
	return (0);
}

/* --- stdio ------------------------------------------------------------- */

static void
stdio_open(struct sess *s)
{
	int	 in[2], out[2], null;

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		err(1, "pipe");
	if ((s->pid = fork()) == -1)
		err(1, "fork");
	if (s->pid == 0) {
		if ((null = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1 ||
		    dup2(null, 2) == -1)
			_exit(127);
		execvp(s->t->argv[0], s->t->argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->wfd = in[1];
	s->rfd = out[0];
}

/* Send one line; read lines until the one that answers id. */
static void
stdio_call(struct sess *s, const char *body, unsigned id)
{
	char	*nl;
	size_t	 n;

	write_all(s->wfd, body, strlen(body), s->t->label);
	write_all(s->wfd, "\n", 1, s->t->label);
	if (id == 0 && strstr(body, "\"id\"") == NULL)
		return;		/* a notification */
	for (;;) {
		while ((nl = memchr(s->in, '\n', s->inlen)) != NULL) {
			n = (size_t)(nl - s->in);
			if (answers(s->in, n, id)) {
				consume(s, n + 1);
				return;
			}
			consume(s, n + 1);	/* a notification: skip */
		}
		fill(s, s->t->label);
	}
}

/* --- Streamable HTTP --------------------------------------------------- */

static void
http_open(struct sess *s)
{
	s->rfd = s->wfd = loopback_connect(s->t->port);
}

/*
 * Node's HTTP server closes a keep-alive connection idle for 5 s: before a
 * run (outside its timing), a session whose connection the server closed
 * opens a new one, as an HTTP client's pool would.  The MCP session is the
 * Mcp-Session-Id, not the connection.
 */
static void
http_ready(struct sess *s)
{
	struct pollfd	 pfd;
	char		 c;

	pfd.fd = s->rfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) == 0)
		return;
	if (recv(s->rfd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		errx(1, "%s: unexpected bytes between calls", s->t->label);
	close(s->rfd);
	s->inlen = 0;
	s->in[0] = '\0';
	s->rfd = s->wfd = loopback_connect(s->t->port);
}

/* The value of header name in the head [p, p + n), or NULL. */
static const char *
header(const char *head, const char *name, char *buf, size_t bufsz)
{
	const char	*p = head, *e;
	size_t		 nl = strlen(name), vl;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			if ((e = strstr(p, "\r\n")) == NULL)
				return (NULL);
			vl = (size_t)(e - p) < bufsz - 1 ? (size_t)(e - p) :
			    bufsz - 1;
			memcpy(buf, p, vl);
			buf[vl] = '\0';
			return (buf);
		}
	}
	return (NULL);
}

/*
 * POST body; read the whole response (Content-Length or chunked) and, when
 * id is not 0 or the body is a request, check that it answers id.  The
 * answer is JSON or an SSE stream whose data lines are JSON-RPC messages.
 */
static void
http_call(struct sess *s, const char *body, unsigned id)
{
	char		 req[1024], hv[256], *hend, *body_in, *p, *e;
	size_t		 hlen, blen, clen, off, csz;
	int		 n, status, chunked, notification;

	notification = strstr(body, "\"id\"") == NULL;
	n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n"
	    "Content-Type: application/json\r\n"
	    "Accept: application/json, text/event-stream\r\n"
	    "%s%s%s"
	    "%s"
	    "Content-Length: %zu\r\n\r\n", s->t->path, s->t->port,
	    s->sid[0] ? "Mcp-Session-Id: " : "", s->sid,
	    s->sid[0] ? "\r\n" : "",
	    s->sid[0] ? "Mcp-Protocol-Version: " PROTO_VERSION "\r\n" : "",
	    strlen(body));
	if (n < 0 || (size_t)n >= sizeof(req))
		errx(1, "request head too long");
	write_all(s->wfd, req, (size_t)n, s->t->label);
	write_all(s->wfd, body, strlen(body), s->t->label);

	while ((hend = strstr(s->in, "\r\n\r\n")) == NULL)
		fill(s, s->t->label);
	hlen = (size_t)(hend - s->in) + 4;
	hend[2] = '\0';		/* the head, for header() */
	if (sscanf(s->in, "HTTP/1.1 %d", &status) != 1)
		errx(1, "%s: not HTTP: %.100s", s->t->label, s->in);
	if (status != 200 && status != 202)
		errx(1, "%s: HTTP %d: %.300s", s->t->label, status, s->in);
	if (header(s->in, "mcp-session-id", hv, sizeof(hv)) != NULL &&
	    s->sid[0] == '\0')
		strlcpy(s->sid, hv, sizeof(s->sid));
	chunked = header(s->in, "transfer-encoding", hv, sizeof(hv)) !=
	    NULL && strcasestr(hv, "chunked") != NULL;
	clen = header(s->in, "content-length", hv, sizeof(hv)) != NULL ?
	    strtoul(hv, NULL, 10) : 0;
	hend[2] = '\r';

	/* The body, de-chunked in place after the head. */
	if (!chunked) {
		while (s->inlen < hlen + clen)
			fill(s, s->t->label);
		blen = clen;
		off = hlen + clen;
	} else {
		blen = 0;
		off = hlen;
		for (;;) {
			while ((p = memmem(s->in + off, s->inlen - off, "\r\n",
			    2)) == NULL)
				fill(s, s->t->label);
			csz = strtoul(s->in + off, NULL, 16);
			while (s->inlen < (size_t)(p - s->in) + 2 + csz + 2)
				fill(s, s->t->label);
			memmove(s->in + hlen + blen, p + 2, csz);
			blen += csz;
			off = (size_t)(p - s->in) + 2 + csz + 2;
			if (csz == 0)
				break;
			/* The bytes after this chunk, moved up to off. */
		}
	}
	body_in = s->in + hlen;
	if (!notification) {
		/* JSON, or SSE: "data: {...}" lines. */
		p = body_in;
		e = body_in + blen;
		for (;;) {
			if (p >= e)
				errx(1, "%s: no answer to id %u in: %.300s",
				    s->t->label, id, body_in);
			if (strncmp(p, "data: ", 6) == 0 || *p == '{') {
				char *le = memchr(p, '\n', (size_t)(e - p));
				size_t ll = le ? (size_t)(le - p) :
				    (size_t)(e - p);

				if (answers(p, ll, id))
					break;
			}
			if ((p = memchr(p, '\n', (size_t)(e - p))) == NULL)
				p = e;
			else
				p++;
		}
	}
	consume(s, off);
}

/* --- sessions ---------------------------------------------------------- */

static void
sess_call(struct sess *s, const char *body, unsigned id)
{
	if (s->t->kind == STDIO)
		stdio_call(s, body, id);
	else
		http_call(s, body, id);
}

static void
sess_open(struct sess *s, struct target *t)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->pid = -1;
	if ((s->in = malloc(BUF_MAX)) == NULL)
		err(1, NULL);
	s->in[0] = '\0';
	if (t->kind == STDIO)
		stdio_open(s);
	else
		http_open(s);
	sess_call(s, init_body, 0);
	sess_call(s, initialized_body, 0);
	s->id = 1;
}

static void
sess_close(struct sess *s)
{
	int	 i, status;

	close(s->wfd);
	if (s->rfd != s->wfd)
		close(s->rfd);
	if (s->pid > 0) {
		/* EOF on stdin first; then SIGTERM, SIGKILL. */
		for (i = 0; i < 50; i++) {
			if (waitpid(s->pid, &status, WNOHANG) == s->pid)
				break;
			if (i == 20)
				kill(s->pid, SIGTERM);
			if (i == 40)
				kill(s->pid, SIGKILL);
			usleep(50000);
		}
		if (i == 50)
			waitpid(s->pid, &status, 0);
	}
	free(s->in);
}

/* One echo call; its latency. */
static double
echo_call(struct sess *s)
{
	char	 body[256];
	double	 t;
	unsigned id = s->id++;

	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%u,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
	    "\"arguments\":{\"message\":\"peerbench %u\"}}}", id, id);
	t = now();
	sess_call(s, body, id);
	return (now() - t);
}

/* --- runs -------------------------------------------------------------- */

struct worker {
	struct sess	*s;
	double		*lat;
	size_t		 n;
	pthread_t	 th;
};

static void *
work(void *arg)
{
	struct worker	*w = arg;
	size_t		 i;

	for (i = 0; i < w->n; i++)
		w->lat[i] = echo_call(w->s);
	return (NULL);
}

/* total calls over nsess sessions, each with one call in flight. */
static struct result
run(struct sess *s, size_t nsess, size_t total)
{
	struct worker	 w[MAX_SESSIONS];
	struct result	 r;
	double		*lat, start;
	size_t		 i, per = total / nsess;

	if ((lat = calloc(per * nsess, sizeof(*lat))) == NULL)
		err(1, NULL);
	for (i = 0; i < nsess; i++)
		if (s[i].t->kind == HTTP)
			http_ready(&s[i]);
	start = now();
	for (i = 0; i < nsess; i++) {
		w[i].s = &s[i];
		w[i].lat = lat + i * per;
		w[i].n = per;
		if (nsess == 1)
			work(&w[i]);
		else if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0)
			errx(1, "pthread_create");
	}
	if (nsess > 1)
		for (i = 0; i < nsess; i++)
			pthread_join(w[i].th, NULL);
	r.rate = (double)(per * nsess) / (now() - start);
	r.p50 = pct(lat, per * nsess, 0.5);
	r.p99 = pct(lat, per * nsess, 0.99);
	free(lat);
	return (r);
}

static struct result
median(struct result *v, size_t n)
{
	struct result	 m;
	double		 a[64];
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

/* --- targets ----------------------------------------------------------- */

static void
parse_target(struct target *t, char *spec)
{
	char	*eq, *p, *tok;
	int	 n = 0;

	if ((eq = strchr(spec, '=')) == NULL || eq == spec)
		errx(1, "-t %s: want label=stdio:command or label=http://...",
		    spec);
	*eq = '\0';
	t->label = spec;
	p = eq + 1;
	if (strncmp(p, "stdio:", 6) == 0) {
		t->kind = STDIO;
		for (p += 6; (tok = strsep(&p, " ")) != NULL;) {
			if (*tok == '\0')
				continue;
			if (n == MAX_ARGS - 1)
				errx(1, "-t %s: too many arguments", t->label);
			t->argv[n++] = tok;
		}
		if (n == 0)
			errx(1, "-t %s: no command", t->label);
		t->argv[n] = NULL;
	} else if (sscanf(p, "http://127.0.0.1:%d%255s", &t->port, t->path) ==
	    2 && t->port > 0 && t->port < 65536 && t->path[0] == '/')
		t->kind = HTTP;
	else
		errx(1, "-t %s: %s: not stdio:command nor "
		    "http://127.0.0.1:port/path (loopback only)", t->label, p);
}

static int
free_port(void)
{
	struct sockaddr_in	 sin;
	int			 fd = loopback_listen(&sin);

	close(fd);
	return (ntohs(sin.sin_port));
}

static void
usage(void)
{
	fprintf(stderr, "usage: peerbench [-n calls] [-c sessions] "
	    "[-r rounds] [-w warmup] [-f floor] [-x reference]\n"
	    "\t[-H gateway,direct,stdio-gateway]\n"
	    "\t-t label=stdio:command ... -t label=http://127.0.0.1:port/path"
	    " ...\n       peerbench -p\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static struct target	 t[MAX_TARGETS];
	static struct sess	 s[MAX_TARGETS][MAX_SESSIONS];
	static struct result	 seq[MAX_TARGETS][64], con[MAX_TARGETS][64];
	struct result		 ms[MAX_TARGETS], mc[MAX_TARGETS];
	const char		*ref = "supergateway", *flabel = NULL;
	char			*hopt = NULL, *hl[3];
	size_t			 n = 2000, conc = 16, rounds = 5, warm = 50;
	size_t			 nt = 0, i, k, r, per, total;
	double			 t0;
	char			 cp50[32];
	int			 ch, x = -1, f = -1, h[3] = { -1, -1, -1 };
	double			 add, allow, rt;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "c:f:H:n:pr:t:w:x:")) != -1) {
		switch (ch) {
		case 'c':
			conc = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			flabel = optarg;
			break;
		case 'H':
			hopt = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			printf("%d\n", free_port());
			return (0);
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 't':
			if (nt == MAX_TARGETS)
				errx(1, "at most %d targets", MAX_TARGETS);
			parse_target(&t[nt++], optarg);
			break;
		case 'w':
			warm = strtoul(optarg, NULL, 10);
			break;
		case 'x':
			ref = optarg;
			break;
		default:
			usage();
		}
	}
	if (nt == 0 || optind != argc)
		usage();
	if (conc < 1 || conc > MAX_SESSIONS || rounds < 1 || rounds > 64 ||
	    n < rounds * conc || n > 10000000)
		errx(1, "want 1 <= sessions <= %d, 1 <= rounds <= 64 and "
		    "rounds * sessions <= calls", MAX_SESSIONS);
	for (k = 0; k < nt; k++) {
		if (strcmp(t[k].label, ref) == 0)
			x = (int)k;
		if (flabel != NULL && strcmp(t[k].label, flabel) == 0)
			f = (int)k;
	}
	if (hopt != NULL) {
		hl[0] = strsep(&hopt, ",");
		hl[1] = strsep(&hopt, ",");
		hl[2] = strsep(&hopt, ",");
		for (i = 0; i < 3; i++)
			for (k = 1; hl[i] != NULL && k < nt; k++)
				if (strcmp(t[k].label, hl[i]) == 0)
					h[i] = (int)k;
		if (h[0] == -1 || h[1] == -1 || h[2] == -1 || hopt != NULL)
			errx(1, "-H: three labels of targets other than the "
			    "first, comma-separated");
	}

	/* Every session of every target, open and warm. */
	for (k = 0; k < nt; k++) {
		t0 = now();
		for (i = 0; i < conc; i++) {
			sess_open(&s[k][i], &t[k]);
			for (r = 0; r < warm; r++)
				echo_call(&s[k][i]);
		}
		fprintf(stderr, "peerbench: %s: %zu sessions open and warm in "
		    "%.1f s\n", t[k].label, conc, now() - t0);
	}

	per = n / 2 / rounds;
	total = n / 2 / rounds / conc * conc;
	if (total < conc)
		total = conc;
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < nt; k++)
			seq[k][r] = run(s[k], 1, per);
		for (k = 0; k < nt; k++)
			con[k][r] = run(s[k], conc, total);
	}
	for (k = 0; k < nt; k++) {
		ms[k] = median(seq[k], rounds);
		mc[k] = median(con[k], rounds);
	}

	printf("tools/call echo, %zu rounds of %zu sequential calls and %zu "
	    "calls over %zu sessions, medians:\n", rounds, per, total, conc);
	snprintf(cp50, sizeof(cp50), "x%zu p50", conc);
	printf("  %-28s %9s %9s %9s   %9s %9s %9s\n", "", "seq p50", "p99",
	    "calls/s", cp50, "p99", "calls/s");
	for (k = 0; k < nt; k++)
		printf("  %-28s %6.0f us %6.0f us %9.0f   %6.0f us %6.0f us "
		    "%9.0f\n", t[k].label, ms[k].p50 * 1e6, ms[k].p99 * 1e6,
		    ms[k].rate, mc[k].p50 * 1e6, mc[k].p99 * 1e6, mc[k].rate);
	for (k = 1; k < nt; k++)
		printf("added over %s by %s: seq p50 %+.0f us, p99 %+.0f us; "
		    "x%zu p50 %+.0f us, p99 %+.0f us\n"
		    "ratio: %s to %s: seq p50 %.2f, p99 %.2f; x%zu p50 %.2f, "
		    "p99 %.2f, calls/s %.2f\n", t[0].label, t[k].label,
		    (ms[k].p50 - ms[0].p50) * 1e6,
		    (ms[k].p99 - ms[0].p99) * 1e6, conc,
		    (mc[k].p50 - mc[0].p50) * 1e6,
		    (mc[k].p99 - mc[0].p99) * 1e6, t[k].label, t[0].label,
		    ms[k].p50 / ms[0].p50, ms[k].p99 / ms[0].p99, conc,
		    mc[k].p50 / mc[0].p50, mc[k].p99 / mc[0].p99,
		    mc[k].rate / mc[0].rate);
	for (k = 1; f > 0 && k < nt; k++) {
		if ((int)k == f || (int)k == x)
			continue;
		printf("ratio: %s's added to %s's added: seq p50 %.2f, p99 "
		    "%.2f; x%zu p50 %.2f, p99 %.2f\n", t[k].label, flabel,
		    (ms[k].p50 - ms[0].p50) / (ms[f].p50 - ms[0].p50),
		    (ms[k].p99 - ms[0].p99) / (ms[f].p99 - ms[0].p99), conc,
		    (mc[k].p50 - mc[0].p50) / (mc[f].p50 - mc[0].p50),
		    (mc[k].p99 - mc[0].p99) / (mc[f].p99 - mc[0].p99));
	}
	for (k = 1; x > 0 && k < nt; k++) {
		if ((int)k == x)
			continue;
		/* The floor's ratio is the least any target of its shape has. */
		printf("ratio: %s's added to %s's added: seq p50 %.3f "
		    "(target: at most 1/6 = 0.167), p99 %.3f (target: at most "
		    "1/10); x%zu p50 %.3f, p99 %.3f%s\n", t[k].label, ref,
		    (ms[k].p50 - ms[0].p50) / (ms[x].p50 - ms[0].p50),
		    (ms[k].p99 - ms[0].p99) / (ms[x].p99 - ms[0].p99), conc,
		    (mc[k].p50 - mc[0].p50) / (mc[x].p50 - mc[0].p50),
		    (mc[k].p99 - mc[0].p99) / (mc[x].p99 - mc[0].p99),
		    (int)k == f ? "; the least the gateway's hops allow here" :
		    "");
	}
	for (i = 0; h[0] != -1 && i < 2; i++) {
		/* p50, then p99, of the sequential calls. */
		add = i == 0 ? ms[h[0]].p50 - ms[h[1]].p50 :
		    ms[h[0]].p99 - ms[h[1]].p99;
		rt = i == 0 ? ms[h[1]].p50 - ms[0].p50 :
		    ms[h[1]].p99 - ms[0].p99;
		allow = (i == 0 ? ms[h[2]].p50 - ms[0].p50 :
		    ms[h[2]].p99 - ms[0].p99) + (rt > 0 ? rt : 0);
		printf("added over %s by %s: seq %s %+.0f us; target: at most "
		    "%s's added over %s plus one HTTP round trip (%s less "
		    "%s), %+.0f us: %s\n", t[h[1]].label, t[h[0]].label,
		    i == 0 ? "p50" : "p99", add * 1e6, t[h[2]].label,
		    t[0].label, t[h[1]].label, t[0].label, allow * 1e6,
		    add <= allow ? "met" : "not met");
	}
	fflush(stdout);
	for (k = 0; k < nt; k++)
		for (i = 0; i < conc; i++)
			sess_close(&s[k][i]);
	return (0);
}
