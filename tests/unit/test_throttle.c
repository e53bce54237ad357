/*
 * Unit tests for privsep/throttle.c: address prefixes, the delays that
 * double up to their cap, the prefix throttle across user names, the
 * lock that needs many prefixes, forgetting, eviction from a full table,
 * and the rate of refusal records.  Time is made up: milliseconds from
 * an arbitrary start.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "../../privsep/privsep.h"
#include "unit.h"

static struct mcpgated_conf conf;

static void
setup(void)
{
	throttle_clear();
	config_defaults(&conf);
	conf.throttle_failures = 3;
	conf.throttle_prefix_failures = 8;
	conf.throttle_delay = 1000;
	conf.throttle_max_delay = 4000;
	conf.lock_failures = 6;
	conf.lock_prefixes = 3;
	conf.lock_duration = 60000;
	conf.failure_memory = 600000;
	conf.throttle_entries = 16;
}

static int
prefix_is(const char *remote, const char *addr, const char *prefix)
{
	char	 a[CONN_ADDR_MAX], p[THROTTLE_PREFIXLEN];

	throttle_addr(remote, a, sizeof(a), p, sizeof(p));
	if (strcmp(a, addr) != 0 || strcmp(p, prefix) != 0) {
		printf("# %s: got %s and %s\n", remote, a, p);
		return (0);
	}
	return (1);
}

static void
test_prefixes(void)
{
	T_ASSERT(prefix_is("127.0.0.2:5555", "127.0.0.2", "127.0.0.0/24"));
	T_ASSERT(prefix_is("127.0.1.5:1", "127.0.1.5", "127.0.1.0/24"));
	T_ASSERT(prefix_is("192.0.2.255", "192.0.2.255", "192.0.2.0/24"));
	T_ASSERT(prefix_is("[2001:db8:1:2:3:4:5:6]:443",
	    "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"));
	T_ASSERT(prefix_is("[2001:db8:1:2:ffff::1]:443",
	    "2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"));
	T_ASSERT(prefix_is("[::1]:3080", "::1", "::/64"));
	T_ASSERT(prefix_is("[::ffff:10.1.2.3]:9", "::ffff:10.1.2.3",
	    "10.1.2.0/24"));
	T_ASSERT(prefix_is("[fe80::1%eth0]:9", "fe80::1%eth0", "fe80::/64"));
	/* What does not parse is its own prefix. */
	T_ASSERT(prefix_is("nonsense", "nonsense", "nonsense"));
	T_ASSERT(prefix_is("", "", "unknown"));
	T_ASSERT(prefix_is("[", "", "unknown"));
	T_ASSERT(prefix_is("1.2.3.4:5:6", "1.2.3.4:5:6", "1.2.3.4:5:6"));
}

static enum throttle_why
check(const char *user, const char *prefix, int64_t now, int64_t *wait)
{
	return (throttle_check(user, prefix, now, wait));
}

static void
test_delays_double_to_cap(void)
{
	uint64_t	 failures, prefixes;
	int64_t		 t = 1000000, wait;

	setup();
	T_ASSERT(check("alice", "127.0.0.0/24", t, &wait) == THR_OK);
	T_ASSERT(throttle_failed(&conf, "alice", "127.0.0.0/24", t) == 0);
	T_ASSERT(throttle_failed(&conf, "alice", "127.0.0.0/24", t) == 0);
	/* Two failures are free. */
	T_ASSERT(check("alice", "127.0.0.0/24", t, &wait) == THR_OK);
	throttle_failed(&conf, "alice", "127.0.0.0/24", t);
	T_ASSERT(check("alice", "127.0.0.0/24", t, &wait) == THR_PAIR);
	T_ASSERTF(wait == 1000, "wait %lld", (long long)wait);
	T_ASSERT(check("alice", "127.0.0.0/24", t + 999, &wait) == THR_PAIR);
	T_ASSERT(wait == 1);
	t += 1000;
	T_ASSERT(check("alice", "127.0.0.0/24", t, &wait) == THR_OK);
	throttle_failed(&conf, "alice", "127.0.0.0/24", t);
	T_ASSERT(check("alice", "127.0.0.0/24", t, &wait) == THR_PAIR);
	T_ASSERTF(wait == 2000, "wait %lld", (long long)wait);
	t += 2000;
	throttle_failed(&conf, "alice", "127.0.0.0/24", t);
	T_ASSERT(check("alice", "127.0.0.0/24", t, &wait) == THR_PAIR);
	T_ASSERTF(wait == 4000, "wait %lld", (long long)wait);
	t += 4000;
	throttle_failed(&conf, "alice", "127.0.0.0/24", t);
	T_ASSERT(check("alice", "127.0.0.0/24", t, &wait) == THR_PAIR);
	T_ASSERTF(wait == 4000, "capped: wait %lld", (long long)wait);

	/* Nobody else is touched: not alice elsewhere, not bob here. */
	T_ASSERT(check("alice", "127.0.1.0/24", t, &wait) == THR_OK);
	T_ASSERT(check("bob", "127.0.0.0/24", t, &wait) == THR_OK);
	T_ASSERT(!throttle_locked("alice", t, &wait, &failures, &prefixes));

	/* The right password clears this user's delay from this prefix. */
	throttle_succeeded("alice", "127.0.0.0/24");
	T_ASSERT(check("alice", "127.0.0.0/24", t, &wait) == THR_OK);
}

