/*
 * The resolver: name lookups for netd, as OpenBSD ntpd's dns process
 * does them for ntpd.  netd, chrooted with no files, cannot read
 * /etc/hosts or /etc/resolv.conf nor load the C library's name service
 * modules; this process can, and nothing else: it runs as its own user
 * (resolver_user), not chrooted but confined by Landlock to reading
 * beneath /etc (and where /etc/resolv.conf points, when it is a link),
 * TCP only to port 53, and a seccomp allow-list of what getaddrinfo
 * needs.  It holds no secret.  The C library reads /etc/hosts at every
 * lookup and /etc/resolv.conf again when it changes, so edits apply
 * without a restart.  One lookup at a time: a slow name server delays
 * the next lookups, never netd, which bounds the queries it sends.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "netd.h"

static struct child_chan	 resolver_netd;

/* A name as DNS and /etc/hosts have them: letters, digits, '-', '.'. */
int
resolver_name_ok(const char *host)
{
	size_t	 i, label = 0, len = strlen(host);

	if (len == 0 || len > 253)
		return (0);
	for (i = 0; i < len; i++) {
		if (host[i] == '.') {
			if (label == 0)
				return (0);
			label = 0;
			continue;
		}
		if (!((host[i] >= 'a' && host[i] <= 'z') ||
		    (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || host[i] == '-' ||
		    host[i] == '_') || ++label > 63)
			return (0);
	}
	return (1);
}

/* Look host up; the answer holds each address once. */
void
resolver_lookup(const char *host, struct dns_answer *ans)
{
	struct addrinfo		 hints, *res, *ai;
	struct dns_addr		 a;
	int			 e, i;

	memset(ans, 0, sizeof(*ans));
	if (!resolver_name_ok(host)) {
		ans->error = EAI_NONAME;
		strlcpy(ans->message, "not a host name", sizeof(ans->message));
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		ans->error = e;
		strlcpy(ans->message, e == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(e), sizeof(ans->message));
		return;
	}
	for (ai = res; ai != NULL && ans->naddrs < DNS_ADDRS_MAX;
	    ai = ai->ai_next) {
		memset(&a, 0, sizeof(a));
		if (ai->ai_family == AF_INET) {
			a.family = AF_INET;
			memcpy(a.addr, &((struct sockaddr_in *)
			    ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			a.family = AF_INET6;
			memcpy(a.addr, &((struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr, 16);
		} else
			continue;
		for (i = 0; i < ans->naddrs; i++)
			if (memcmp(&ans->addrs[i], &a, sizeof(a)) == 0)
				break;
		if (i == ans->naddrs)
			ans->addrs[ans->naddrs++] = a;
	}
	freeaddrinfo(res);
	if (ans->naddrs == 0) {
		ans->error = EAI_NODATA;
		strlcpy(ans->message, "no IPv4 or IPv6 address",
		    sizeof(ans->message));
	}
}

/* netd's queries; anything else, or a name not ended, is a compromise. */
static void
resolver_dispatch_netd(int fd, short events, void *arg)
{
	struct imsg		 imsg;
	struct dns_query	 q;
	struct dns_answer	 ans;
	ssize_t			 n;

	(void)fd;
	(void)arg;
	if (child_chan_io(&resolver_netd, events, "netd") == -1)
		return;
	for (;;) {
		if ((n = imsgbuf_get(&resolver_netd.ibuf, &imsg)) == -1)
			fatal("bad message from netd");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_DNS_QUERY:
			child_imsg_fixed("netd", &imsg, &q, sizeof(q));
			if (memchr(q.host, '\0', sizeof(q.host)) == NULL)
				child_bad_imsg("netd", &imsg);
			resolver_lookup(q.host, &ans);
			if (ans.error != 0)
				log_debug("lookup of %s: %s", q.host,
				    ans.message);
			child_chan_send(&resolver_netd, IMSG_DNS_ANSWER,
			    imsg_get_id(&imsg), -1, &ans, sizeof(ans));
			break;
		default:
			child_bad_imsg("netd", &imsg);
		}
		imsg_free(&imsg);
	}
	child_chan_events(&resolver_netd);
}

static void
resolver_init(struct imsg *imsg)
{
	struct init_peer	 peer;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_INIT_PEER:
		child_imsg_fixed("parent", imsg, &peer, sizeof(peer));
		if (peer.proc != PROC_NETD || resolver_netd.cb != NULL ||
		    (fd = imsg_get_fd(imsg)) == -1)
			child_bad_imsg("parent", imsg);
		child_chan_init(&resolver_netd, fd, 0, resolver_dispatch_netd,
		    NULL);
		break;
	default:
		child_bad_imsg("parent", imsg);
	}
}

static void
resolver_reconf(const struct conf_snapshot *snap)
{
	(void)snap;
}

static int
resolver_dispatch_parent(struct imsg *imsg)
{
	(void)imsg;
	return (0);
}

static const struct child_ops resolver_ops = {
	resolver_init, resolver_reconf, resolver_dispatch_parent
};

/*
 * Landlock: reading beneath /etc, and beneath the directory of what
 * /etc/resolv.conf links to (systemd-resolved's stub file, say); TCP
 * only to port 53.  A rule holds a directory, not a file, so that a
 * resolv.conf replaced by rename is still readable.
 */
static void
resolver_sandbox_enter(const struct sandbox_creds *creds)
{
	struct sandbox_fsrule	 rules[2];
	char			 target[PATH_MAX], *slash;
	ssize_t			 n;
	size_t			 nrules = 0, i;
	static const uint16_t	 dns_port = 53;

	rules[nrules].access = LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR;
	if ((rules[nrules++].fd = open("/etc", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("/etc");
	if ((n = readlink("/etc/resolv.conf", target,
	    sizeof(target) - 1)) > 0) {
		target[n] = '\0';
		if (target[0] == '/' && (slash = strrchr(target, '/')) !=
		    NULL && slash != target) {
			*slash = '\0';
			rules[nrules].access = rules[0].access;
			if ((rules[nrules].fd = open(target, O_PATH |
			    O_DIRECTORY | O_CLOEXEC)) != -1)
				nrules++;
			else
				log_warn("resolv.conf points into %s", target);
		}
	}
	sandbox_enter_rules(&resolver_sandbox, creds, rules, nrules,
	    &dns_port, 1, SB_SCOPE_UNIX | SB_SCOPE_SIGNAL);
	for (i = 0; i < nrules; i++)
		close(rules[i].fd);
}

void
resolver_main(int foreground, int verbose)
{
	struct child_init	 ci;
	struct dns_answer	 ans;

	child_setup(PROC_RESOLVER, foreground, verbose);
	child_receive_init(&ci, &resolver_ops);
	if (resolver_netd.cb == NULL)
		fatalx("incomplete set-up from the parent");

	/*
	 * One lookup before the sandbox loads the name service modules
	 * that /etc/nsswitch.conf names; none can be loaded after it.
	 */
	resolver_lookup("localhost", &ans);
	if (ev_init() == -1)
		fatal("ev_init");

	resolver_sandbox_enter(&ci.creds);

	child_chan_init(&child_parent, PROC_PARENT_FD, 1,
	    child_dispatch_parent, (void *)&resolver_ops);
	child_chan_events(&child_parent);
	child_chan_events(&resolver_netd);
	child_chan_send(&child_parent, IMSG_READY, 0, -1, NULL, 0);
	if (ev_dispatch() == -1)
		fatal("event loop");
	exit(0);
}
