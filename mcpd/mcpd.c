/*
 * mcpd: main, set-up and the dispatch of its channels.
 */
#include <sys/types.h>
#include <sys/tree.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "mcpd.h"
#include "util.h"

struct mcpd		*mcpd;
static struct mcpd	 mcpd_state;

/* A reload: sessions with a server no longer offered end. */
static void
mcpd_reconf(const struct conf_snapshot *snap)
{
	mcpd->conf = *snap;
	mconn_recheck();
}

/* The parent's messages for mcpd alone; 1 when handled. */
int
mcpd_dispatch_parent(struct imsg *imsg)
{
	const void	*data;
	size_t		 len;

	switch (imsg_get_type(imsg)) {
	case IMSG_SNAPSHOT:
		imsg_get_buf(imsg, &data, &len);
		identity_snapshot(data, len);
		return (1);
	case IMSG_SNAPSHOT_END:
		child_imsg_fixed("parent", imsg, NULL, 0);
		identity_snapshot_end();
		return (1);
	case IMSG_LOGIN_RESULT:
		imsg_get_buf(imsg, &data, &len);
		login_result(imsg_get_id(imsg), data, len);
		return (1);
	case IMSG_STATUS_REQ:
		child_imsg_fixed("parent", imsg, NULL, 0);
		mcpd->stats.buffered = mcpd->buffered;
		child_chan_send(&child_parent, IMSG_STATUS_MCPD,
		    imsg_get_id(imsg), -1, &mcpd->stats, sizeof(mcpd->stats));
		return (1);
	case IMSG_DRAIN:
		child_imsg_fixed("parent", imsg, NULL, 0);
		if (mcpd->draining)
			child_bad_imsg("parent", imsg);
		mcpd->draining = 1;
		mconn_drain();
		audit_drained();
		return (1);
	default:
		return (relay_dispatch_parent(imsg));
	}
}

void
mcpd_dispatch_netd(int fd, short events, void *arg)
{
	struct imsg		 imsg;
	struct conn_open	 co;
	struct conn_ack		 ack;
	const void		*data;
	size_t			 len;
	ssize_t			 n;

	(void)fd;
	(void)arg;
	if (child_chan_io(&mcpd->netd, events, "netd") == -1)
		return;
	for (;;) {
		if ((n = imsgbuf_get(&mcpd->netd.ibuf, &imsg)) == -1)
			fatal("bad message from netd");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_CONN_OPEN:
			child_imsg_fixed("netd", &imsg, &co, sizeof(co));
			mconn_open(imsg_get_id(&imsg), &co);
			break;
		case IMSG_CONN_DATA:
			imsg_get_buf(&imsg, &data, &len);
			mconn_data(imsg_get_id(&imsg), data, len);
			break;
		case IMSG_CONN_ACK:
			child_imsg_fixed("netd", &imsg, &ack, sizeof(ack));
			mconn_ack(imsg_get_id(&imsg), ack.bytes);
			break;
		case IMSG_CONN_EOF:
			child_imsg_fixed("netd", &imsg, NULL, 0);
			mconn_eof(imsg_get_id(&imsg));
			break;
		case IMSG_CONN_CLOSE:
			child_imsg_fixed("netd", &imsg, NULL, 0);
			mconn_closed(imsg_get_id(&imsg));
			break;
		default:
			if (!remote_dispatch_netd(&imsg))
				child_bad_imsg("netd", &imsg);
		}
		imsg_free(&imsg);
	}
	if (!TAILQ_EMPTY(&mcpd->blocked))
		mconn_resume_blocked();
	child_chan_events(&mcpd->netd);
}

void
mcpd_dispatch_auditd(int fd, short events, void *arg)
{
	struct imsg		 imsg;
	struct audit_ack	 ack;
	ssize_t			 n;

	(void)fd;
	(void)arg;
	if (child_chan_io(&mcpd->auditd, events, "auditd") == -1)
		return;
	for (;;) {
		if ((n = imsgbuf_get(&mcpd->auditd.ibuf, &imsg)) == -1)
			fatal("bad message from auditd");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_AUDIT_ACK:
			child_imsg_fixed("auditd", &imsg, &ack, sizeof(ack));
			audit_acked(imsg_get_id(&imsg), &ack);
			break;
		default:
			child_bad_imsg("auditd", &imsg);
		}
		imsg_free(&imsg);
	}
	child_chan_events(&mcpd->auditd);
}