static void
test_prefix_across_users(void)
{
	char	 user[32];
	int64_t	 t = 5000, wait;
	int	 i;

	setup();
	for (i = 0; i < 7; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		throttle_failed(&conf, user, "10.0.0.0/24", t);
	}
	T_ASSERT(check("carol", "10.0.0.0/24", t, &wait) == THR_OK);
	throttle_failed(&conf, "u7", "10.0.0.0/24", t);
	T_ASSERT(check("carol", "10.0.0.0/24", t, &wait) == THR_PREFIX);
	T_ASSERT(wait == 1000);
	T_ASSERT(check("carol", "10.0.1.0/24", t, &wait) == THR_OK);
	t += 1000;
	throttle_failed(&conf, "u8", "10.0.0.0/24", t);
	T_ASSERT(check("carol", "10.0.0.0/24", t, &wait) == THR_PREFIX);
	T_ASSERT(wait == 2000);
	/* A success does not clear the prefix's count. */
	throttle_succeeded("u8", "10.0.0.0/24");
	T_ASSERT(check("carol", "10.0.0.0/24", t, &wait) == THR_PREFIX);
	/* With both, the longer wait is told. */
	throttle_failed(&conf, "u8", "10.0.0.0/24", t);
	throttle_failed(&conf, "u8", "10.0.0.0/24", t);
	throttle_failed(&conf, "u8", "10.0.0.0/24", t);
	T_ASSERT(check("u8", "10.0.0.0/24", t, &wait) == THR_PREFIX);
	T_ASSERT(wait == 4000);
}

static void
test_forgotten(void)
{
	int64_t	 t = 0, wait;
	int	 i;

	setup();
	for (i = 0; i < 5; i++)
		throttle_failed(&conf, "dave", "192.0.2.0/24", t);
	T_ASSERT(check("dave", "192.0.2.0/24", t, &wait) == THR_PAIR);
	/* A failure within failure_memory goes on doubling. */
	t += 500000;
	throttle_failed(&conf, "dave", "192.0.2.0/24", t);
	T_ASSERT(check("dave", "192.0.2.0/24", t, &wait) == THR_PAIR &&
	    wait == 4000);
	/* After failure_memory without one, the count starts over. */
	t += 600000;
	T_ASSERT(check("dave", "192.0.2.0/24", t, &wait) == THR_OK);
	throttle_failed(&conf, "dave", "192.0.2.0/24", t);
	T_ASSERT(check("dave", "192.0.2.0/24", t, &wait) == THR_OK);
}

static void
test_lock_needs_prefixes(void)
{
	uint64_t	 failures, prefixes;
	int64_t		 t = 10, wait, left;
	int		 i;

	setup();
	conf.throttle_failures = 1000;	/* no delays in the way */
	conf.throttle_prefix_failures = 1000;
	/* Many failures from two prefixes: no lock. */
	for (i = 0; i < 20; i++)
		T_ASSERT(throttle_failed(&conf, "erin", i % 2 ? "a" : "b",
		    t) == 0);
	T_ASSERT(check("erin", "c", t, &wait) == THR_OK);
	T_ASSERT(!throttle_locked("erin", t, &left, &failures, &prefixes));
	/* A third prefix: locked, also against a fourth. */
	T_ASSERT(throttle_failed(&conf, "erin", "c", t) == 1);
	T_ASSERT(check("erin", "d", t, &wait) == THR_LOCKED);
	T_ASSERT(wait == 60000);
	T_ASSERT(throttle_locked("erin", t, &left, &failures, &prefixes));
	T_ASSERT(left == 60000 && failures == 21 && prefixes == 3);
	/* Another user is not locked. */
	T_ASSERT(check("frank", "d", t, &wait) == THR_OK);
	/* More failures do not lock it again. */
	T_ASSERT(throttle_failed(&conf, "erin", "d", t) == 0);

	/* The lock runs out, and the count starts over. */
	t += 60000;
	T_ASSERT(check("erin", "d", t, &wait) == THR_OK);
	T_ASSERT(!throttle_locked("erin", t, &left, &failures, &prefixes));
	T_ASSERT(throttle_failed(&conf, "erin", "a", t) == 0);
	T_ASSERT(check("erin", "a", t, &wait) == THR_OK);
}

