/*
 * UTF-8: the strict check of what clients send (RFC 3629), cuts on a
 * character boundary, and counts of characters for display and for
 * password lengths.
 */
#ifndef MCPGATE_UTF8_H
#define MCPGATE_UTF8_H

#include <stddef.h>

int	 utf8_valid(const unsigned char *, size_t);
size_t	 utf8_cut(const char *, size_t, size_t);
void	 utf8_copy(char *, size_t, const char *);
size_t	 utf8_chars(const char *);
size_t	 utf8_offset(const char *, size_t);

#endif
