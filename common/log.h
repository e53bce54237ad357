/*
 * Logging for every mcpgate process: to stderr in the foreground, to
 * syslog otherwise.  A child forwards each line to the parent over its
 * channel, and the parent writes it under the child's name: a sandboxed
 * child could not reconnect to /dev/log, and one child must not be able
 * to write lines that pass for another's.
 */
#ifndef MCPGATE_LOG_H
#define MCPGATE_LOG_H

#include <stdarg.h>
#include <syslog.h>

/* Severity thresholds, as log_level names them in the configuration. */
#define LOG_LINE_MAX	1024

#define LOG_LVL_ERROR	LOG_ERR
#define LOG_LVL_WARNING	LOG_WARNING
#define LOG_LVL_INFO	LOG_INFO
#define LOG_LVL_DEBUG	LOG_DEBUG

typedef void	(*log_forward_fn)(int, const char *);

void	log_init(int, int);
void	log_procinit(const char *);
void	log_setlevel(int);
int	log_getlevel(void);
void	log_setforward(log_forward_fn);
int	log_foreground(void);
void	log_emit(int, const char *);
void	log_emit_from(const char *, int, const char *);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vlog(int, const char *, va_list) __attribute__((format(printf, 2, 0)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
