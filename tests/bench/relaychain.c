/*
 * The floor of the gateway's shape: a stdio MCP server behind a chain of
 * processes that do nothing but pass bytes along the same hops as a call
 * through mcpgate, so that the benchmark can say how much of what the
 * gateway adds is the hops themselves.
 *
 *	relaychain command [arg ...]
 *
 * The chain, one process each, as mcpgate's are:
 *
 *	client <-stdio-> bridge <-TCP-> netd <-unix-> mcpd <-pipes-> server
 *	                                               |
 *	                                             auditd (unix)
 *
 * relaychain itself is the bridge, on the client's stdin and stdout; it
 * forks netd, which listens on an ephemeral loopback port; netd forks
 * mcpd, which forks auditd and the server (the command, exec'd).  What
 * mcpd reads from netd goes to auditd first, and on to the server once
 * auditd's one-byte answer is back, as a request waits for its audit
 * record; what the server writes goes straight back.  No TLS, no
 * parsing, no policy: every figure of the gateway above this one is its
 * own work.  Every process ends when its upstream closes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "benchlib.h"

#define CHUNK	65536

static char	buf[CHUNK];

/* Write all of it; -1 when the other end is gone. */
static int
put(int fd, const char *p, ssize_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, (size_t)n)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		n -= w;
	}
	return (0);
}

/*
 * Pass bytes both ways between a and b (ain/aout may be one descriptor)
 * until either side closes; with audit >= 0, what comes from a waits
 * for a byte from audit after being shown to it.
 */
static void
relay(int ain, int aout, int bin, int bout, int audit)
{
	struct pollfd	 pfd[2];
	ssize_t		 n;
	char		 ack;

	pfd[0].fd = ain;
	pfd[1].fd = bin;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = read(ain, buf, sizeof(buf))) <= 0)
				return;
			if (audit != -1 && (put(audit, buf, n) == -1 ||
			    read(audit, &ack, 1) != 1))
				return;
			if (put(bout, buf, n) == -1)
				return;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = read(bin, buf, sizeof(buf))) <= 0)
				return;
			if (put(aout, buf, n) == -1)
				return;
		}
	}
}

/* auditd: an answer of one byte for each read. */
static void
auditd(int fd)
{
	ssize_t	n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, "a", 1) != 1)
			break;
	_exit(0);
}

/* mcpd: netd on fd, auditd and the server its children. */
static void
mcpd(int fd, char **argv)
{
	int	au[2], in[2], out[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, au) == -1 ||
	    pipe(in) == -1 || pipe(out) == -1)
		err(1, "mcpd");
	switch (fork()) {
	case -1:
		err(1, "fork");
	case 0:
		close(au[0]);
		auditd(au[1]);
	}
	close(au[1]);
	switch (fork()) {
	case -1:
		err(1, "fork");
	case 0:
		if (dup2(in[0], STDIN_FILENO) == -1 ||
		    dup2(out[1], STDOUT_FILENO) == -1)
			err(1, "dup2");
		closefrom(STDERR_FILENO + 1);
		execvp(argv[0], argv);
		err(127, "%s", argv[0]);
	}
	close(in[0]);
	close(out[1]);
	relay(fd, fd, out[0], in[1], au[0]);
	close(in[1]);		/* the server's end of input */
	close(au[0]);
	while (wait(NULL) > 0)
		;
	_exit(0);
}

/*
 * netd: one TCP connection from the bridge, mcpd on a socketpair; returns
 * only in mcpd, with its end of the socketpair.
 */
static int
netd(int lfd)
{
	int	c, sp[2], one = 1;

	if ((c = accept(lfd, NULL, NULL)) == -1)
		err(1, "accept");
	close(lfd);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		err(1, "socketpair");
	switch (fork()) {
	case -1:
		err(1, "fork");
	case 0:
		close(sp[0]);
		close(c);
		return (sp[1]);
	}
	close(sp[1]);
	relay(c, c, sp[0], sp[0], -1);
	close(sp[0]);
	close(c);
	while (wait(NULL) > 0)
		;
	_exit(0);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	int			 lfd, fd, sp;

	if (argc < 2)
		errx(1, "usage: relaychain command [arg ...]");
	signal(SIGPIPE, SIG_IGN);
	lfd = loopback_listen(&sin);
	switch (fork()) {
	case -1:
		err(1, "fork");
	case 0:
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sp = netd(lfd);
		mcpd(sp, argv + 1);
	}
	close(lfd);
	fd = loopback_connect(ntohs(sin.sin_port));
	relay(STDIN_FILENO, STDOUT_FILENO, fd, fd, -1);
	close(fd);
	while (wait(NULL) > 0)
		;
	return (0);
}
