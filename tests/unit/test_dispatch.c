/*
 * Unit tests of the children's dispatchers: a message of a fixed size
 * that arrives with any other size is a compromised peer, and the child
 * stops with the message named, whatever else the message says (an
 * unknown connection id, a request that would be answered).  Each case
 * runs the real dispatcher over a socketpair in a forked child; a case
 * of the right size, which must be served, shows the setting works.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../../auditd/auditd.h"
#include "../../mcpd/mcpd.h"
#include "../../netd/netd.h"
#include "child.h"
#include "log.h"
#include "unit.h"

enum chan {
	NETD_PARENT,
	NETD_MCPD,
	MCPD_PARENT,
	MCPD_NETD,
	MCPD_AUDITD,
	AUDITD_PARENT,
};

static const struct child_ops netd_test_ops = {
	NULL, NULL, netd_dispatch_parent
};
static const struct child_ops mcpd_test_ops = {
	NULL, NULL, mcpd_dispatch_parent
};
static const struct child_ops auditd_test_ops = {
	NULL, NULL, auditd_dispatch_parent
};

/*
 * In the forked child: the process's state, the channel at fd, one
 * message of len zero bytes written to the other end, the dispatcher
 * run once.  Exits 0 when the dispatcher returns.
 */
static void
feed(enum chan chan, int fd, int peer, uint32_t type, size_t len)
{
	struct imsgbuf		 tx;
	struct child_chan	*ch;
	unsigned char		 payload[4096];
	ev_fd_cb		 cb;
	void			*arg = NULL;

	log_init(1, LOG_DAEMON);
	if (ev_init() == -1)
		_exit(90);
	if ((netd = calloc(1, sizeof(*netd))) == NULL ||
	    (mcpd = calloc(1, sizeof(*mcpd))) == NULL ||
	    (auditd = calloc(1, sizeof(*auditd))) == NULL)
		_exit(91);
	RB_INIT(&netd->conns);
	RB_INIT(&netd->addrs);
	TAILQ_INIT(&netd->stalled);
	RB_INIT(&mcpd->conns);
	RB_INIT(&mcpd->user_sessions);
	TAILQ_INIT(&mcpd->blocked);

	switch (chan) {
	case NETD_PARENT:
		ch = &child_parent;
		cb = child_dispatch_parent;
		arg = (void *)&netd_test_ops;
		break;
	case NETD_MCPD:
		ch = &netd->mcpd;
		cb = netd_dispatch_mcpd;
		break;
	case MCPD_PARENT:
		ch = &child_parent;
		cb = child_dispatch_parent;
		arg = (void *)&mcpd_test_ops;
		break;
	case MCPD_NETD:
		ch = &mcpd->netd;
		cb = mcpd_dispatch_netd;
		break;
	case MCPD_AUDITD:
		ch = &mcpd->auditd;
		cb = mcpd_dispatch_auditd;
		break;
	case AUDITD_PARENT:
	default:
		ch = &child_parent;
		cb = child_dispatch_parent;
		arg = (void *)&auditd_test_ops;
		break;
	}
	child_chan_init(ch, fd, ch == &child_parent, cb, arg);

	memset(payload, 0, sizeof(payload));
	if (len > sizeof(payload) || imsgbuf_init(&tx, peer) == -1 ||
	    imsg_compose(&tx, type, 7, 0, -1, payload, len) != 1 ||
	    imsgbuf_flush(&tx) == -1)
		_exit(92);
	cb(fd, EV_READ, arg);
	_exit(0);
}

/*
 * Run one case; its exit status, and what it logged in out.  Returns -1
 * when it could not run or was killed.
 */
