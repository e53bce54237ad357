/*
 * Unit tests of common/utf8.c: the strict check of RFC 3629, cuts on a
 * character boundary, counts of characters and where one starts.
 */
#include <sys/types.h>

#include <string.h>

#include "unit.h"
#include "utf8.h"

static void
test_utf8(void)
{
	static const struct {
		const char	*s;
		int		 ok;
	} cases[] = {
		{ "plain ascii", 1 },
		{ "caf\xc3\xa9", 1 },
		{ "\xe2\x82\xac", 1 },			/* U+20AC */
		{ "\xf0\x9f\x98\x80", 1 },		/* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 1 },		/* U+10FFFF */
		{ "\xc3\x28", 0 },			/* bad continuation */
		{ "\xc0\xaf", 0 },			/* overlong '/' */
		{ "\xe0\x80\xaf", 0 },			/* overlong */
		{ "\xed\xa0\x80", 0 },			/* surrogate */
		{ "\xf4\x90\x80\x80", 0 },		/* above U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", 0 },		/* 5 bytes */
		{ "\xff", 0 },
		{ "abc\xe2\x82", 0 },			/* cut short */
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_ASSERTF(utf8_valid((const unsigned char *)cases[i].s,
		    strlen(cases[i].s)) == cases[i].ok, "case %zu", i);
}

static void
test_utf8_cut(void)
{
	char	 buf[8];

	/* "caf\xc3\xa9" cut at 4 bytes stops before the split character. */
	T_ASSERT(utf8_cut("caf\xc3\xa9", 5, 4) == 3);
	T_ASSERT(utf8_cut("caf\xc3\xa9", 5, 5) == 5);
	T_ASSERT(utf8_cut("\xe2\x82\xac\xe2\x82\xac", 6, 4) == 3);
	utf8_copy(buf, sizeof(buf), "ab\xe2\x82\xac\xe2\x82\xac");
	T_ASSERTF(strcmp(buf, "ab\xe2\x82\xac") == 0, "%s", buf);
}

static void
test_utf8_chars(void)
{
	T_ASSERT(utf8_chars("") == 0);
	T_ASSERT(utf8_chars("abc") == 3);
	T_ASSERT(utf8_chars("caf\xc3\xa9") == 4);
	T_ASSERT(utf8_chars("\xe2\x82\xac\xf0\x9f\x98\x80") == 2);
	/* Twelve characters in twenty-four bytes. */
	T_ASSERT(utf8_chars("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9") == 12);
}

static void
test_utf8_offset(void)
{
	/* a, e acute, the euro sign, b */
	const char	*s = "a\xc3\xa9\xe2\x82\xac" "b";

	T_ASSERT(utf8_offset(s, 0) == 0);
	T_ASSERT(utf8_offset(s, 1) == 1);
	T_ASSERT(utf8_offset(s, 2) == 3);
	T_ASSERT(utf8_offset(s, 3) == 6);
	T_ASSERT(utf8_offset(s, 4) == 7);
	/* Past the end: all of it. */
	T_ASSERT(utf8_offset(s, 5) == 7);
	T_ASSERT(utf8_offset(s, 100) == 7);
	T_ASSERT(utf8_offset("", 0) == 0);
	/* Never in the middle of a character. */
	T_ASSERT(utf8_offset("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 1) == 4);
}

int
main(void)
{
	t_suite = "utf8";
	T_RUN(test_utf8);
	T_RUN(test_utf8_cut);
	T_RUN(test_utf8_chars);
	T_RUN(test_utf8_offset);
	return (t_done());
}
