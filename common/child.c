#include <sys/types.h>
#include <sys/prctl.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "child.h"
#include "log.h"

struct child_chan	 child_parent;
static void		(*child_exit_hook)(void);
static int		 child_stopping;
static int		 child_parent_gone;	/* its channel is closed */
static int		 child_verbose;

/*
 * A child's lines travel to the parent, which logs them under the child's
 * name, in the foreground as well.  A fatal line is written at once, so
 * that the child's last words arrive before it exits.  Once the parent's
 * channel is closed, lines go to standard error, which is a pipe that the
 * parent reads until the child is gone.
 */
static void
child_log_forward(int pri, const char *msg)
{
	struct log_line	 ll;
	char		 line[LOG_LINE_MAX + 1];
	int		 n;

	if (!child_parent_gone) {
		memset(&ll, 0, sizeof(ll));
		ll.pri = pri;
		strlcpy(ll.msg, msg, sizeof(ll.msg));
		if (imsg_compose(&child_parent.ibuf, IMSG_LOG, 0, 0, -1, &ll,
		    sizeof(ll)) == -1)
			return;
		if (pri > LOG_CRIT) {
			child_chan_events(&child_parent);
			return;
		}
		if (imsgbuf_flush(&child_parent.ibuf) == 0)
			return;
		child_parent_gone = 1;	/* the last words go the other way */
	}
	n = snprintf(line, sizeof(line), "%s\n", msg);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) == -1)
		return;
}

/*
 * Name the process, set up its log and its signals.  Terminal signals are
 * the parent's to handle: a child ignores them and lives until its
 * parent's channel closes.
 */
