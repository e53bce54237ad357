/*
 * Argon2id off the parent's event loop.  A hash costs tens of
 * milliseconds and 19 MiB; done in the loop, a flood of logins would
 * stall the control socket and every other login.  Here a few worker
 * threads compute hashes and verifications, and the loop only queues
 * jobs and takes results.
 *
 * Jobs wait in one queue per client address prefix, and the prefixes
 * take turns, so a flood from one prefix delays another prefix's login
 * by about one hash per busy prefix.  A prefix may have PWHASH_PER_PREFIX
 * jobs waiting and all prefixes PWHASH_WAITING; beyond that a job is
 * refused, and the client is told to try again in a moment.  When the
 * queue is full, a prefix with nothing waiting still gets in, at the
 * expense of the newest job of the prefix with most waiting.
 *
 * Only the loop touches the queue; the workers see two short lists (to
 * do, done) under one mutex, and wake the loop through an eventfd.
 *
 * The workers are started by pwhash_start(), once the parent serves (see
 * login_hashing_start()), never before: a sandbox that binds only the calling
 * thread, as Landlock does, must be in place first so that they inherit
 * it.  System calls the workers make: once, as they start, gettid and
 * setpriority (to lower their priority) and mmap (their Argon2id memory);
 * then only futex (the mutex and condition variable) and write (the
 * eventfd).  Argon2id itself makes none: its memory is the worker's.
 * Starting them adds, in the parent's thread, clone3 (or clone),
 * rt_sigprocmask and mmap/mprotect for the stacks, and in each new thread
 * set_robust_list and rseq.  The salt of a new hash is drawn in the loop,
 * so the workers need no random numbers.
 */
#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/resource.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <argon2.h>

#include "log.h"
#include "privsep.h"

struct pwhash_prefix {
	TAILQ_ENTRY(pwhash_prefix)	 entry;		/* whose turn: first */
	char				 prefix[THROTTLE_PREFIXLEN];
	struct pwhash_jobs		 jobs;
	size_t				 n;
};

static TAILQ_HEAD(, pwhash_prefix) turns = TAILQ_HEAD_INITIALIZER(turns);
static size_t			 nwaiting;
static int			 nworkers;
static int			 nidle;

/* Shared with the workers, under lock. */
static pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 work = PTHREAD_COND_INITIALIZER;
static struct pwhash_jobs	 todo = TAILQ_HEAD_INITIALIZER(todo);
static struct pwhash_jobs	 done = TAILQ_HEAD_INITIALIZER(done);
static int			 done_fd = -1;
static struct event		 done_ev;

/*
 * Argon2id's memory: one arena per thread, mapped once and reused, so that
 * a hash makes no system call and touches no fresh page.  libargon2 wipes
 * it before it hands it back.
 */
static __thread uint8_t	*arena;

static int
arena_get(void)
{
	void	*p;

	if (arena != NULL)
		return (0);
	/* Populated now, so that no hash waits for its pages. */
	if ((p = mmap(NULL, PWHASH_ARENA, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)) == MAP_FAILED)
		return (-1);
	arena = p;
	return (0);
}

static int
arena_alloc(uint8_t **memory, size_t len)
{
	if (arena == NULL || len > PWHASH_ARENA)
		return (ARGON2_MEMORY_ALLOCATION_ERROR);
	*memory = arena;
	return (ARGON2_OK);
}

static void
arena_free(uint8_t *memory, size_t len)
{
	(void)memory;
	(void)len;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 without padding, as the PHC string format has it. */
static void
b64_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t	 v;
	size_t		 i;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = b64[(v >> 6) & 63];
		*out++ = b64[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = b64[(v >> 6) & 63];
	}
	*out = '\0';
}

/*
 * The n characters at s, base64 without padding and in its one canonical
 * form (unused bits zero), into at most max bytes.  Returns the length,
 * or -1.
 */
