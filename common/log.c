#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_fg = 1;
static int		 log_level = LOG_LVL_INFO;
static const char	*log_proc = "mcpgated";
static log_forward_fn	 log_fwd;

/*
 * Open the log.  In the foreground everything goes to stderr; otherwise
 * to syslog, connected now (LOG_NDELAY) because a sandboxed process could
 * not open /dev/log later.  Children forward their lines to the parent
 * either way (log_setforward).
 */
void
log_init(int foreground, int facility)
{
	log_fg = foreground;
	if (!log_fg)
		openlog("mcpgated", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		log_proc = name;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return (log_level);
}

/* Children hand their lines to the parent. */
void
log_setforward(log_forward_fn fn)
{
	log_fwd = fn;
}

int
log_foreground(void)
{
	return (log_fg);
}

/*
 * Write one finished line as process proc, wherever this process logs:
 * the parent writes its children's lines so, under their names.  Control
 * characters become '?', so that a line cannot pass for two.
 */
void
log_emit_from(const char *proc, int pri, const char *msg)
{
	char	 line[LOG_LINE_MAX + 64];
	int	 n, i;

	n = snprintf(line, sizeof(line), "%s: %s", proc, msg);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (n < 0)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (log_fg) {
		/* Not dprintf(3): it seeks, which no sandbox allows. */
		line[n++] = '\n';
		if (write(STDERR_FILENO, line, (size_t)n) == -1)
			return;
		return;
	}
	line[n] = '\0';
	syslog(pri, "%s", line);
}

/* Write one finished line, wherever this process logs. */
void
log_emit(int pri, const char *msg)
{
	/* A child's lines travel to the parent, which writes them. */
	if (log_fwd != NULL)
		log_fwd(pri, msg);
	else
		log_emit_from(log_proc, pri, msg);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINE_MAX];

	if (pri > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(pri, msg);
}

static void
vlog_errno(int pri, int saved, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINE_MAX];
	size_t	 len;

	if (pri > log_level)
		return;
	if (fmt == NULL) {
		strlcpy(msg, strerror(saved), sizeof(msg));
	} else {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		len = strlen(msg);
		if (len < sizeof(msg))
			snprintf(msg + len, sizeof(msg) - len, ": %s",
			    strerror(saved));
	}
	log_emit(pri, msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