static void
test_unlock(void)
{
	int64_t	 t = 10, wait;
	int	 i;

	setup();
	/* Three from a (delayed there), two from b, one from c: locked. */
	for (i = 0; i < 6; i++)
		throttle_failed(&conf, "gina", i < 3 ? "a" : i < 5 ? "b" :
		    "c", t);
	throttle_failed(&conf, "ginax", "a", t);
	throttle_failed(&conf, "ginax", "a", t);
	throttle_failed(&conf, "ginax", "a", t);
	T_ASSERT(check("gina", "e", t, &wait) == THR_LOCKED);
	T_ASSERT(throttle_unlock("gina", t) == 1);
	T_ASSERT(check("gina", "e", t, &wait) == THR_OK);
	/* Its delays from every prefix go too, not another name's. */
	T_ASSERT(check("gina", "a", t, &wait) == THR_OK);
	T_ASSERT(check("ginax", "a", t, &wait) == THR_PAIR);
	T_ASSERT(throttle_unlock("gina", t) == 0);
	T_ASSERT(throttle_unlock("nobody", t) == 0);
}

static void
test_full_tables_evict(void)
{
	char		 user[32], prefix[32];
	uint64_t	 evicted;
	int64_t		 t = 100, wait;
	int		 i, j;

	setup();
	/* The first key is throttled... */
	for (i = 0; i < 3; i++)
		throttle_failed(&conf, "first", "10.9.9.0/24", t);
	T_ASSERT(check("first", "10.9.9.0/24", t, &wait) == THR_PAIR);
	/* ... and 40 newer keys push it out of every table of 16. */
	for (i = 0; i < 40; i++) {
		t++;
		snprintf(user, sizeof(user), "user%d", i);
		snprintf(prefix, sizeof(prefix), "10.0.%d.0/24", i);
		throttle_failed(&conf, user, prefix, t);
	}
	for (j = 0; j < THR_TABLES; j++) {
		T_ASSERTF(throttle_entries(j, &evicted) == 16,
		    "table %d holds %zu", j, throttle_entries(j, NULL));
		T_ASSERT(evicted > 0);
	}
	T_ASSERT(check("first", "10.9.9.0/24", t, &wait) == THR_OK);
	/* The newest are still there. */
	throttle_failed(&conf, "user39", "10.0.39.0/24", t);
	throttle_failed(&conf, "user39", "10.0.39.0/24", t);
	T_ASSERT(check("user39", "10.0.39.0/24", t, &wait) == THR_PAIR);

	/* Spent entries go before they would have to be evicted. */
	setup();
	for (i = 0; i < 10; i++) {
		snprintf(user, sizeof(user), "old%d", i);
		throttle_failed(&conf, user, "10.1.1.0/24", t);
	}
	t += 600000;
	throttle_failed(&conf, "new", "10.1.2.0/24", t);
	T_ASSERT(throttle_entries(THR_TABLE_PAIR, &evicted) == 1);
	T_ASSERT(evicted == 0);
}

static void
test_refusal_records(void)
{
	uint64_t	 attempts = 0;
	int64_t		 t = 50;
	int		 i;

	setup();
	for (i = 0; i < 3; i++)
		throttle_failed(&conf, "hal", "a", t);
	T_ASSERT(throttle_refused("hal", "a", THR_PAIR, t, &attempts) == 1);
	T_ASSERT(attempts == 1);
	for (i = 0; i < 5; i++)
		T_ASSERT(throttle_refused("hal", "a", THR_PAIR, t + i,
		    &attempts) == 0);
	T_ASSERT(throttle_refused("hal", "a", THR_PAIR,
	    t + THROTTLE_AUDIT_MS - 1, &attempts) == 0);
	T_ASSERT(throttle_refused("hal", "a", THR_PAIR, t + THROTTLE_AUDIT_MS,
	    &attempts) == 1);
	T_ASSERTF(attempts == 7, "attempts %llu", (unsigned long long)attempts);
}

int
main(void)
{
	t_suite = "throttle";
	log_init(1, LOG_DAEMON);
	T_RUN(test_prefixes);
	T_RUN(test_delays_double_to_cap);
	T_RUN(test_prefix_across_users);
	T_RUN(test_forgotten);
	T_RUN(test_lock_needs_prefixes);
	T_RUN(test_unlock);
	T_RUN(test_full_tables_evict);
	T_RUN(test_refusal_records);
	throttle_clear();
	return (t_done());
}
