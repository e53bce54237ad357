/*
 * Unit tests for privsep/pwhash.c: Argon2id in the workers' own memory
 * agrees with libargon2 both ways; the PHC string parser takes only the
 * canonical form; and the queue serves prefixes in turn, caps what one
 * prefix may have waiting, and makes room for a new prefix when full.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "config.h"
#include "log.h"
#include "../../privsep/privsep.h"
#include "unit.h"

static const uint8_t	 salt[PWHASH_SALT] = "0123456789abcdef";

static void
test_agrees_with_libargon2(void)
{
	char	 ours[PWHASH_ENCODED], theirs[PWHASH_ENCODED];

	T_ASSERT(pwhash_hash("correct horse", salt, ours, sizeof(ours)) == 0);
	T_ASSERT(argon2id_hash_encoded(PWHASH_T, PWHASH_M, PWHASH_P,
	    "correct horse", 13, salt, sizeof(salt), PWHASH_LEN, theirs,
	    sizeof(theirs)) == ARGON2_OK);
	T_ASSERTF(strcmp(ours, theirs) == 0, "%s\n%s", ours, theirs);
	T_ASSERT(argon2id_verify(ours, "correct horse", 13) == ARGON2_OK);
	T_ASSERT(pwhash_verify(theirs, "correct horse"));
	T_ASSERT(!pwhash_verify(theirs, "correct horsf"));
	T_ASSERT(!pwhash_verify(theirs, ""));

	/* Other parameters that fit the memory, as libargon2 writes them. */
	T_ASSERT(argon2id_hash_encoded(1, 64, 2, "pw", 2, salt, 8, 16, theirs,
	    sizeof(theirs)) == ARGON2_OK);
	T_ASSERT(pwhash_verify(theirs, "pw") && !pwhash_verify(theirs, "px"));
	/* More memory than a worker has: it matches nothing. */
	T_ASSERT(argon2id_hash_encoded(1, PWHASH_M * 2, 1, "pw", 2, salt, 16,
	    32, theirs, sizeof(theirs)) == ARGON2_OK);
	T_ASSERT(!pwhash_verify(theirs, "pw"));
}

static void
test_phc_strings(void)
{
#define P	"$argon2id$v=19$"
#define S	"MDEyMzQ1Njc"			/* "01234567" */
#define H	"MDEyMzQ1Njc4OWFiY2RlZg"	/* "0123456789abcdef" */
	static const char *const bad[] = {
		"",
		"$argon2i$v=19$m=64,t=1,p=1$" S "$" H,
		"$argon2id$v=16$m=64,t=1,p=1$" S "$" H,
		"$argon2id$m=64,t=1,p=1$" S "$" H,
		P "m=064,t=1,p=1$" S "$" H,		/* not canonical */
		P "m=64,t=0,p=1$" S "$" H,
		P "m=64,t=1,p=0$" S "$" H,
		P "m=7,t=1,p=1$" S "$" H,		/* less than 8 p */
		P "m=99999999999,t=1,p=1$" S "$" H,
		P "m=64,t=1$" S "$" H,
		P "m=64,t=1,p=1$$" H,			/* no salt */
		P "m=64,t=1,p=1$MDEyMzQ1$" H,		/* 6 bytes */
		P "m=64,t=1,p=1$" S "=$" H,		/* padding */
		P "m=64,t=1,p=1$" S "$MDEyMzQ1Njc4OWFiY2RlZh",	/* bits */
		P "m=64,t=1,p=1$" S "$MDE",		/* 2 bytes */
		P "m=64,t=1,p=1$" S "$MDEyMzQ1Njc4OWFi*2RlZg",
		P "m=64,t=1,p=1$" S,
		P "m=64,t=1,p=1 $" S "$" H,
	};

	struct pwhash_params	 pp;
	char			 theirs[PWHASH_ENCODED], back[PWHASH_ENCODED];
	size_t			 i;

	T_ASSERT(argon2id_hash_encoded(3, 4096, 4, "x", 1, salt, 11, 23,
	    theirs, sizeof(theirs)) == ARGON2_OK);
	T_ASSERT(pwhash_decode(theirs, &pp) == 0);
	T_ASSERT(pp.m == 4096 && pp.t == 3 && pp.p == 4 && pp.saltlen == 11 &&
	    pp.hashlen == 23 && memcmp(pp.salt, salt, 11) == 0);
	pwhash_encode(&pp, back, sizeof(back));
	T_ASSERTF(strcmp(theirs, back) == 0, "%s\n%s", theirs, back);
	T_ASSERT(pwhash_decode(P "m=64,t=1,p=1$" S "$" H, &pp) == 0 &&
	    pp.saltlen == 8 && pp.hashlen == 16);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_ASSERTF(pwhash_decode(bad[i], &pp) == -1, "took %s", bad[i]);
#undef P
#undef S
#undef H
}

/* --- the queue ---------------------------------------------------------- */

#define NORDER	600

static char	 order[NORDER][16];
static char	 cheap[PWHASH_ENCODED];	/* "pw", 64 KiB, one pass */
static int	 norder, ndone, nbusy, ndropped;

