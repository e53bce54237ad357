/*
 * Unit tests of the small helpers in common/util.c that the programs
 * share: a JSON string member or "", SHA-256 as hex, the characters of
 * names, and the monotonic clock.
 */
#include <sys/types.h>

#include <string.h>

#include <jansson.h>

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

int
main(void)
{
	t_suite = "util";
	T_RUN(test_jstr);
	return (t_done());
}
