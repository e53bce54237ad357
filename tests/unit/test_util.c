/*
 * Unit tests of the small helpers in common/util.c that the programs
 * share: a JSON string member or "", SHA-256 as hex, the characters of
 * names, and the monotonic clock (common/ev.c).
 */
#include <sys/types.h>

#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ev.h"
#include "unit.h"
#include "util.h"

static void
test_jstr(void)
{
	json_t	*o;

	o = json_pack("{s:s,s:s,s:i,s:n,s:{}}", "name", "alice", "empty", "",
	    "n", 3, "null", "obj");
	T_ASSERT(o != NULL);
	T_ASSERT(strcmp(jstr(o, "name"), "alice") == 0);
	T_ASSERT(strcmp(jstr(o, "empty"), "") == 0);
	/* Missing, or not a string: "", never NULL. */
	T_ASSERT(strcmp(jstr(o, "missing"), "") == 0);
	T_ASSERT(strcmp(jstr(o, "n"), "") == 0);
	T_ASSERT(strcmp(jstr(o, "null"), "") == 0);
	T_ASSERT(strcmp(jstr(o, "obj"), "") == 0);
	/* Not an object at all. */
	T_ASSERT(strcmp(jstr(NULL, "name"), "") == 0);
	T_ASSERT(strcmp(jstr(json_object_get(o, "name"), "name"), "") == 0);
	json_decref(o);
}

/* FIPS 180-2's examples, and the empty string. */
static void
test_sha256_hex(void)
{
	char	 hex[SHA256_HEX_LEN + 1];

	memset(hex, 'x', sizeof(hex));
	sha256_hex("abc", 3, hex);
	T_ASSERT(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad") == 0);
	sha256_hex("", 0, hex);
	T_ASSERT(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855") == 0);
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, hex);
	T_ASSERT(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1") == 0);
}

/* ASCII letters, digits and the punctuation asked for; nothing else. */
static void
test_name_char(void)
{
	const char	*ok = "azAZ09";
	int		 c;

	for (; *ok != '\0'; ok++)
		T_ASSERTF(name_char(*ok, "") && name_char(*ok, NAME_PUNCT),
		    "'%c' refused", *ok);
	T_ASSERT(name_char('.', NAME_PUNCT) && name_char('_', NAME_PUNCT) &&
	    name_char('-', NAME_PUNCT));
	T_ASSERT(name_char('.', HOST_PUNCT) && name_char('-', HOST_PUNCT));
	T_ASSERT(!name_char('_', HOST_PUNCT));
	T_ASSERT(!name_char('@', NAME_PUNCT) && name_char('@', NAME_PUNCT "@"));
	T_ASSERT(!name_char('.', ""));
	/* The NUL that ends punct is not one of its characters. */
	T_ASSERT(!name_char('\0', NAME_PUNCT));
	for (c = 0; c < 256; c++) {
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("._-@", c) != NULL)
			continue;
		/* Spaces, '/', ':', controls and bytes of UTF-8: never. */
		T_ASSERTF(!name_char(c, NAME_PUNCT "@"), "%d accepted", c);
	}
}

/* Milliseconds that never go back and count a sleep as it was. */
static void
test_clock(void)
{
	struct timespec	 ts = { 0, 50 * 1000000 };
	uint64_t	 a, b;

	a = ev_now_ms();
	T_ASSERT(a > 0);
	T_ASSERT(nanosleep(&ts, NULL) == 0);
	b = ev_now_ms();
	T_ASSERTF(b >= a + 50 && b < a + 5000, "%llu ms after %llu",
	    (unsigned long long)b, (unsigned long long)a);
}

int
main(void)
{
	t_suite = "util";
	T_RUN(test_jstr);
	T_RUN(test_sha256_hex);
	T_RUN(test_name_char);
	T_RUN(test_clock);
	return (t_done());
}
