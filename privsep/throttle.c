/*
 * Login throttling: what the parent remembers of failed logins, so that
 * guessing is slow and nobody can lock a user out from elsewhere.
 *
 * Failures are counted in three tables: by user name and client address
 * prefix (IPv4 /24, IPv6 /64), by prefix across user names, and by user
 * name across prefixes.  After auth.throttle_failures failures of one
 * user from one prefix, or auth.throttle_prefix_failures from one prefix,
 * each further attempt from there must wait: throttle_delay, doubled
 * with each failure, up to throttle_max_delay.  Other prefixes are not
 * touched.  A user name is locked outright only after lock_failures
 * failures from at least lock_prefixes prefixes, for lock_duration or
 * until an administrator unlocks it.  A count is forgotten
 * failure_memory after its last failure.
 *
 * Each table holds at most auth.throttle_entries entries; a new one
 * evicts the least recently used, so a full table never refuses a
 * login.  Time is the caller's monotonic milliseconds; nothing here
 * reads the clock or the configuration global, so the unit tests drive
 * it with made-up time.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "log.h"
#include "privsep.h"

#define THR_KEYLEN	(RES_NAMELEN + 1 + THROTTLE_PREFIXLEN)
#define THR_FULL_WARN_MS (60 * 1000)

struct thr_entry {
	RB_ENTRY(thr_entry)	 node;
	TAILQ_ENTRY(thr_entry)	 lru;		/* oldest first */
	char			 key[THR_KEYLEN];
	uint64_t		 failures;
	int64_t			 last;		/* the last failure */
	int64_t			 not_before;	/* no attempt checked before */
	int64_t			 locked_until;	/* users only */
	int64_t			 audited;	/* the last refusal's record */
	uint64_t		 refused;	/* refusals since, unrecorded */
	uint32_t		*prefixes;	/* users: hashes, distinct */
	uint32_t		 nprefixes;
};

RB_HEAD(thr_tree, thr_entry);

struct thr_table {
	const char		*name;
	struct thr_tree		 tree;
	TAILQ_HEAD(, thr_entry)	 lru;
	size_t			 n;
	uint64_t		 evicted;
	int64_t			 warned;
};

static int
thr_cmp(struct thr_entry *a, struct thr_entry *b)
{
	return (strcmp(a->key, b->key));
}

RB_GENERATE_STATIC(thr_tree, thr_entry, node, thr_cmp)

static struct thr_table	 tables[THR_TABLES] = {
	{ "user and prefix", RB_INITIALIZER(&tables[0].tree),
	    TAILQ_HEAD_INITIALIZER(tables[0].lru), 0, 0, 0 },
	{ "prefix", RB_INITIALIZER(&tables[1].tree),
	    TAILQ_HEAD_INITIALIZER(tables[1].lru), 0, 0, 0 },
	{ "user", RB_INITIALIZER(&tables[2].tree),
	    TAILQ_HEAD_INITIALIZER(tables[2].lru), 0, 0, 0 },
};

/*
 * The address of "1.2.3.4:5" or "[::1]:5", and its prefix: the IPv4 /24
 * or IPv6 /64 it belongs to (an IPv4-mapped IPv6 address counts as IPv4).
 * Whatever does not parse is its own prefix.
 */
void
throttle_addr(const char *remote, char *addr, size_t addrlen, char *prefix,
    size_t prefixlen)
{
	struct in_addr	 in;
	struct in6_addr	 in6;
	char		 buf[INET6_ADDRSTRLEN], *p;

	if (remote[0] == '[') {
		strlcpy(addr, remote + 1, addrlen);
		if ((p = strchr(addr, ']')) != NULL)
			*p = '\0';
	} else {
		strlcpy(addr, remote, addrlen);
		if ((p = strchr(addr, ':')) != NULL && strrchr(addr, ':') == p)
			*p = '\0';
	}
	strlcpy(buf, addr, sizeof(buf));
	if ((p = strchr(buf, '%')) != NULL)	/* an IPv6 scope */
		*p = '\0';
	if (inet_pton(AF_INET6, buf, &in6) == 1 &&
	    IN6_IS_ADDR_V4MAPPED(&in6))
		memcpy(&in, &in6.s6_addr[12], sizeof(in));
	else if (inet_pton(AF_INET6, buf, &in6) == 1) {
		memset(&in6.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &in6, buf, sizeof(buf));
		snprintf(prefix, prefixlen, "%s/64", buf);
		return;
	} else if (inet_pton(AF_INET, buf, &in) != 1) {
		strlcpy(prefix, addr[0] != '\0' ? addr : "unknown",
		    prefixlen);
		return;
	}
	in.s_addr &= htonl(0xffffff00);
	inet_ntop(AF_INET, &in, buf, sizeof(buf));
	snprintf(prefix, prefixlen, "%s/24", buf);
}

static void
entry_free(struct thr_table *t, struct thr_entry *e)
{
	RB_REMOVE(thr_tree, &t->tree, e);
	TAILQ_REMOVE(&t->lru, e, lru);
	t->n--;
	free(e->prefixes);
	free(e);
}