static int
run_case(enum chan chan, uint32_t type, size_t len, char *out, size_t outsz)
{
	pid_t	 pid;
	ssize_t	 n;
	size_t	 got = 0;
	int	 sv[2], errp[2], status;

	out[0] = '\0';
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    pipe(errp) == -1)
		return (-1);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		close(errp[0]);
		if (dup2(errp[1], STDERR_FILENO) == -1)
			_exit(93);
		feed(chan, sv[0], sv[1], type, len);
	}
	close(errp[1]);
	while (got < outsz - 1 &&
	    (n = read(errp[0], out + got, outsz - 1 - got)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	out[got] = '\0';
	close(errp[0]);
	close(sv[0]);
	close(sv[1]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return (-1);
	return (WEXITSTATUS(status));
}

static const struct {
	enum chan	 chan;
	const char	*peer;
	uint32_t	 type;
	size_t		 len;
	int		 ok;
} cases[] = {
	/* Unknown connection 7: the size is checked all the same. */
	{ NETD_MCPD, "mcpd", IMSG_CONN_ACK, sizeof(struct conn_ack), 1 },
	{ NETD_MCPD, "mcpd", IMSG_CONN_ACK, 3, 0 },
	{ NETD_MCPD, "mcpd", IMSG_CONN_ACK, sizeof(struct conn_ack) + 1, 0 },
	{ NETD_MCPD, "mcpd", IMSG_CONN_ACK, 0, 0 },
	{ NETD_MCPD, "mcpd", IMSG_CONN_CLOSE, 0, 1 },
	{ NETD_MCPD, "mcpd", IMSG_CONN_CLOSE, 4, 0 },
	{ NETD_MCPD, "mcpd", IMSG_CONN_DATA, 5, 1 },
	{ NETD_MCPD, "mcpd", IMSG_CONN_EOF, 0, 0 },
	{ NETD_PARENT, "parent", IMSG_STATUS_REQ, 0, 1 },
	{ NETD_PARENT, "parent", IMSG_STATUS_REQ, 4, 0 },
	{ NETD_PARENT, "parent", IMSG_STOP, 1, 0 },
	{ NETD_PARENT, "parent", IMSG_RECONF, 8, 0 },
	{ MCPD_NETD, "netd", IMSG_CONN_ACK, 3, 0 },
	{ MCPD_NETD, "netd", IMSG_CONN_CLOSE, 0, 1 },
	{ MCPD_NETD, "netd", IMSG_CONN_CLOSE, 1, 0 },
	{ MCPD_NETD, "netd", IMSG_CONN_EOF, 2, 0 },
	{ MCPD_NETD, "netd", IMSG_CONN_OPEN, 8, 0 },
	/* An HTTP answer: its size, and the connection it names (0, not 7). */
	{ MCPD_NETD, "netd", IMSG_HTTP_HEAD, 0, 0 },
	{ MCPD_NETD, "netd", IMSG_HTTP_HEAD, sizeof(struct http_head) - 1, 0 },
	{ MCPD_NETD, "netd", IMSG_HTTP_HEAD, sizeof(struct http_head), 0 },
	{ MCPD_NETD, "netd", IMSG_HTTP_BODY, sizeof(struct http_ref) - 1, 0 },
	{ MCPD_NETD, "netd", IMSG_HTTP_BODY, sizeof(struct http_ref) + 9, 0 },
	{ MCPD_NETD, "netd", IMSG_HTTP_DONE, sizeof(struct http_done) + 1, 0 },
	{ MCPD_NETD, "netd", IMSG_HTTP_DONE, sizeof(struct http_done), 0 },
	{ MCPD_NETD, "netd", IMSG_HTTP_REQ, sizeof(struct http_req), 0 },
	/* Where to reach an HTTP server: no path is not one. */
	{ MCPD_PARENT, "parent", IMSG_APP_HTTP, sizeof(struct app_http) + 1,
	    0 },
	{ MCPD_PARENT, "parent", IMSG_APP_HTTP, sizeof(struct app_http), 0 },
	{ MCPD_PARENT, "parent", IMSG_STATUS_REQ, 0, 1 },
	{ MCPD_PARENT, "parent", IMSG_STATUS_REQ, 4, 0 },
	{ MCPD_PARENT, "parent", IMSG_SNAPSHOT_END, 1, 0 },
	{ MCPD_PARENT, "parent", IMSG_DRAIN, 1, 0 },
	{ MCPD_AUDITD, "auditd", IMSG_AUDIT_ACK, 15, 0 },
	{ AUDITD_PARENT, "parent", IMSG_STATUS_REQ, 0, 1 },
	{ AUDITD_PARENT, "parent", IMSG_STATUS_REQ, 4, 0 },
	{ AUDITD_PARENT, "parent", IMSG_AUDIT_SEAL, 1, 0 },
};

static void
test_fixed_sizes(void)
{
	char	 out[2048], want[128];
	size_t	 i;
	int	 st;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = run_case(cases[i].chan, cases[i].type, cases[i].len,
		    out, sizeof(out));
		if (cases[i].ok) {
			T_ASSERTF(st == 0, "%s of %zu bytes from %s: exit %d, "
			    "%s", imsg_type_name(cases[i].type), cases[i].len,
			    cases[i].peer, st, out);
			continue;
		}
		snprintf(want, sizeof(want), "unexpected message %s (%zu "
		    "bytes) from %s", imsg_type_name(cases[i].type),
		    cases[i].len, cases[i].peer);
		T_ASSERTF(st == 1 && strstr(out, want) != NULL,
		    "%s of %zu bytes from %s: exit %d, not refused: %s",
		    imsg_type_name(cases[i].type), cases[i].len,
		    cases[i].peer, st, out);
	}
}

int
main(void)
{
	t_suite = "dispatch";
	T_RUN(test_fixed_sizes);
	return (t_done());
}