static ssize_t
b64_decode(const char *s, size_t n, uint8_t *out, size_t max)
{
	const char	*c;
	uint32_t	 v = 0;
	size_t		 i, bits = 0, len = 0;

	if (n % 4 == 1)
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || (c = strchr(b64, s[i])) == NULL)
			return (-1);
		v = (v << 6) | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len == max)
				return (-1);
			out[len++] = (uint8_t)(v >> bits);
			v &= (1U << bits) - 1;
		}
	}
	if (v != 0)
		return (-1);
	return ((ssize_t)len);
}

/* A decimal number of at most 10 digits, without a leading zero. */
static const char *
decimal(const char *s, uint32_t *out)
{
	uint64_t	 v = 0;
	int		 n;

	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return (NULL);
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == 10)
			return (NULL);
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	if (n == 0 || v > UINT32_MAX)
		return (NULL);
	*out = (uint32_t)v;
	return (s + n);
}

/*
 * An Argon2id hash in the PHC string format that libargon2 writes:
 * "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH".  Only that canonical form is
 * taken, so that what is accepted writes back the same.  Returns 0, or
 * -1 when it is anything else.
 */
int
pwhash_decode(const char *s, struct pwhash_params *pp)
{
	static const char	 head[] = "$argon2id$v=19$m=";
	const char		*p, *end;
	ssize_t			 n;

	memset(pp, 0, sizeof(*pp));
	if (strncmp(s, head, sizeof(head) - 1) != 0)
		return (-1);
	p = s + sizeof(head) - 1;
	if ((p = decimal(p, &pp->m)) == NULL || strncmp(p, ",t=", 3) != 0 ||
	    (p = decimal(p + 3, &pp->t)) == NULL || strncmp(p, ",p=", 3) != 0 ||
	    (p = decimal(p + 3, &pp->p)) == NULL || *p++ != '$')
		return (-1);
	if ((end = strchr(p, '$')) == NULL ||
	    (n = b64_decode(p, (size_t)(end - p), pp->salt,
	    sizeof(pp->salt))) < ARGON2_MIN_SALT_LENGTH)
		return (-1);
	pp->saltlen = (size_t)n;
	p = end + 1;
	if ((n = b64_decode(p, strlen(p), pp->hash, sizeof(pp->hash))) <
	    ARGON2_MIN_OUTLEN)
		return (-1);
	pp->hashlen = (size_t)n;
	if (pp->t < ARGON2_MIN_TIME || pp->p < ARGON2_MIN_LANES ||
	    pp->p > ARGON2_MAX_LANES || pp->m < 8 * pp->p)
		return (-1);
	return (0);
}

/* The PHC string of pp, which must fit PWHASH_ENCODED. */
void
pwhash_encode(const struct pwhash_params *pp, char *out, size_t len)
{
	char	 salt[(sizeof(pp->salt) + 2) / 3 * 4 + 1];
	char	 hash[(sizeof(pp->hash) + 2) / 3 * 4 + 1];

	b64_encode(pp->salt, pp->saltlen, salt);
	b64_encode(pp->hash, pp->hashlen, hash);
	snprintf(out, len, "$argon2id$v=19$m=%u,t=%u,p=%u$%s$%s", pp->m,
	    pp->t, pp->p, salt, hash);
}

static void
context_init(argon2_context *ctx, struct pwhash_params *pp, uint8_t *out,
    const char *pw)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->out = out;
	ctx->outlen = (uint32_t)pp->hashlen;
	ctx->pwd = (uint8_t *)(uintptr_t)pw;
	ctx->pwdlen = (uint32_t)strlen(pw);
	ctx->salt = pp->salt;
	ctx->saltlen = (uint32_t)pp->saltlen;
	ctx->t_cost = pp->t;
	ctx->m_cost = pp->m;
	ctx->lanes = pp->p;
	ctx->threads = 1;
	ctx->version = ARGON2_VERSION_13;
	ctx->allocate_cbk = arena_alloc;
	ctx->free_cbk = arena_free;
	ctx->flags = ARGON2_DEFAULT_FLAGS;
}

