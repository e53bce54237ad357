/*
 * auditd: main, set-up and the dispatch of its two channels.  The parent
 * and mcpd send records; both hear back whether each was written.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
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

static void
auditd_commit(void *arg)
{
	(void)arg;
	journal_commit(&auditd->j);
}

/*
 * One record from a sender.  Anything but a JSON object naming a known
 * event and free of the writer's own keys means the sender is not itself.
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
	    journal_append(&auditd->j, from, imsg_get_id(imsg), fields) == -1)
		fatalx("malformed audit record from %s", proc_name(from));
	json_decref(fields);
	/* Written once this turn of the loop has seen every channel. */
	if (!ev_timer_pending(&auditd->commit_timer))
		ev_timer_add(&auditd->commit_timer, 0);
}

static void
auditd_dispatch_parent(int fd, short events, void *arg)
{
	struct imsg		 imsg;
	struct conf_snapshot	 snap;
	ssize_t			 n;

	(void)fd;
	(void)arg;
	child_chan_io(&child_parent, events, "parent");
	for (;;) {
		if ((n = imsgbuf_get(&child_parent.ibuf, &imsg)) == -1)
			fatal("bad message from the parent");
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_AUDIT_RECORD:
			auditd_record(PROC_PARENT, &imsg);
			break;
		case IMSG_RECONF:
			if (imsg_get_data(&imsg, &snap, sizeof(snap)) == -1)
				child_bad_imsg("parent", &imsg);
			auditd->conf = snap;
			journal_reconf(&auditd->j, snap.audit_max_file_size,
			    snap.audit_fsync);
			child_log_level(snap.log_level);
			break;
		case IMSG_STATUS_REQ:
			child_chan_send(&child_parent, IMSG_STATUS_AUDITD,
			    imsg_get_id(&imsg), -1, &auditd->j.stats,
			    sizeof(auditd->j.stats));
			break;
		default:
			if (!child_common_imsg(&imsg))
				child_bad_imsg("parent", &imsg);
		}
		imsg_free(&imsg);
	}
	child_chan_events(&child_parent);
}

static void
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
		if (imsg_get_type(&imsg) != IMSG_AUDIT_RECORD)
			child_bad_imsg("mcpd", &imsg);
		auditd_record(PROC_MCPD, &imsg);
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

void
auditd_main(int foreground, int verbose)
{
	struct sandbox_creds	 creds;
	struct init_peer	 peer;
	struct audit_key	 akey;
	struct imsg		 imsg;
	EVP_PKEY		*key = NULL;
	json_t			*warm;
	char			*line;
	size_t			 len;
	int			 fd, dirfd = -1, done = 0, have_creds = 0;
	int			 have_conf = 0, have_mcpd = 0;

	child_setup(PROC_AUDITD, foreground, verbose);
	auditd = &auditd_state;

	while (!done) {
		child_recv(&child_parent, &imsg);
		switch (imsg_get_type(&imsg)) {
		case IMSG_INIT_CREDS:
			if (imsg_get_data(&imsg, &creds, sizeof(creds)) == -1)
				child_bad_imsg("parent", &imsg);
			creds.root[sizeof(creds.root) - 1] = '\0';
			have_creds = 1;
			break;
		case IMSG_INIT_CONF:
			if (imsg_get_data(&imsg, &auditd->conf,
			    sizeof(auditd->conf)) == -1)
				child_bad_imsg("parent", &imsg);
			child_log_level(auditd->conf.log_level);
			have_conf = 1;
			break;
		case IMSG_INIT_PEER:
			if (imsg_get_data(&imsg, &peer, sizeof(peer)) == -1 ||
			    peer.proc != PROC_MCPD || have_mcpd ||
			    (fd = imsg_get_fd(&imsg)) == -1)
				child_bad_imsg("parent", &imsg);
			child_chan_init(&auditd->mcpd, fd, 0,
			    auditd_dispatch_mcpd, NULL);
			have_mcpd = 1;
			break;
		case IMSG_INIT_AUDIT_DIR:
			if (imsg_get_len(&imsg) != 0 || dirfd != -1 ||
			    (dirfd = imsg_get_fd(&imsg)) == -1)
				child_bad_imsg("parent", &imsg);
			break;
		case IMSG_INIT_AUDIT_KEY:
			if (imsg_get_data(&imsg, &akey, sizeof(akey)) == -1 ||
			    key != NULL)
				child_bad_imsg("parent", &imsg);
			key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519,
			    NULL, akey.seed, sizeof(akey.seed));
			explicit_bzero(&akey, sizeof(akey));
			if (key == NULL)
				fatalx("bad audit key from the parent");
			break;
		case IMSG_INIT_DONE:
			done = 1;
			break;
		default:
			child_bad_imsg("parent", &imsg);
		}
		imsg_free(&imsg);
	}
	if (!have_creds || !have_conf || !have_mcpd || dirfd == -1 ||
	    key == NULL)
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
	if ((line = audit_checkpoint_format(key, 1, 0, audit_zero_hash, warm,
	    &len)) == NULL)
		fatalx("cannot sign with the audit key");
	free(line);
	json_decref(warm);
	if (ev_init() == -1)
		fatal("ev_init");

	sandbox_enter(&auditd_sandbox, &creds, dirfd);

	journal_init(&auditd->j, dirfd, key, auditd->conf.audit_max_file_size,
	    auditd->conf.audit_fsync);
	ev_timer_set(&auditd->commit_timer, auditd_commit, NULL);
	if (journal_recover(&auditd->j) == -1)
		fatalx("cannot continue the audit log");
	child_on_stop(auditd_stop);
	child_chan_init(&child_parent, PROC_PARENT_FD, 1,
	    auditd_dispatch_parent, NULL);
	child_chan_events(&child_parent);
	child_chan_events(&auditd->mcpd);
	child_chan_send(&child_parent, IMSG_READY, 0, -1, NULL, 0);
	if (ev_dispatch() == -1)
		fatal("event loop");
	exit(0);
}
