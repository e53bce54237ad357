/*
 * What the BSD code this project follows expects and Linux's headers, or
 * libbsd's, leave out.  Include it after the system headers.
 */
#ifndef MCPGATE_COMPAT_H
#define MCPGATE_COMPAT_H

/*
 * libbsd's sys/tree.h marks the functions RB_GENERATE_STATIC writes
 * __unused; its cdefs.h leaves the define out on Linux, where a kernel
 * header has a member of that name.
 */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

/* close_range(2)'s flag, for C libraries older than glibc 2.34. */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

#endif