void
child_setup(enum proc_id id, int foreground, int verbose)
{
	struct sigaction	 sa;
	char			 comm[16];

	child_verbose = verbose;
	log_init(foreground, LOG_DAEMON);
	log_procinit(proc_name(id));
	log_setlevel(verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	setproctitle("%s", proc_name(id));
	snprintf(comm, sizeof(comm), "mcpgated-%s", proc_name(id));
	prctl(PR_SET_NAME, comm, 0, 0, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	if (imsgbuf_init(&child_parent.ibuf, PROC_PARENT_FD) == -1)
		fatal("%s: parent channel", proc_name(id));
	imsgbuf_allow_fdpass(&child_parent.ibuf);
	log_setforward(child_log_forward);
}

/* Channels with messages composed this turn of the loop. */
#define CHILD_CHANS	4
static struct child_chan	*child_queued[CHILD_CHANS];
static int			 child_nqueued;

/*
 * Before the loop waits: write what each channel queued, in one go, and
 * watch for writing only where the socket would not take it all.  A
 * write that fails is left to the channel's own callback, which knows
 * who the peer was.
 */
static void
child_flush(void)
{
	struct child_chan	*ch;
	int			 i;

	for (i = 0; i < child_nqueued; i++) {
		ch = child_queued[i];
		ch->queued = 0;
		if (ch->cb != NULL && imsgbuf_queuelen(&ch->ibuf) > 0)
			(void)imsgbuf_write(&ch->ibuf);
		child_chan_events(ch);
	}
	child_nqueued = 0;
}

void
child_chan_init(struct child_chan *ch, int fd, int fdpass, ev_fd_cb cb,
    void *arg)
{
	if (fd != child_parent.ibuf.fd) {
		if (imsgbuf_init(&ch->ibuf, fd) == -1)
			fatal("channel init");
		if (fdpass)
			imsgbuf_allow_fdpass(&ch->ibuf);
	}
	ch->cb = cb;
	ch->arg = arg;
	ev_set(&ch->ev, fd, cb, arg);
}

/* Read always; write while anything is queued. */
void
child_chan_events(struct child_chan *ch)
{
	if (ch->cb == NULL)
		return;
	if (ev_add(&ch->ev, EV_READ |
	    (imsgbuf_queuelen(&ch->ibuf) > 0 ? EV_WRITE : 0)) == -1)
		fatal("ev_add");
}

void
child_chan_send(struct child_chan *ch, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	if (imsg_compose(&ch->ibuf, type, id, 0, fd, data, len) == -1)
		fatal("%s: imsg_compose %s", __func__, imsg_type_name(type));
	if (ch->queued)
		return;
	if (child_nqueued == CHILD_CHANS) {
		child_chan_events(ch);	/* cannot happen: a child has 3 */
		return;
	}
	ch->queued = 1;
	child_queued[child_nqueued++] = ch;
	ev_prepoll(child_flush);
}

/*
 * Read and write a channel.  The parent's channel closing means the
 * daemon is stopping: exit.  Another child's channel closing means that
 * child died; the parent is about to stop everything and must see which
 * one it was, so stop using the channel and wait.  Returns -1 when the
 * channel is gone.
 */
int
child_chan_io(struct child_chan *ch, short events, const char *peer)
{
	int	 n;

	if (events & EV_READ) {
		/* A peer that closes with our lines unread resets. */
		if ((n = imsgbuf_read(&ch->ibuf)) == -1) {
			if (errno == ECONNRESET)
				goto gone;
			fatal("read from %s", peer);
		}
		if (n == 0)
			goto gone;
	}
	if (events & EV_WRITE) {
		if (imsgbuf_write(&ch->ibuf) == -1) {
			if (errno == EPIPE || errno == ECONNRESET)
				goto gone;
			fatal("write to %s", peer);
		}
	}
	return (0);
 gone:
	if (ch == &child_parent) {
		child_parent_gone = 1;
		/*
		 * A parent stopping cleanly says so first; a parent that
		 * died did not, and nothing more is written then.
		 */
		if (!child_stopping) {
			log_warnx("the parent is gone, exiting");
			exit(1);
		}
		log_debug("the parent closed the channel, exiting");
		if (child_exit_hook != NULL)
			child_exit_hook();
		exit(0);
	}
	log_warnx("%s is gone; waiting for the parent to stop", peer);
	ev_del(&ch->ev);
	ch->cb = NULL;
	return (-1);
}

/* The configured level, unless -v asked for everything. */
void
child_log_level(int level)
{
	log_setlevel(child_verbose ? LOG_LVL_DEBUG : level);
}

/*
 * Receive the set-up until the parent says it is done: the credentials
 * and the configuration here, what else the child needs through
 * ops->init, which refuses any type it does not expect.
 */
void
child_receive_init(struct child_init *ci, const struct child_ops *ops)
{
	struct imsg	 imsg;
	int		 have_creds = 0, have_conf = 0, done = 0;

	while (!done) {
		child_recv(&child_parent, &imsg);
		switch (imsg_get_type(&imsg)) {
		case IMSG_INIT_CREDS:
			child_imsg_fixed("parent", &imsg, &ci->creds,
			    sizeof(ci->creds));
			if (have_creds)
				child_bad_imsg("parent", &imsg);
			ci->creds.root[sizeof(ci->creds.root) - 1] = '\0';
			have_creds = 1;
			break;
		case IMSG_INIT_CONF:
			child_imsg_fixed("parent", &imsg, &ci->conf,
			    sizeof(ci->conf));
			if (have_conf)
				child_bad_imsg("parent", &imsg);
			ci->conf.name[sizeof(ci->conf.name) - 1] = '\0';
			child_log_level(ci->conf.log_level);
			have_conf = 1;
			break;
		case IMSG_INIT_DONE:
			child_imsg_fixed("parent", &imsg, NULL, 0);
			done = 1;
			break;
		default:
			ops->init(&imsg);
			break;
		}
		imsg_free(&imsg);
	}
	if (!have_creds || !have_conf)
		fatalx("incomplete set-up from the parent");
}

/*
 * The parent's channel while the child serves: a new configuration, the
 * notice of a clean stop, and what the child handles itself.
 */
void
child_dispatch_parent(int fd, short events, void *arg)
{
	const struct child_ops	*ops = arg;
	struct conf_snapshot	 snap;
	struct imsg		 imsg;
	ssize_t			 n;

	(void)fd;
	child_chan_io(&child_parent, events, "parent");
	for (;;) {
		if ((n = imsgbuf_get(&child_parent.ibuf, &imsg)) == -1)
			fatal("bad message from the parent");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_RECONF:
			child_imsg_fixed("parent", &imsg, &snap, sizeof(snap));
			snap.name[sizeof(snap.name) - 1] = '\0';
			child_log_level(snap.log_level);
			ops->reconf(&snap);
			log_debug("configuration reloaded");
			break;
		case IMSG_STOP:
			child_imsg_fixed("parent", &imsg, NULL, 0);
			child_stopping = 1;
			break;
		default:
			if (ops->imsg == NULL || !ops->imsg(&imsg))
				child_bad_imsg("parent", &imsg);
			break;
		}
		imsg_free(&imsg);
	}
	child_chan_events(&child_parent);
}

/* Work to finish when the daemon stops cleanly. */
void
child_on_stop(void (*fn)(void))
{
	child_exit_hook = fn;
}

/* Blocking receive, for set-up before the event loop. */
void
child_recv(struct child_chan *ch, struct imsg *imsg)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	for (;;) {
		if ((n = imsgbuf_get(&ch->ibuf, imsg)) == -1)
			fatal("bad message from the parent");
		if (n == 1)
			return;
		if (imsgbuf_flush(&ch->ibuf) == -1)
			fatal("write to the parent");
		pfd.fd = ch->ibuf.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if ((n = imsgbuf_read(&ch->ibuf)) == -1)
			fatal("read from the parent");
		if (n == 0)
			exit(0);
	}
}

/* A message a peer process should never send: assume it is compromised. */
void
child_bad_imsg(const char *peer, struct imsg *imsg)
{
	fatalx("unexpected message %s (%zu bytes) from %s",
	    imsg_type_name(imsg_get_type(imsg)), imsg_get_len(imsg), peer);
}

/*
 * A message of a fixed size, copied to data (nothing when len is 0).
 * Every dispatcher takes such a payload so, before it looks at anything
 * else in the message: any other size means the peer is compromised.
 */
void
child_imsg_fixed(const char *peer, struct imsg *imsg, void *data, size_t len)
{
	if (imsg_get_data(imsg, data, len) == -1)
		child_bad_imsg(peer, imsg);
}
