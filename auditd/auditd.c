/*
 * auditd: main, set-up and the dispatch of its two channels.  The parent
 * and mcpd send records; both hear back whether each was written.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auditd.h"
#include "log.h"

struct auditd		*auditd;
static struct auditd	 auditd_state;

void
auditd_ack(enum proc_id to, uint32_t id, const struct audit_ack *ack)
{
	struct child_chan	*ch = to == PROC_MCPD ? &auditd->mcpd :
	    &child_parent;

	if (ch->cb == NULL)
		return;		/* mcpd is gone; the parent stops us soon */
	child_chan_send(ch, IMSG_AUDIT_ACK, id, -1, ack, sizeof(*ack));
}

/* A checkpoint is on disk: the parent keeps it out of our reach. */
static void
auditd_anchor(const struct audit_anchor *a)
{
	child_chan_send(&child_parent, IMSG_AUDIT_ANCHOR, 0, -1, a,
	    sizeof(*a));
}

static void
auditd_commit(void *arg)
{
	(void)arg;
	journal_commit(&auditd->j);
}

/*
 * One record from a sender.  Anything but a JSON object naming a known
 * event that this sender may write (the table in common/audit_record.c),
 * free of the writer's own keys, means the sender is not itself.
 */
static void
auditd_record(enum proc_id from, struct imsg *imsg)
{
	json_error_t	 jerr;
	json_t		*fields;
	const void	*data;
	size_t		 len;

	imsg_get_buf(imsg, &data, &len);
	if ((fields = json_loadb(data, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL || !json_is_object(fields) ||
	    journal_append(&auditd->j, from, imsg_get_id(imsg), fields,
	    imsg_get_type(imsg) == IMSG_AUDIT_RECORD_NOWAIT) == -1)
		fatalx("malformed or forbidden audit record from %s: it is "
		    "not itself", proc_name(from));
	json_decref(fields);
	/* Written once this turn of the loop has seen every channel. */
	if (!ev_timer_pending(&auditd->commit_timer))
		ev_timer_add(&auditd->commit_timer, 0);
}

/* A record written: to syslog too, when audit.syslog asks. */
static void
auditd_written(const char *line, size_t len, uint64_t seq)
{
	asyslog_send(&auditd->syslog, &auditd->j.stats, line, len, seq);
}

/*
 * audit.syslog, and the socket the parent connected to /dev/log for it
 * (none when it is off, or /dev/log could not be reached).
 */
static void
auditd_syslog(struct imsg *imsg)
{
	struct audit_syslog	 as;
	int			 fd;

	child_imsg_fixed("parent", imsg, &as, sizeof(as));
	fd = imsg_get_fd(imsg);
	as.tag[sizeof(as.tag) - 1] = '\0';
	if (as.facility < 0 || as.facility > LOG_LOCAL7 ||
	    (as.facility & LOG_PRIMASK) != 0 || as.tag[0] == '\0' ||
	    (!as.enabled && fd != -1)) {
		if (fd != -1)
			close(fd);
		child_bad_imsg("parent", imsg);
	}
	asyslog_set(&auditd->syslog, &as, fd);
	auditd->j.stats.syslog_connected = fd != -1;
}

static void
auditd_reconf(const struct conf_snapshot *snap)
{
	auditd->conf = *snap;
	journal_reconf(&auditd->j, snap->audit_max_file_size,
	    snap->audit_fsync);
}

/* The parent's messages for auditd alone; 1 when handled. */
int
auditd_dispatch_parent(struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_AUDIT_RECORD:
		auditd_record(PROC_PARENT, imsg);
		return (1);
	case IMSG_AUDIT_SYSLOG:
		auditd_syslog(imsg);
		return (1);
	case IMSG_AUDIT_SEAL:
		child_imsg_fixed("parent", imsg, NULL, 0);
		journal_seal(&auditd->j);
		child_chan_send(&child_parent, IMSG_AUDIT_SEALED, 0, -1, NULL,
		    0);
		return (1);
	case IMSG_STATUS_REQ:
		child_imsg_fixed("parent", imsg, NULL, 0);
		child_chan_send(&child_parent, IMSG_STATUS_AUDITD,
		    imsg_get_id(imsg), -1, &auditd->j.stats,
		    sizeof(auditd->j.stats));
		return (1);
	default:
		return (0);
	}
}

void
auditd_dispatch_mcpd(int fd, short events, void *arg)
{
	struct imsg	 imsg;
	ssize_t		 n;

	(void)fd;
	(void)arg;
	if (child_chan_io(&auditd->mcpd, events, "mcpd") == -1)
		return;
	for (;;) {
		if ((n = imsgbuf_get(&auditd->mcpd.ibuf, &imsg)) == -1)
			fatal("bad message from mcpd");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_AUDIT_RECORD:
		case IMSG_AUDIT_RECORD_NOWAIT:
			auditd_record(PROC_MCPD, &imsg);
			break;
		default:
			child_bad_imsg("mcpd", &imsg);
		}
		imsg_free(&imsg);
	}
	child_chan_events(&auditd->mcpd);
}

