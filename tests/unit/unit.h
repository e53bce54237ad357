/*
 * A minimal test harness for the unit tests.  Each test program is one
 * file; each test is a function run with T_RUN().  Output, one line per
 * test, is what tests/run counts:
 *
 *	PASS suite: name
 *	FAIL suite: name: file:line: what failed
 *	SKIP suite: name: why
 *
 * main() ends with return (t_done());, non-zero when anything failed.
 */
#ifndef MCPGATE_UNIT_H
#define MCPGATE_UNIT_H

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char	*t_suite = "unit";
static const char	*t_name;
static int		 t_failed_now, t_skipped_now;
static int		 t_npass, t_nfail, t_nskip;

static void
t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), unused));

static void
t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	if (t_failed_now++)
		return;
	printf("FAIL %s: %s: %s:%d: ", t_suite, t_name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void
t_skip(const char *why) __attribute__((unused));

static void
t_skip(const char *why)
{
	if (t_skipped_now++)
		return;
	printf("SKIP %s: %s: %s\n", t_suite, t_name, why);
	fflush(stdout);
}

static void
t_run(const char *name, void (*fn)(void)) __attribute__((unused));

static void
t_run(const char *name, void (*fn)(void))
{
	t_name = name;
	t_failed_now = t_skipped_now = 0;
	fn();
	if (t_failed_now)
		t_nfail++;
	else if (t_skipped_now)
		t_nskip++;
	else {
		t_npass++;
		printf("PASS %s: %s\n", t_suite, name);
	}
	fflush(stdout);
}

/*
 * Run fn in a child, so that a crash, a sanitizer report, a runaway
 * allocation or a hang in the code under test fails one test instead of
 * ending the suite.  Returns the child's exit status, or 128 and the
 * signal that killed it.
 */
static int
t_in_child(int (*fn)(void)) __attribute__((unused));

static int
t_in_child(int (*fn)(void))
{
	pid_t	 pid;
	int	 status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0)
		_exit(fn());
	if (waitpid(pid, &status, 0) == -1)
		return (-1);
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (-1);
}

static int
t_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

/* Remove dir and everything below it; -1 on failure. */
static int
t_rmtree(const char *dir) __attribute__((unused));

static int
t_rmtree(const char *dir)
{
	return (nftw(dir, t_rm_entry, 16, FTW_DEPTH | FTW_PHYS));
}

static int
t_done(void) __attribute__((unused));

static int
t_done(void)
{
	return (t_nfail > 0 ? 1 : 0);
}

#define T_RUN(fn)	t_run(#fn, fn)

/* Check a condition; on failure report it and leave the test. */
#define T_ASSERT(cond) do {						\
	if (!(cond)) {							\
		t_fail(__FILE__, __LINE__, "%s", #cond);		\
		return;							\
	}								\
} while (0)

#define T_ASSERTF(cond, ...) do {					\
	if (!(cond)) {							\
		t_fail(__FILE__, __LINE__, __VA_ARGS__);		\
		return;							\
	}								\
} while (0)

#define T_SKIP(why) do {						\
	t_skip(why);							\
	return;								\
} while (0)

#endif