/*
 * Whether pw matches the encoded hash, computed in this thread.  A hash
 * that does not decode, or needs more than PWHASH_ARENA, matches nothing.
 */
int
pwhash_verify(const char *encoded, const char *pw)
{
	struct pwhash_params	 pp;
	argon2_context		 ctx;
	uint8_t			 out[sizeof(pp.hash)];
	int			 ok;

	if (arena_get() == -1 || pwhash_decode(encoded, &pp) == -1 ||
	    (uint64_t)pp.m * 1024 > PWHASH_ARENA)
		return (0);
	context_init(&ctx, &pp, out, pw);
	ok = argon2_verify_ctx(&ctx, (const char *)pp.hash, Argon2_id) ==
	    ARGON2_OK;
	explicit_bzero(out, sizeof(out));
	return (ok);
}

/* A new hash of pw with salt, in the PHC string format. */
int
pwhash_hash(const char *pw, const uint8_t salt[PWHASH_SALT], char *encoded,
    size_t len)
{
	struct pwhash_params	 pp;
	argon2_context		 ctx;

	memset(&pp, 0, sizeof(pp));
	pp.m = PWHASH_M;
	pp.t = PWHASH_T;
	pp.p = PWHASH_P;
	memcpy(pp.salt, salt, PWHASH_SALT);
	pp.saltlen = PWHASH_SALT;
	pp.hashlen = PWHASH_LEN;
	if (arena_get() == -1)
		return (-1);
	context_init(&ctx, &pp, pp.hash, pw);
	if (argon2_ctx(&ctx, Argon2_id) != ARGON2_OK)
		return (-1);
	pwhash_encode(&pp, encoded, len);
	explicit_bzero(&pp, sizeof(pp));
	return (0);
}

static void
pwhash_run(struct pwhash_job *job)
{
	switch (job->kind) {
	case PWHASH_VERIFY:
		job->ok = pwhash_verify(job->encoded, job->secret);
		break;
	case PWHASH_HASH:
		job->ok = pwhash_hash(job->secret, job->salt, job->encoded,
		    sizeof(job->encoded)) == 0;
		break;
	}
	explicit_bzero(job->secret, sizeof(job->secret));
}

static void *
pwhash_worker(void *arg)
{
	struct pwhash_job	*job;
	uint64_t		 one = 1;

	(void)arg;
	/*
	 * Hashing yields to the event loops: the parent's, and netd's and
	 * mcpd's on a small machine.  On Linux a thread has its own nice.
	 */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), PWHASH_NICE) == -1)
		log_warn("password hashing thread: setpriority");
	if (arena_get() == -1)
		fatal("password hashing thread: mmap");
	for (;;) {
		pthread_mutex_lock(&lock);
		while ((job = TAILQ_FIRST(&todo)) == NULL)
			pthread_cond_wait(&work, &lock);
		TAILQ_REMOVE(&todo, job, entry);
		pthread_mutex_unlock(&lock);

		pwhash_run(job);

		pthread_mutex_lock(&lock);
		TAILQ_INSERT_TAIL(&done, job, entry);
		pthread_mutex_unlock(&lock);
		while (write(done_fd, &one, sizeof(one)) == -1 &&
		    errno == EINTR)
			;
	}
	return (NULL);
}

/* Give idle workers the next jobs, one prefix after another. */
static void
pwhash_dispatch(void)
{
	struct pwhash_prefix	*q;
	struct pwhash_job	*job;

	while (nidle > 0 && (q = TAILQ_FIRST(&turns)) != NULL) {
		job = TAILQ_FIRST(&q->jobs);
		TAILQ_REMOVE(&q->jobs, job, entry);
		q->n--;
		nwaiting--;
		TAILQ_REMOVE(&turns, q, entry);
		if (q->n > 0)
			TAILQ_INSERT_TAIL(&turns, q, entry);
		else
			free(q);
		if (job->admit != NULL && !job->admit(job)) {
			job->done(job, PWHASH_DROPPED);
			continue;
		}
		nidle--;
		job->started = ev_now_ms();
		pthread_mutex_lock(&lock);
		TAILQ_INSERT_TAIL(&todo, job, entry);
		pthread_cond_signal(&work);
		pthread_mutex_unlock(&lock);
	}
}

