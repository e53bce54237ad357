/*
 * Drives netd's HTTP client (netd/http.c) as the parent and mcpd do,
 * in one process under netd's own sandbox (Landlock and seccomp, as
 * netd_sandbox_enter makes it; no user switch): one origin and one
 * session from the options, then one request for each line of standard
 * input, printing what mcpd would receive.
 *
 *   httpprobe -h host -p port [-t] [-c cafile] [-k] [-T timeout_ms]
 *       [-H "Name: value"] [-n]
 *
 * -t: https; -c: the origin's CA certificates (default: none, so that
 * no certificate verifies); -k: insecure_skip_verify; -H: an identity
 * header of the session (repeatable); -n: no sandbox.  A line is
 * "METHOD PATH [BODY]", or "HOLD METHOD PATH [BODY]" to acknowledge no
 * body bytes until DONE or until 2 s pass (then all of them).  For each
 * request it prints
 *
 *	head STATUS CTYPE SESSION-ID|-
 *	body BYTES
 *	done ERROR MESSAGE
 *
 * and, with HOLD, "held N" before acknowledging: what netd sent while
 * nothing was acknowledged.  Names are looked up by the real resolver,
 * which it starts as netd's peer (-x mcpgated).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "child.h"
#include "ev.h"
#include "log.h"
#include "../../netd/netd.h"

static struct netd	 probe_netd;
static struct imsgbuf	 mcpd_end;
static struct event	 mcpd_ev;
static uint64_t		 reqid, body_bytes, held;
static char		 text[512];	/* the start of the body */
static size_t		 textlen;
static int		 holding;
static struct ev_timer	 hold_timer;

static void
ack(uint64_t bytes)
{
	struct http_ack	 a;

	memset(&a, 0, sizeof(a));
	a.r.key.conn = 1;
	a.r.key.ref.serial = 1;
	a.r.reqid = reqid;
	a.bytes = bytes;
	if (imsg_compose(&mcpd_end, IMSG_HTTP_ACK, 1, 0, -1, &a,
	    sizeof(a)) != 1 || imsgbuf_flush(&mcpd_end) == -1)
		err(1, "ack");
}

static void
hold_end(void *arg)
{
	(void)arg;
	if (holding) {
		printf("held %llu\n", (unsigned long long)held);
		holding = 0;
		ack(held);
	}
}

