/*
 * Drives the resolver (mcpgated -P resolver) directly, as the parent
 * sets it up and as netd asks it: it starts the real process, gives it
 * its set-up (as user -u when root), then sends one query for each line
 * of standard input and prints each answer as it comes:
 *
 *   dnsprobe -x mcpgated [-u user] [-b]
 *
 *	NAME ok ADDR [ADDR ...]
 *	NAME error MESSAGE
 *
 * -b: after the set-up, send a query whose name is not NUL-terminated,
 * as a compromised netd might, and report how the resolver ended:
 * "exited N" or "signal N".  At the end of input it closes the channels
 * and reports the same way once the resolver is gone.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <err.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "imsg.h"
#include "proto.h"
#include "sandbox.h"

static void
send_msg(struct imsgbuf *ib, uint32_t type, int fd, const void *p, size_t len)
{
	if (imsg_compose(ib, type, 0, 0, fd, p, len) != 1 ||
	    imsgbuf_flush(ib) == -1)
		err(1, "imsg to the resolver");
}

/* The next message of type want; NULL-safe on the resolver's exit. */
static int
recv_msg(struct imsgbuf *ib, uint32_t want, void *p, size_t len)
{
	struct imsg	 imsg;
	ssize_t		 n;

	for (;;) {
		if ((n = imsgbuf_get(ib, &imsg)) == -1)
			errx(1, "bad message from the resolver");
		if (n == 1) {
			if (imsg_get_type(&imsg) != want ||
			    imsg_get_data(&imsg, p, len) == -1)
				errx(1, "unexpected message %u",
				    imsg_get_type(&imsg));
			imsg_free(&imsg);
			return (0);
		}
		if ((n = imsgbuf_read(ib)) == -1)
			err(1, "read");
		if (n == 0)
			return (-1);
	}
}

/* The resolver's log lines until it closes its channel. */
static void
print_log(struct imsgbuf *ib)
{
	struct imsg	 imsg;
	struct log_line	 ll;
	ssize_t		 n;

	for (;;) {
		while ((n = imsgbuf_get(ib, &imsg)) == 1) {
			if (imsg_get_type(&imsg) == IMSG_LOG &&
			    imsg_get_data(&imsg, &ll, sizeof(ll)) == 0) {
				ll.msg[sizeof(ll.msg) - 1] = '\0';
				printf("log: %s\n", ll.msg);
			}
			imsg_free(&imsg);
		}
		if (n == -1 || imsgbuf_read(ib) <= 0)
			break;
	}
}

static void
report_end(pid_t pid)
{
	int	 status;

	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (WIFSIGNALED(status))
		printf("signal %d\n", WTERMSIG(status));
	else
		printf("exited %d\n", WEXITSTATUS(status));
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	struct sandbox_creds	 cr;
	struct conf_snapshot	 snap;
	struct init_peer	 peer;
	struct dns_query	 q;
	struct dns_answer	 ans;
	struct imsgbuf		 parent, netd;
	struct passwd		*pw;
	const char		*exe = NULL, *user = NULL;
	char			 opts[1024], *old;
	char			 line[512], addr[INET6_ADDRSTRLEN];
	int			 ch, bad = 0, chan[2], peerfd[2], i;
	pid_t			 pid;

	while ((ch = getopt(argc, argv, "bu:x:")) != -1) {
		switch (ch) {
		case 'b':
			bad = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'x':
			exe = optarg;
			break;
		default:
			errx(2, "usage: dnsprobe -x mcpgated [-u user] [-b]");
		}
	}
	if (exe == NULL)
		errx(2, "usage: dnsprobe -x mcpgated [-u user] [-b]");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, chan) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, peerfd) == -1)
		err(1, "socketpair");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		/*
		 * As the parent starts its children (privsep/proc.c): a
		 * sanitizer's leak check at exit is not in their sandbox.
		 */
		old = getenv("ASAN_OPTIONS");
		snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0",
		    old != NULL ? old : "", old != NULL ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		if (dup2(chan[1], PROC_PARENT_FD) == -1)
			err(127, "dup2");
		closefrom(PROC_PARENT_FD + 1);
		execl(exe, "mcpgated", "-P", "resolver", "-d", (char *)NULL);
		err(127, "%s", exe);
	}
	close(chan[1]);
	if (imsgbuf_init(&parent, chan[0]) == -1 ||
	    imsgbuf_init(&netd, peerfd[0]) == -1)
		err(1, "imsgbuf_init");
	imsgbuf_allow_fdpass(&parent);

	memset(&cr, 0, sizeof(cr));
	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL)
			errx(1, "no user %s", user);
		cr.drop = 1;
		cr.uid = pw->pw_uid;
		cr.gid = pw->pw_gid;
	}
	memset(&snap, 0, sizeof(snap));
	snap.log_level = LOG_INFO;
	send_msg(&parent, IMSG_INIT_CREDS, -1, &cr, sizeof(cr));
	send_msg(&parent, IMSG_INIT_CONF, -1, &snap, sizeof(snap));
	memset(&peer, 0, sizeof(peer));
	peer.proc = PROC_NETD;
	send_msg(&parent, IMSG_INIT_PEER, peerfd[1], &peer, sizeof(peer));
	send_msg(&parent, IMSG_INIT_DONE, -1, NULL, 0);
	if (recv_msg(&parent, IMSG_READY, NULL, 0) == -1)
		errx(1, "the resolver did not start");
	printf("ready pid %d\n", (int)pid);
	fflush(stdout);

	if (bad) {
		memset(q.host, 'a', sizeof(q.host));
		send_msg(&netd, IMSG_DNS_QUERY, -1, &q, sizeof(q));
		print_log(&parent);
		report_end(pid);
		imsgbuf_clear(&netd);
		imsgbuf_clear(&parent);
		return (0);
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		memset(&q, 0, sizeof(q));
		strlcpy(q.host, line, sizeof(q.host));
		send_msg(&netd, IMSG_DNS_QUERY, -1, &q, sizeof(q));
		if (recv_msg(&netd, IMSG_DNS_ANSWER, &ans, sizeof(ans)) == -1) {
			printf("%s gone\n", line);
			report_end(pid);
			imsgbuf_clear(&netd);
			imsgbuf_clear(&parent);
			return (1);
		}
		ans.message[sizeof(ans.message) - 1] = '\0';
		if (ans.error != 0 || ans.naddrs < 0 ||
		    ans.naddrs > DNS_ADDRS_MAX) {
			printf("%s error %s\n", line, ans.message);
			fflush(stdout);
			continue;
		}
		printf("%s ok", line);
		for (i = 0; i < ans.naddrs; i++)
			printf(" %s", inet_ntop(ans.addrs[i].family,
			    ans.addrs[i].addr, addr, sizeof(addr)));
		printf("\n");
		fflush(stdout);
	}
	imsgbuf_clear(&netd);
	close(peerfd[0]);
	imsgbuf_clear(&parent);
	close(chan[0]);
	report_end(pid);
	return (0);
}