static void
pwhash_done(int fd, short events, void *arg)
{
	struct pwhash_jobs	 finished = TAILQ_HEAD_INITIALIZER(finished);
	struct pwhash_job	*job;
	uint64_t		 n;

	(void)events;
	(void)arg;
	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		fatal("%s: read", __func__);
	pthread_mutex_lock(&lock);
	TAILQ_CONCAT(&finished, &done, entry);
	pthread_mutex_unlock(&lock);
	while ((job = TAILQ_FIRST(&finished)) != NULL) {
		TAILQ_REMOVE(&finished, job, entry);
		nidle++;
		job->done(job, PWHASH_DONE);
	}
	pwhash_dispatch();
}

/*
 * Start the workers: at most PWHASH_WORKERS, and no more than there are
 * processors.  The event loop must exist.
 */
void
pwhash_start(void)
{
	pthread_t	 t;
	long		 ncpu;
	int		 i, want;

	if (nworkers > 0)
		return;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	want = ncpu > 0 && ncpu < PWHASH_WORKERS ? (int)ncpu : PWHASH_WORKERS;
	if ((done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	ev_set(&done_ev, done_fd, pwhash_done, NULL);
	if (ev_add(&done_ev, EV_READ) == -1)
		fatal("ev_add");
	for (i = 0; i < want; i++) {
		if ((errno = pthread_create(&t, NULL, pwhash_worker,
		    NULL)) != 0)
			fatal("cannot start a password hashing thread");
		pthread_detach(t);
		nworkers++;
		nidle++;
	}
	log_debug("%d password hashing threads", nworkers);
	pwhash_dispatch();
}

static struct pwhash_prefix *
pwhash_prefix_find(const char *prefix)
{
	struct pwhash_prefix	*q;

	TAILQ_FOREACH(q, &turns, entry)
		if (strcmp(q->prefix, prefix) == 0)
			return (q);
	return (NULL);
}

/*
 * Queue a job for prefix.  Returns 0, after which done() is called once
 * (PWHASH_DONE, or PWHASH_DROPPED if admit() said no, or PWHASH_BUSY if a
 * job of another prefix took its place); or -1 when too many jobs wait,
 * and the job is still the caller's.
 */
int
pwhash_submit(struct pwhash_job *job, const char *prefix)
{
	struct pwhash_prefix	*q, *big = NULL;
	struct pwhash_job	*victim;

	q = pwhash_prefix_find(prefix);
	if (q != NULL && q->n >= PWHASH_PER_PREFIX)
		return (-1);
	if (nwaiting >= PWHASH_WAITING) {
		if (q != NULL)
			return (-1);
		TAILQ_FOREACH(q, &turns, entry)
			if (big == NULL || q->n > big->n)
				big = q;
		if (big == NULL || big->n < 2)
			return (-1);
		victim = TAILQ_LAST(&big->jobs, pwhash_jobs);
		TAILQ_REMOVE(&big->jobs, victim, entry);
		big->n--;
		nwaiting--;
		victim->done(victim, PWHASH_BUSY);
		q = NULL;
	}
	if (q == NULL) {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			fatal("%s", __func__);
		strlcpy(q->prefix, prefix, sizeof(q->prefix));
		TAILQ_INIT(&q->jobs);
		TAILQ_INSERT_TAIL(&turns, q, entry);
	}
	job->queued = ev_now_ms();
	TAILQ_INSERT_TAIL(&q->jobs, job, entry);
	q->n++;
	nwaiting++;
	pwhash_dispatch();
	return (0);
}

/* Jobs waiting, and workers busy, for status and the tests. */
void
pwhash_load(size_t *waiting, int *busy)
{
	*waiting = nwaiting;
	*busy = nworkers - nidle;
}