/* The daemon stops cleanly: seal the log. */
static void
auditd_stop(void)
{
	journal_close(&auditd->j);
	log_debug("audit log closed at record %llu",
	    (unsigned long long)auditd->j.seq);
}

/* What only auditd receives at set-up. */
static int		 audit_dirfd = -1;
static EVP_PKEY		*audit_key;

static void
auditd_init(struct imsg *imsg)
{
	struct init_peer	 peer;
	struct audit_key	 akey;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_INIT_PEER:
		child_imsg_fixed("parent", imsg, &peer, sizeof(peer));
		if (peer.proc != PROC_MCPD || auditd->mcpd.cb != NULL ||
		    (fd = imsg_get_fd(imsg)) == -1)
			child_bad_imsg("parent", imsg);
		child_chan_init(&auditd->mcpd, fd, 0, auditd_dispatch_mcpd,
		    NULL);
		break;
	case IMSG_INIT_AUDIT_DIR:
		child_imsg_fixed("parent", imsg, NULL, 0);
		if (audit_dirfd != -1 ||
		    (audit_dirfd = imsg_get_fd(imsg)) == -1)
			child_bad_imsg("parent", imsg);
		break;
	case IMSG_INIT_AUDIT_KEY:
		child_imsg_fixed("parent", imsg, &akey, sizeof(akey));
		if (audit_key != NULL) {
			explicit_bzero(&akey, sizeof(akey));
			child_bad_imsg("parent", imsg);
		}
		audit_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519,
		    NULL, akey.seed, sizeof(akey.seed));
		explicit_bzero(&akey, sizeof(akey));
		if (audit_key == NULL)
			fatalx("bad audit key from the parent");
		break;
	case IMSG_AUDIT_SYSLOG:
		auditd_syslog(imsg);
		break;
	default:
		child_bad_imsg("parent", imsg);
	}
}

static const struct child_ops auditd_ops = {
	auditd_init, auditd_reconf, auditd_dispatch_parent
};

void
auditd_main(int foreground, int verbose)
{
	struct child_init	 ci;
	json_t			*warm;
	char			*line;
	size_t			 len;

	child_setup(PROC_AUDITD, foreground, verbose);
	auditd = &auditd_state;
	asyslog_init(&auditd->syslog);

	child_receive_init(&ci, &auditd_ops);
	auditd->conf = ci.conf;
	if (auditd->mcpd.cb == NULL || audit_dirfd == -1 || audit_key == NULL)
		fatalx("incomplete set-up from the parent");
	imsgbuf_set_maxmsg(&child_parent.ibuf, auditd->conf.max_message_size);
	imsgbuf_set_maxmsg(&auditd->mcpd.ibuf, auditd->conf.max_message_size);

	/*
	 * Load what signing and hashing need now: OpenSSL fetches its
	 * algorithms on first use, jansson seeds its hash from /dev/urandom.
	 */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	json_object_seed(0);
	warm = json_object();
	if ((line = audit_checkpoint_format(audit_key, 1, 0, audit_zero_hash,
	    warm, &len)) == NULL)
		fatalx("cannot sign with the audit key");
	free(line);
	json_decref(warm);
	if (ev_init() == -1)
		fatal("ev_init");
	/* The time zone, for syslog's local time, while /etc is in reach. */
	tzset();

	sandbox_enter(&auditd_sandbox, &ci.creds, audit_dirfd);

	journal_init(&auditd->j, audit_dirfd, audit_key,
	    auditd->conf.audit_max_file_size, auditd->conf.audit_fsync);
	auditd->j.on_anchor = auditd_anchor;
	auditd->j.on_written = auditd_written;
	auditd->j.stats.syslog_connected = auditd->syslog.fd != -1;
	ev_timer_set(&auditd->commit_timer, auditd_commit, NULL);
	if (journal_recover(&auditd->j) == -1)
		fatalx("cannot continue the audit log");
	child_on_stop(auditd_stop);
	child_chan_init(&child_parent, PROC_PARENT_FD, 1,
	    child_dispatch_parent, (void *)&auditd_ops);
	child_chan_events(&child_parent);
	child_chan_events(&auditd->mcpd);
	child_chan_send(&child_parent, IMSG_READY, 0, -1, NULL, 0);
	if (ev_dispatch() == -1)
		fatal("event loop");
	exit(0);
}