struct tjob {
	struct pwhash_job	 pw;
	char			 name[16];
	int			 drop;
};

static int
tjob_admit(struct pwhash_job *pw)
{
	struct tjob	*t = pw->arg;

	if (norder < NORDER)
		strlcpy(order[norder++], t->name, sizeof(order[0]));
	return (!t->drop);
}

static void
tjob_done(struct pwhash_job *pw, enum pwhash_status status)
{
	if (status == PWHASH_BUSY)
		nbusy++;
	else if (status == PWHASH_DROPPED)
		ndropped++;
	else if (pw->ok)
		ndone++;
	free(pw->arg);
}

static struct pwhash_job *
tjob(const char *name, int drop)
{
	struct tjob	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		abort();
	strlcpy(t->name, name, sizeof(t->name));
	t->drop = drop;
	t->pw.kind = PWHASH_VERIFY;
	strlcpy(t->pw.secret, "pw", sizeof(t->pw.secret));
	strlcpy(t->pw.encoded, cheap, sizeof(t->pw.encoded));
	t->pw.admit = tjob_admit;
	t->pw.done = tjob_done;
	t->pw.arg = t;
	return (&t->pw);
}

static void
poll_done(void *arg)
{
	if (ndone + ndropped >= PWHASH_WAITING)
		ev_break();
	else
		ev_timer_add(arg, 2);
}

static void
test_queue(void)
{
	static struct ev_timer	 tm;
	struct pwhash_job	*j;
	char			 name[16], prefix[32];
	size_t			 waiting;
	int			 i, busy;

	T_ASSERT(argon2id_hash_encoded(1, 64, 1, "pw", 2, salt, 8, 16, cheap,
	    sizeof(cheap)) == ARGON2_OK);
	T_ASSERT(ev_init() == 0);

	/* Before the workers start, jobs wait: at most 4 from a prefix. */
	for (i = 1; i <= PWHASH_PER_PREFIX; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		T_ASSERT(pwhash_submit(tjob(name, i == 3), "a") == 0);
	}
	j = tjob("a5", 0);
	T_ASSERT(pwhash_submit(j, "a") == -1);
	free(j->arg);
	T_ASSERT(pwhash_submit(tjob("b1", 0), "b") == 0);
	T_ASSERT(pwhash_submit(tjob("c1", 0), "c") == 0);
	/* 62 prefixes of 4 and one of 2 fill the queue (256). */
	for (i = 0; i < 250; i++) {
		snprintf(name, sizeof(name), "p%d", i / PWHASH_PER_PREFIX);
		snprintf(prefix, sizeof(prefix), "10.0.%d.0/24",
		    i / PWHASH_PER_PREFIX);
		T_ASSERT(pwhash_submit(tjob(name, 0), prefix) == 0);
	}
	pwhash_load(&waiting, &busy);
	T_ASSERT(waiting == PWHASH_WAITING && busy == 0);
	/* Full: a prefix with jobs waiting gets no more, even below 4 ... */
	j = tjob("p62", 0);
	T_ASSERT(pwhash_submit(j, "10.0.62.0/24") == -1);
	free(j->arg);
	T_ASSERT(nbusy == 0);
	/* ... a new one pushes out the newest job of the first longest. */
	T_ASSERT(pwhash_submit(tjob("z1", 0), "z") == 0);
	T_ASSERT(nbusy == 1);
	pwhash_load(&waiting, &busy);
	T_ASSERT(waiting == PWHASH_WAITING);

	/* The prefixes take turns; a3 is dropped when its turn comes. */
	pwhash_start();
	ev_timer_set(&tm, poll_done, &tm);
	ev_timer_add(&tm, 2);
	T_ASSERT(ev_dispatch() == 0);
	T_ASSERTF(ndone == PWHASH_WAITING - 1 && ndropped == 1 && nbusy == 1,
	    "%d done, %d dropped, %d busy", ndone, ndropped, nbusy);
	T_ASSERT(norder == PWHASH_WAITING);
	T_ASSERT(strcmp(order[0], "a1") == 0 && strcmp(order[1], "b1") == 0 &&
	    strcmp(order[2], "c1") == 0 && strcmp(order[3], "p0") == 0 &&
	    strcmp(order[65], "p62") == 0 && strcmp(order[66], "z1") == 0 &&
	    strcmp(order[67], "a2") == 0 && strcmp(order[68], "p0") == 0 &&
	    strcmp(order[130], "p62") == 0 && strcmp(order[131], "a3") == 0);
	/* a4 was pushed out: after a3 come only the p's. */
	for (i = 132; i < norder; i++)
		T_ASSERTF(order[i][0] == 'p', "%d: %s", i, order[i]);
	pwhash_load(&waiting, &busy);
	T_ASSERT(waiting == 0 && busy == 0);
}

int
main(void)
{
	t_suite = "pwhash";
	log_init(1, LOG_DAEMON);
	T_RUN(test_agrees_with_libargon2);
	T_RUN(test_phc_strings);
	T_RUN(test_queue);
	return (t_done());
}