/* The entry of key, or NULL. */
static struct thr_entry *
entry_find(struct thr_table *t, const char *key)
{
	struct thr_entry	 k;

	if (strlcpy(k.key, key, sizeof(k.key)) >= sizeof(k.key))
		return (NULL);
	return (RB_FIND(thr_tree, &t->tree, &k));
}

/*
 * An entry that has nothing left to say: its delay and its lock are over
 * and its last failure is older than failure_memory.
 */
static int
entry_spent(const struct mcpgated_conf *c, const struct thr_entry *e,
    int64_t now)
{
	return (e->not_before <= now && e->locked_until <= now &&
	    now - e->last >= (int64_t)c->failure_memory);
}

/* Start the count over when it is spent or its lock has run out. */
static void
entry_refresh(const struct mcpgated_conf *c, struct thr_entry *e,
    int64_t now)
{
	if (entry_spent(c, e, now) ||
	    (e->locked_until != 0 && e->locked_until <= now)) {
		e->failures = 0;
		e->not_before = 0;
		e->locked_until = 0;
		e->nprefixes = 0;
	}
}

static struct thr_entry *
entry_get(const struct mcpgated_conf *c, struct thr_table *t,
    const char *key, int64_t now)
{
	struct thr_entry	*e, *old;

	if ((e = entry_find(t, key)) != NULL) {
		entry_refresh(c, e, now);
		TAILQ_REMOVE(&t->lru, e, lru);
		TAILQ_INSERT_TAIL(&t->lru, e, lru);
		return (e);
	}
	/* Spent entries go first; when the table is full, the oldest. */
	while ((old = TAILQ_FIRST(&t->lru)) != NULL &&
	    (entry_spent(c, old, now) || t->n >= c->throttle_entries)) {
		if (!entry_spent(c, old, now)) {
			t->evicted++;
			if (t->warned == 0 || now - t->warned >=
			    THR_FULL_WARN_MS) {
				log_warnx("login throttle: the %s table is "
				    "full (%zu entries): forgetting the "
				    "oldest", t->name, t->n);
				t->warned = now;
			}
		}
		entry_free(t, old);
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal("%s", __func__);
	strlcpy(e->key, key, sizeof(e->key));
	RB_INSERT(thr_tree, &t->tree, e);
	TAILQ_INSERT_TAIL(&t->lru, e, lru);
	t->n++;
	return (e);
}

static void
pair_key(const char *user, const char *prefix, char *key, size_t len)
{
	/* A space is in no user name. */
	snprintf(key, len, "%s %s", user, prefix);
}

/* throttle_delay doubled for each failure past the first `free`. */
static int64_t
delay_after(const struct mcpgated_conf *c, uint64_t failures, uint64_t free)
{
	uint64_t	 d = c->throttle_delay, n;

	if (failures < free)
		return (0);
	for (n = failures - free; n > 0 && d < c->throttle_max_delay; n--)
		d *= 2;
	return ((int64_t)(d < c->throttle_max_delay ? d :
	    c->throttle_max_delay));
}

static int64_t
wait_of(struct thr_entry *e, int64_t until, int64_t now)
{
	return (e != NULL && until > now ? until - now : 0);
}

/*
 * May an attempt of user from prefix be checked now?  THR_OK, or why not
 * with the milliseconds to wait in *wait.
 */
enum throttle_why
throttle_check(const char *user, const char *prefix, int64_t now,
    int64_t *wait)
{
	struct thr_entry	*u, *pp, *p;
	char			 key[THR_KEYLEN];
	int64_t			 wu, wpp, wp;

	pair_key(user, prefix, key, sizeof(key));
	u = entry_find(&tables[THR_TABLE_USER], user);
	pp = entry_find(&tables[THR_TABLE_PAIR], key);
	p = entry_find(&tables[THR_TABLE_PREFIX], prefix);
	wu = wait_of(u, u != NULL ? u->locked_until : 0, now);
	wpp = wait_of(pp, pp != NULL ? pp->not_before : 0, now);
	wp = wait_of(p, p != NULL ? p->not_before : 0, now);
	*wait = 0;
	if (wu > 0) {
		*wait = wu;
		return (THR_LOCKED);
	}
	if (wpp == 0 && wp == 0)
		return (THR_OK);
	if (wpp >= wp) {
		*wait = wpp;
		return (THR_PAIR);
	}
	*wait = wp;
	return (THR_PREFIX);
}

static uint32_t
prefix_hash(const char *s)
{
	uint32_t	 h = 2166136261U;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619U;
	return (h);
}

/*
 * A checked attempt failed.  Returns 1 when this failure locked the user
 * name, 0 otherwise.
 */
int
throttle_failed(const struct mcpgated_conf *c, const char *user,
    const char *prefix, int64_t now)
{
	struct thr_entry	*e;
	char			 key[THR_KEYLEN];
	uint32_t		 h, i;

	pair_key(user, prefix, key, sizeof(key));
	e = entry_get(c, &tables[THR_TABLE_PAIR], key, now);
	e->failures++;
	e->last = now;
	if (e->failures >= c->throttle_failures)
		e->not_before = now + delay_after(c, e->failures,
		    c->throttle_failures);

	e = entry_get(c, &tables[THR_TABLE_PREFIX], prefix, now);
	e->failures++;
	e->last = now;
	if (e->failures >= c->throttle_prefix_failures)
		e->not_before = now + delay_after(c, e->failures,
		    c->throttle_prefix_failures);

	e = entry_get(c, &tables[THR_TABLE_USER], user, now);
	e->failures++;
	e->last = now;
	if (e->prefixes == NULL && (e->prefixes = calloc(CONF_LOCK_PREFIXES,
	    sizeof(*e->prefixes))) == NULL)
		fatal("%s", __func__);
	h = prefix_hash(prefix);
	for (i = 0; i < e->nprefixes; i++)
		if (e->prefixes[i] == h)
			break;
	if (i == e->nprefixes && e->nprefixes < CONF_LOCK_PREFIXES)
		e->prefixes[e->nprefixes++] = h;
	if (e->locked_until <= now && e->failures >= c->lock_failures &&
	    e->nprefixes >= c->lock_prefixes) {
		e->locked_until = now + (int64_t)c->lock_duration;
		return (1);
	}
	return (0);
}

/* The right secret: that user's count from that prefix starts over. */
void
throttle_succeeded(const char *user, const char *prefix)
{
	struct thr_entry	*e;
	char			 key[THR_KEYLEN];

	pair_key(user, prefix, key, sizeof(key));
	if ((e = entry_find(&tables[THR_TABLE_PAIR], key)) != NULL)
		entry_free(&tables[THR_TABLE_PAIR], e);
}

/*
 * An attempt refused for why.  Its record is due when the entry that
 * refused it had none for THROTTLE_AUDIT_MS: returns 1 with the number of
 * refusals the record stands for, or 0 when this one is only counted.
 */
int
throttle_refused(const char *user, const char *prefix,
    enum throttle_why why, int64_t now, uint64_t *attempts)
{
	struct thr_table	*t;
	struct thr_entry	*e;
	char			 key[THR_KEYLEN];

	switch (why) {
	case THR_PAIR:
		pair_key(user, prefix, key, sizeof(key));
		t = &tables[THR_TABLE_PAIR];
		break;
	case THR_PREFIX:
		strlcpy(key, prefix, sizeof(key));
		t = &tables[THR_TABLE_PREFIX];
		break;
	case THR_LOCKED:
		strlcpy(key, user, sizeof(key));
		t = &tables[THR_TABLE_USER];
		break;
	default:
		*attempts = 1;
		return (1);
	}
	if ((e = entry_find(t, key)) == NULL) {
		*attempts = 1;
		return (1);
	}
	TAILQ_REMOVE(&t->lru, e, lru);
	TAILQ_INSERT_TAIL(&t->lru, e, lru);
	e->refused++;
	if (e->audited != 0 && now - e->audited < THROTTLE_AUDIT_MS)
		return (0);
	*attempts = e->refused;
	e->refused = 0;
	e->audited = now;
	return (1);
}

/*
 * Whether user is locked now: the milliseconds left, and the failures and
 * distinct prefixes that locked it.
 */
int
throttle_locked(const char *user, int64_t now, int64_t *left,
    uint64_t *failures, uint64_t *prefixes)
{
	struct thr_entry	*e;

	if ((e = entry_find(&tables[THR_TABLE_USER], user)) == NULL ||
	    e->locked_until <= now)
		return (0);
	*left = e->locked_until - now;
	*failures = e->failures;
	*prefixes = e->nprefixes;
	return (1);
}

/*
 * An administrator's unlock: the user name's lock and counts go, and so
 * do its delays from every prefix.  Returns whether it was locked.
 */
int
throttle_unlock(const char *user, int64_t now)
{
	struct thr_table	*t = &tables[THR_TABLE_PAIR];
	struct thr_entry	*e, k;
	size_t			 len;
	int			 was = 0;

	if ((e = entry_find(&tables[THR_TABLE_USER], user)) != NULL) {
		was = e->locked_until > now;
		entry_free(&tables[THR_TABLE_USER], e);
	}
	len = (size_t)snprintf(k.key, sizeof(k.key), "%s ", user);
	while ((e = RB_NFIND(thr_tree, &t->tree, &k)) != NULL &&
	    strncmp(e->key, k.key, len) == 0)
		entry_free(t, e);
	return (was);
}

/* How many entries a table holds, and how many it has evicted. */
size_t
throttle_entries(enum throttle_table which, uint64_t *evicted)
{
	if (evicted != NULL)
		*evicted = tables[which].evicted;
	return (tables[which].n);
}

/* Forget everything (the tests start afresh). */
void
throttle_clear(void)
{
	struct thr_entry	*e;
	int			 i;

	for (i = 0; i < THR_TABLES; i++) {
		while ((e = TAILQ_FIRST(&tables[i].lru)) != NULL)
			entry_free(&tables[i], e);
		tables[i].evicted = 0;
		tables[i].warned = 0;
	}
}