static void
mcpd_ca(struct imsg *imsg)
{
	const void	*data;
	size_t		 len;

	imsg_get_buf(imsg, &data, &len);
	if (len == 0 || mcpd->ca_pem != NULL ||
	    (mcpd->ca_pem = malloc(len + 1)) == NULL)
		child_bad_imsg("parent", imsg);
	memcpy(mcpd->ca_pem, data, len);
	mcpd->ca_pem[len] = '\0';
	if (cert_fingerprint_pem(mcpd->ca_pem, len, mcpd->ca_fpr,
	    sizeof(mcpd->ca_fpr)) == -1)
		fatalx("the CA certificate from the parent does not parse");
}

static void
mcpd_init(struct imsg *imsg)
{
	struct init_peer	 peer;
	const void		*data;
	size_t			 len;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_INIT_PEER:
		child_imsg_fixed("parent", imsg, &peer, sizeof(peer));
		if ((fd = imsg_get_fd(imsg)) == -1)
			child_bad_imsg("parent", imsg);
		if (peer.proc == PROC_NETD && mcpd->netd.cb == NULL)
			child_chan_init(&mcpd->netd, fd, 0, mcpd_dispatch_netd,
			    NULL);
		else if (peer.proc == PROC_AUDITD && mcpd->auditd.cb == NULL)
			child_chan_init(&mcpd->auditd, fd, 0,
			    mcpd_dispatch_auditd, NULL);
		else
			child_bad_imsg("parent", imsg);
		break;
	case IMSG_INIT_CA_CERT:
		mcpd_ca(imsg);
		break;
	case IMSG_SNAPSHOT:
		imsg_get_buf(imsg, &data, &len);
		identity_snapshot(data, len);
		break;
	case IMSG_SNAPSHOT_END:
		child_imsg_fixed("parent", imsg, NULL, 0);
		identity_snapshot_end();
		break;
	default:
		child_bad_imsg("parent", imsg);
	}
}

static const struct child_ops mcpd_ops = {
	mcpd_init, mcpd_reconf, mcpd_dispatch_parent
};

void
mcpd_main(int foreground, int verbose)
{
	struct child_init	 ci;

	child_setup(PROC_MCPD, foreground, verbose);
	/* The snapshot's parts are whole documents, as large as one is. */
	imsgbuf_set_maxmsg(&child_parent.ibuf, SNAPSHOT_MSG_MAX);
	mcpd = &mcpd_state;
	RB_INIT(&mcpd->conns);
	RB_INIT(&mcpd->user_sessions);
	TAILQ_INIT(&mcpd->blocked);

	child_receive_init(&ci, &mcpd_ops);
	mcpd->conf = ci.conf;
	if (mcpd->netd.cb == NULL || mcpd->auditd.cb == NULL ||
	    mcpd->ca_pem == NULL)
		fatalx("incomplete set-up from the parent");
	imsgbuf_set_maxmsg(&mcpd->auditd.ibuf, mcpd->conf.max_message_size);

	/*
	 * Input buffers of megabytes come and go with their connections:
	 * keep them in their own mappings, returned to the system when
	 * freed, rather than in a heap that a burst leaves large.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	/* jansson would read /dev/urandom for its seed on first use. */
	json_object_seed(0);
	json_zeroing_alloc();
	if (ev_init() == -1)
		fatal("ev_init");
	mconn_budget_init();

	sandbox_enter(&mcpd_sandbox, &ci.creds, SB_FS_NONE);

	child_chan_init(&child_parent, PROC_PARENT_FD, 1,
	    child_dispatch_parent, (void *)&mcpd_ops);
	child_chan_events(&child_parent);
	child_chan_events(&mcpd->netd);
	child_chan_events(&mcpd->auditd);
	child_chan_send(&child_parent, IMSG_READY, 0, -1, NULL, 0);
	if (ev_dispatch() == -1)
		fatal("event loop");
	exit(0);
}
