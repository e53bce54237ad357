/*
 * The audit anchor: the newest checkpoint that auditd has written and
 * synced, kept in the state directory where the audit user cannot write.
 * Whoever can write the audit directory can remove its newest files or
 * cut them short; the anchor tells `mcpgatectl audit verify` how far the
 * log reached, so that such a cut no longer passes for an intact log.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_record.h"
#include "log.h"
#include "privsep.h"

static struct audit_anchor_file	 anchor;	/* seq 0: none yet */
static char			 anchor_path[PATH_MAX];
static int			 anchor_warned;

/* Read the anchor that the last run left, if any. */
void
anchor_init(const char *state_dir)
{
	char	 buf[4096 + 1], err[256];
	ssize_t	 n;
	int	 fd;

	memset(&anchor, 0, sizeof(anchor));
	anchor_warned = 0;
	if ((size_t)snprintf(anchor_path, sizeof(anchor_path), "%s/%s",
	    state_dir, AUDIT_ANCHOR_FILE) >= sizeof(anchor_path))
		fatalx("%s: state_dir too long", __func__);
	if ((fd = open(anchor_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		if (errno != ENOENT)
			log_warn("%s", anchor_path);
		return;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || audit_anchor_parse(buf, (size_t)n, &anchor, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: %s; the next audit checkpoint replaces it",
		    anchor_path, n < 0 ? strerror(errno) : err);
		memset(&anchor, 0, sizeof(anchor));
		return;
	}
	log_debug("audit anchor: checkpoint %" PRIu64 " in %s", anchor.seq,
	    anchor.file);
}

/*
 * auditd reports a checkpoint on disk.  Returns -1 for a report no honest
 * auditd sends.  A checkpoint at or before the anchor means the log was
 * cut or replaced while the daemon was stopped: the anchor stays, so that
 * verify goes on saying so, until an administrator removes it.
 */
int
anchor_update(const struct audit_anchor *a)
{
	struct audit_anchor_file	 na;
	uint64_t			 fseq;
	char				*line;
	size_t				 len;

	if (a->seq == 0 || memchr(a->sha256, '\0', sizeof(a->sha256)) ==
	    NULL || !audit_is_hash(a->sha256) ||
	    memchr(a->file, '\0', sizeof(a->file)) == NULL ||
	    audit_file_seq(a->file, &fseq) == -1 || fseq > a->seq)
		return (-1);
	if (a->seq <= anchor.seq) {
		if (a->seq == anchor.seq && strcmp(a->sha256,
		    anchor.sha256) == 0)
			return (0);
		if (!anchor_warned)
			log_warnx("the audit log now checkpoints record %"
			    PRIu64 ", but %s says the log reached a "
			    "checkpoint at record %" PRIu64 " in %s: it was "
			    "cut or replaced while the daemon was stopped; "
			    "'mcpgatectl audit verify' names what is "
			    "missing; remove %s once this is understood",
			    a->seq, anchor_path, anchor.seq, anchor.file,
			    anchor_path);
		anchor_warned = 1;
		return (0);
	}
	memset(&na, 0, sizeof(na));
	na.seq = a->seq;
	strlcpy(na.sha256, a->sha256, sizeof(na.sha256));
	strlcpy(na.file, a->file, sizeof(na.file));
	fmt_time_us(now_us(), na.time, sizeof(na.time));
	if ((line = audit_anchor_format(&na, &len)) == NULL)
		fatalx("%s: cannot format the anchor", __func__);
	if (write_file_atomic(anchor_path, line, len, 0644) == -1)
		log_warn("cannot write %s", anchor_path);
	else
		anchor = na;
	free(line);
	return (0);
}
