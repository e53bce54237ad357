/*
 * UTF-8 in one place.  utf8_valid is the strict check every session line
 * passes; the others assume text that passed it (or that jansson, which
 * checks the same, produced) and only look for the bytes that start a
 * character.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "utf8.h"

/* A byte that continues a character, 10xxxxxx. */
#define UTF8_CONT(c)	(((unsigned char)(c) & 0xc0) == 0x80)

/*
 * Whether buf is UTF-8 as RFC 3629 has it: no overlong forms, no
 * surrogates, nothing above U+10FFFF.
 */
int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return (0);
		if (len - i < n)
			return (0);
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += n;
	}
	return (1);
}

/*
 * The length of the longest prefix of s (UTF-8, len bytes) of at most
 * max bytes that ends on a character boundary.
 */
size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return (len);
	while (max > 0 && UTF8_CONT(s[max]))
		max--;
	return (max);
}

/* Copy a client's string, cut on a character boundary to fit. */
void
utf8_copy(char *dst, size_t size, const char *src)
{
	size_t	 n = utf8_cut(src, strlen(src), size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Characters, not bytes, in a UTF-8 string. */
size_t
utf8_chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (!UTF8_CONT(*s))
			n++;
	return (n);
}

/*
 * Where character number n (from 0) of s starts, in bytes: the length of
 * its first n characters, or all of s when it has no more.
 */
size_t
utf8_offset(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (UTF8_CONT(s[i]))
			continue;
		if (n-- == 0)
			break;
	}
	return (i);
}