static void
mcpd_read(int fd, short events, void *arg)
{
	struct imsg		 imsg;
	struct http_head	 h;
	struct http_done	 d;
	const void		*data;
	size_t			 len, blen, k;
	ssize_t			 n;

	(void)fd;
	(void)events;
	(void)arg;
	if ((n = imsgbuf_read(&mcpd_end)) == -1 || n == 0)
		errx(1, "netd's channel");
	while (imsgbuf_get(&mcpd_end, &imsg) == 1) {
		switch (imsg_get_type(&imsg)) {
		case IMSG_HTTP_HEAD:
			if (imsg_get_data(&imsg, &h, sizeof(h)) == -1)
				errx(1, "head size");
			h.session_id[sizeof(h.session_id) - 1] = '\0';
			printf("head %d %d %s\n", h.status, h.ctype,
			    h.session_id[0] != '\0' ? h.session_id : "-");
			break;
		case IMSG_HTTP_BODY:
			len = imsg_get_len(&imsg) - sizeof(struct http_ref);
			body_bytes += len;
			imsg_get_buf(&imsg, &data, &blen);
			k = sizeof(text) - 1 - textlen;
			if (k > len)
				k = len;
			memcpy(text + textlen, (const char *)data +
			    sizeof(struct http_ref), k);
			textlen += k;
			if (holding)
				held += len;
			else
				ack(len);
			break;
		case IMSG_HTTP_DONE:
			if (imsg_get_data(&imsg, &d, sizeof(d)) == -1)
				errx(1, "done size");
			hold_end(NULL);
			d.message[sizeof(d.message) - 1] = '\0';
			text[textlen] = '\0';
			if (textlen > 0 && body_bytes < sizeof(text))
				printf("text %s\n", text);
			printf("body %llu\ndone %d %s\n",
			    (unsigned long long)body_bytes, d.error, d.message);
			ev_break();
			break;
		default:
			errx(1, "unexpected message %u", imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	struct http_origin	 o;
	struct http_session	 s;
	struct http_req		 r;
	struct init_peer	 peer;
	char			 line[8192], hdrs[4096] = "", *ca = NULL;
	char			*meth, *path, *body, *exe = NULL;
	const char		*cafile = NULL;
	size_t			 calen = 0, blen;
	int			 ch, sp[2], rp[2], chan[2], live[2];
	int			 nosandbox = 0;
	FILE			*f;
	pid_t			 pid;

	memset(&o, 0, sizeof(o));
	strlcpy(o.app, "probe", sizeof(o.app));
	o.timeout = 5000;
	while ((ch = getopt(argc, argv, "c:h:H:knp:tT:x:")) != -1) {
		switch (ch) {
		case 'c':
			cafile = optarg;
			break;
		case 'h':
			strlcpy(o.host, optarg, sizeof(o.host));
			break;
		case 'H':
			strlcat(hdrs, optarg, sizeof(hdrs));
			strlcat(hdrs, "\r\n", sizeof(hdrs));
			break;
		case 'k':
			o.insecure = 1;
			break;
		case 'n':
			nosandbox = 1;
			break;
		case 'p':
			o.port = (uint16_t)atoi(optarg);
			break;
		case 't':
			o.tls = 1;
			break;
		case 'T':
			o.timeout = strtoull(optarg, NULL, 10);
			break;
		case 'x':
			exe = optarg;
			break;
		default:
			errx(2, "usage: httpprobe -x mcpgated -h host -p port "
			    "[-t] [-c ca] [-k] [-T ms] [-H header] [-n]");
		}
	}
	if (exe == NULL || o.host[0] == '\0' || o.port == 0)
		errx(2, "-x, -h and -p are needed");
	if (cafile != NULL) {
		if ((f = fopen(cafile, "r")) == NULL)
			err(1, "%s", cafile);
		ca = calloc(1, 256 * 1024);
		calen = fread(ca, 1, 256 * 1024, f);
		fclose(f);
	}
	log_init(1, LOG_DAEMON);
	log_setlevel(LOG_INFO);

	/* The resolver, started as the parent starts it. */
	if (pipe(live) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, chan) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, rp) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		err(1, "socketpair");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		struct sandbox_creds	 cr;
		struct conf_snapshot	 snap;
		struct imsgbuf		 ib;
		int			 fd;
		char			 c;

		/* A helper child: it gives the resolver its set-up. */
		if ((pid = fork()) == -1)
			_exit(1);
		if (pid == 0) {
			if (dup2(chan[1], PROC_PARENT_FD) == -1)
				_exit(127);
			closefrom(PROC_PARENT_FD + 1);
			setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
			execl(exe, "mcpgated", "-P", "resolver", "-d",
			    (char *)NULL);
			_exit(127);
		}
		if (imsgbuf_init(&ib, chan[0]) == -1)
			_exit(1);
		imsgbuf_allow_fdpass(&ib);
		memset(&cr, 0, sizeof(cr));
		memset(&snap, 0, sizeof(snap));
		snap.log_level = LOG_INFO;
		memset(&peer, 0, sizeof(peer));
		peer.proc = PROC_NETD;
		imsg_compose(&ib, IMSG_INIT_CREDS, 0, 0, -1, &cr, sizeof(cr));
		imsg_compose(&ib, IMSG_INIT_CONF, 0, 0, -1, &snap,
		    sizeof(snap));
		imsg_compose(&ib, IMSG_INIT_PEER, 0, 0, rp[1], &peer,
		    sizeof(peer));
		imsg_compose(&ib, IMSG_INIT_DONE, 0, 0, -1, NULL, 0);
		if (imsgbuf_flush(&ib) == -1)
			_exit(1);
		/*
		 * Keep its channel open while the probe lives, holding
		 * nothing else of the caller's.  The probe's end closes the
		 * pipe (not a parent-death signal: the probe's Landlock
		 * domain keeps its signals in), then this end closes the
		 * resolver's channel, which ends the resolver.
		 */
		for (fd = 0; fd < 1024; fd++)
			if (fd != chan[0] && fd != live[0])
				close(fd);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		while (read(live[0], &c, 1) == -1 && errno == EINTR)
			;
		close(chan[0]);
		waitpid(pid, NULL, 0);
		_exit(0);
	}
	close(chan[0]);
	close(chan[1]);
	close(rp[1]);
	close(live[0]);		/* live[1] closes when the probe ends */

	netd = &probe_netd;
	TAILQ_INIT(&netd->stalled);
	netd->conf.max_message_size = 4 * 1024 * 1024;
	child_chan_init(&netd->mcpd, sp[0], 0, netd_dispatch_mcpd, NULL);
	child_chan_init(&netd->resolver, rp[0], 0, netd_dispatch_resolver,
	    NULL);
	if (imsgbuf_init(&mcpd_end, sp[1]) == -1)
		err(1, "imsgbuf_init");
	if (ev_init() == -1)
		err(1, "ev_init");
	http_init();
	if (!nosandbox) {
		/* netd's own sandbox, but the user switch (no root here). */
		struct sandbox_creds	 nocreds;

		memset(&nocreds, 0, sizeof(nocreds));
		netd_sandbox_enter(&nocreds);
	}
	child_chan_events(&netd->mcpd);
	child_chan_events(&netd->resolver);
	ev_set(&mcpd_ev, sp[1], mcpd_read, NULL);
	if (ev_add(&mcpd_ev, EV_READ) == -1)
		err(1, "ev_add");
	ev_timer_set(&hold_timer, hold_end, NULL);

	http_origins_begin(NULL, 0);
	if (http_origin_add(&o, ca, calen) == -1)
		errx(1, "origin");
	http_origins_end();
	memset(&s, 0, sizeof(s));
	s.key.conn = 1;
	s.key.ref.serial = 1;
	strlcpy(s.app, "probe", sizeof(s.app));
	if (http_session_add(&s, hdrs, strlen(hdrs)) == -1)
		errx(1, "session headers");

	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		holding = strncmp(line, "HOLD ", 5) == 0;
		meth = strtok(line + (holding ? 5 : 0), " ");
		path = strtok(NULL, " ");
		body = strtok(NULL, "");
		if (meth == NULL || path == NULL)
			continue;
		memset(&r, 0, sizeof(r));
		r.key = s.key;
		r.reqid = ++reqid;
		r.method = strcmp(meth, "GET") == 0 ? HTTP_GET :
		    strcmp(meth, "DELETE") == 0 ? HTTP_DELETE : HTTP_POST;
		strlcpy(r.path, path, sizeof(r.path));
		strlcpy(r.protocol, "2025-11-25", sizeof(r.protocol));
		blen = body != NULL ? strlen(body) : 0;
		body_bytes = held = 0;
		textlen = 0;
		if (holding)
			ev_timer_add(&hold_timer, 2000);
		{
			char	*msg;

			if ((msg = malloc(sizeof(r) + blen)) == NULL)
				err(1, NULL);
			memcpy(msg, &r, sizeof(r));
			if (blen > 0)
				memcpy(msg + sizeof(r), body, blen);
			if (imsg_compose(&mcpd_end, IMSG_HTTP_REQ, 1, 0, -1,
			    msg, sizeof(r) + blen) != 1 ||
			    imsgbuf_flush(&mcpd_end) == -1)
				err(1, "request");
			free(msg);
		}
		if (ev_dispatch() == -1)
			err(1, "event loop");
		ev_timer_del(&hold_timer);
	}
	return (0);
}
