/*
 * Logins, as mcpd hands them over in a fixed-size request: the password
 * checked against its Argon2id hash (or an invite against its SHA-256 and
 * the new password hashed), and on success a certificate for the public
 * key the client made.
 *
 * Before anything costs a hash, throttle.c says whether the attempt may
 * be checked at all: a throttled or locked attempt is answered at once
 * with the time to wait.  Every attempt that is checked costs one
 * Argon2id computation, whatever the outcome, so an unknown user is
 * answered as slowly as a known one; the computation runs on a worker
 * thread (pwhash.c), and the event loop goes on meanwhile.  Every checked
 * attempt is audited, refusals of throttled ones at most once per
 * THROTTLE_AUDIT_MS and throttle entry with the number they stand for;
 * a certificate is issued only once its record is written.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "privsep.h"
#include "utf8.h"
#include "wire.h"

#define BUSY_LOG_MS	10000

/* A login waiting for its Argon2id computation. */
struct login_job {
	struct pwhash_job	 pw;
	uint32_t		 conn;
	char			 user[RES_NAMELEN];
	char			 addr[CONN_ADDR_MAX];
	char			 prefix[THROTTLE_PREFIXLEN];
	int			 with_invite;
	int			 invite_ok;	/* pw: the new password */
	int			 too_short;	/* which is too short */
	int			 have_password;	/* a user with one */
	const char		*fail_reason;	/* for the record */
	enum throttle_why	 why;		/* when admit() said no */
	int64_t			 wait;
	char			 generation[RES_GENLEN + 1];
	char			 invite[RES_HASHLEN + 1];	/* hash */
	uint8_t			 pubkey[LOGIN_PUBKEY_LEN];
	uint64_t		 ttl;		/* seconds */
};

/* A login waiting for its audit record. */
struct login_op {
	uint32_t		 conn;
	char			 user[RES_NAMELEN];
	char			 generation[RES_GENLEN + 1];
	char			 invite[RES_HASHLEN + 1];	/* hash */
	uint8_t			 pubkey[LOGIN_PUBKEY_LEN];
	uint64_t		 ttl;		/* seconds */
	int			 set_password;
	char			 password_hash[RES_PWHASHLEN + 1];
	char			 addr[CONN_ADDR_MAX];
};

static char		 dummy_hash[128];
static uint64_t		 busy_count;
static int64_t		 busy_logged;

static int
hash_password(const char *pw, char *out, size_t outlen)
{
	unsigned char	 salt[PWHASH_SALT];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return (-1);
	return (argon2id_hash_encoded(PWHASH_T, PWHASH_M, PWHASH_P, pw,
	    strlen(pw), salt, sizeof(salt), PWHASH_LEN, out, outlen) ==
	    ARGON2_OK ? 0 : -1);
}

/* A hash nobody's password matches, to spend the same time on. */
int
login_init(void)
{
	unsigned char	 pw[32];
	char		 hex[65];

	if (RAND_bytes(pw, sizeof(pw)) != 1)
		return (-1);
	hex_encode(pw, sizeof(pw), hex, sizeof(hex));
	explicit_bzero(pw, sizeof(pw));
	if (hash_password(hex, dummy_hash, sizeof(dummy_hash)) == -1) {
		log_warnx("Argon2id does not work here");
		return (-1);
	}
	explicit_bzero(hex, sizeof(hex));
	return (0);
}

/*
 * The parent serves: start the password hashing threads.  This is the one
 * point where the parent becomes multi-threaded; whatever confines the
 * parent must be set up before it (see pwhash.c).
 */
void
login_hashing_start(void)
{
	pwhash_start();
}

static void
result_send(uint32_t conn, int ok, const char *code, const char *msg,
    int64_t not_after, const char *pem)
{
	struct login_result	 res;
	struct iovec		 iov[2];

	memset(&res, 0, sizeof(res));
	res.ok = ok;
	strlcpy(res.error, code, sizeof(res.error));
	strlcpy(res.message, msg, sizeof(res.message));
	res.not_after = not_after;
	iov[0].iov_base = &res;
	iov[0].iov_len = sizeof(res);
	iov[1].iov_base = (void *)(pem != NULL ? pem : "");
	iov[1].iov_len = pem != NULL ? strlen(pem) : 0;
	parent_sendv(PROC_MCPD, IMSG_LOGIN_RESULT, conn, iov,
	    pem != NULL ? 2 : 1);
}

static void
login_audit(const char *user, const char *addr, int ok, const char *reason,
    audit_done_fn done, void *arg)
{
	json_t	*rec;

	rec = json_pack("{s:s,s:s,s:b,s:s}", "event", "user.login", "user",
	    user, "success", ok, "remote_addr", addr);
	if (reason != NULL)
		json_object_set_new(rec, "reason", json_string(reason));
	parent_audit(rec, done, arg);
}

/* The success record is on disk (or may not be): issue, or refuse. */
static void
login_audited(void *arg, const struct audit_ack *ack)
{
	struct login_op	*op = arg;
	struct resource	*r, res;
	int64_t		 nb, na;
	char		*pem;

	if (ack->status != AUDIT_ACK_OK &&
	    parent->conf.audit_on_failure == AUDIT_FAIL_DENY) {
		result_send(op->conn, 0, WIRE_ERR_AUDIT_UNAVAILABLE, "the "
		    "gateway cannot write its audit log; try again later", 0,
		    NULL);
		goto out;
	}
	/* What was checked must still hold: a change may have come between. */
	if ((r = store_find(&parent->store, RES_USER, op->user)) == NULL ||
	    strcmp(r->u.user.generation, op->generation) != 0 ||
	    r->u.user.locked || (op->set_password &&
	    strcmp(r->u.user.invite, op->invite) != 0)) {
		login_audit(op->user, op->addr, 0, "the user changed while "
		    "logging in", NULL, NULL);
		result_send(op->conn, 0, WIRE_ERR_ACCESS_DENIED, "the user was "
		    "changed meanwhile; log in again", 0, NULL);
		goto out;
	}
	if (op->set_password) {
		if (store_copy(r, &res) == -1)
			fatalx("%s: store_copy", __func__);
		strlcpy(res.u.user.password, op->password_hash,
		    sizeof(res.u.user.password));
		res.u.user.invite[0] = '\0';
		res.u.user.invite_expires = 0;
		if (store_put(&parent->store, &res) == -1) {
			result_send(op->conn, 0, WIRE_ERR_INTERNAL, "the "
			    "gateway cannot save the new password", 0, NULL);
			goto out;
		}
		identity_push();
	}
	if ((pem = ca_issue_client(&parent->ca, op->user, r->u.user.generation,
	    op->pubkey, op->ttl, &nb, &na)) == NULL) {
		result_send(op->conn, 0, WIRE_ERR_INTERNAL, "the gateway "
		    "cannot issue a certificate", 0, NULL);
		goto out;
	}
	result_send(op->conn, 1, "", "logged in", na, pem);
	free(pem);
 out:
	explicit_bzero(op, sizeof(*op));
	free(op);
}

static void
deny(uint32_t conn, const char *user, const char *addr, const char *code,
    const char *msg, const char *reason)
{
	login_audit(user, addr, 0, reason, NULL, NULL);
	result_send(conn, 0, code, msg, 0, NULL);
}

/* Milliseconds as "N s", rounded up, or "1h2m" when long. */
static void
wait_text(int64_t ms, char *buf, size_t len)
{
	uint64_t	 secs = (uint64_t)((ms + 999) / 1000);

	if (secs < 120)
		snprintf(buf, len, "%llu s", (unsigned long long)secs);
	else
		fmt_duration(secs, buf, len);
}

/* An attempt that may not be checked now: say how long to wait. */
static void
refuse_throttled(uint32_t conn, const char *user, const char *addr,
    const char *prefix, enum throttle_why why, int64_t wait, int64_t now)
{
	json_t		*rec;
	const char	*code, *reason;
	char		 msg[256], when[32];
	uint64_t	 attempts;

	wait_text(wait, when, sizeof(when));
	switch (why) {
	case THR_LOCKED:
		code = WIRE_ERR_LOCKED_OUT;
		reason = "user login-locked";
		snprintf(msg, sizeof(msg), "too many failed logins for this "
		    "user from several networks; try again in %s, or ask an "
		    "administrator to unlock it", when);
		break;
	case THR_PAIR:
		code = WIRE_ERR_THROTTLED;
		reason = "throttled by user and prefix";
		snprintf(msg, sizeof(msg), "too many failed logins for this "
		    "user from your network; try again in %s", when);
		break;
	default:
		code = WIRE_ERR_THROTTLED;
		reason = "throttled by prefix";
		snprintf(msg, sizeof(msg), "too many failed logins from your "
		    "network; try again in %s", when);
		break;
	}
	if (throttle_refused(user, prefix, why, now, &attempts)) {
		rec = json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:I,s:I}", "event",
		    "user.login", "user", user, "success", 0, "remote_addr",
		    addr, "reason", reason, "prefix", prefix, "attempts",
		    (json_int_t)attempts, "retry_after",
		    (json_int_t)((wait + 999) / 1000));
		parent_audit(rec, NULL, NULL);
	}
	result_send(conn, 0, code, msg, 0, NULL);
}

static void
refuse_busy(uint32_t conn, const char *prefix)
{
	int64_t	 now = (int64_t)ev_now_ms();

	busy_count++;
	if (busy_logged == 0 || now - busy_logged >= BUSY_LOG_MS) {
		log_warnx("login: %llu attempts refused since the last such "
		    "line: too many waiting for a password check (the last "
		    "from %s)", (unsigned long long)busy_count, prefix);
		busy_count = 0;
		busy_logged = now;
	}
	result_send(conn, 0, WIRE_ERR_BUSY, "the gateway is busy checking "
	    "other logins; try again in a moment", 0, NULL);
}

static void
job_free(struct login_job *j)
{
	freezero(j, sizeof(*j));
}

/* Its turn has come: is it still allowed? */
static int
job_admit(struct pwhash_job *pw)
{
	struct login_job	*j = pw->arg;

	j->why = throttle_check(j->user, j->prefix, (int64_t)ev_now_ms(),
	    &j->wait);
	return (j->why == THR_OK);
}

/* This failure locked the user name: record it. */
static void
locked_now(const char *user)
{
	char		 when[32], until[TIME_RFC3339_LEN];
	int64_t		 left;
	uint64_t	 failures, prefixes;

	if (!throttle_locked(user, (int64_t)ev_now_ms(), &left, &failures,
	    &prefixes))
		return;
	wait_text(left, when, sizeof(when));
	fmt_time_us(now_us() + left * 1000, until, sizeof(until));
	log_warnx("login: user %s locked for %s after %llu failed logins "
	    "from %llu address prefixes", user, when,
	    (unsigned long long)failures, (unsigned long long)prefixes);
	parent_audit(json_pack("{s:s,s:s,s:b,s:s,s:I,s:I,s:s}", "event",
	    "user.lock", "user", user, "success", 1, "reason",
	    "failed logins", "failures", (json_int_t)failures, "prefixes",
	    (json_int_t)prefixes, "until", until), NULL, NULL);
}

static void
job_done(struct pwhash_job *pw, enum pwhash_status status)
{
	struct mcpgated_conf	*c = &parent->conf;
	struct login_job	*j = pw->arg;
	struct login_op		*op;
	struct resource		*r;
	enum throttle_why	 why;
	int64_t			 now = (int64_t)ev_now_ms(), wait;
	char			 msg[256];

	switch (status) {
	case PWHASH_BUSY:
		refuse_busy(j->conn, j->prefix);
		goto out;
	case PWHASH_DROPPED:
		refuse_throttled(j->conn, j->user, j->addr, j->prefix, j->why,
		    j->wait, now);
		goto out;
	case PWHASH_DONE:
		break;
	}
	log_debug("login: %s from %s: waited %llu ms for a check that took "
	    "%llu ms", j->user, j->addr, (unsigned long long)(pw->started -
	    pw->queued), (unsigned long long)((uint64_t)now - pw->started));

	/* With an invite, the invite was the secret; the hash is its cost. */
	if (j->with_invite ? !j->invite_ok : !pw->ok || !j->have_password) {
		if (throttle_failed(c, j->user, j->prefix, now))
			locked_now(j->user);
		deny(j->conn, j->user, j->addr, WIRE_ERR_ACCESS_DENIED,
		    j->with_invite ? "wrong user name or invite, or the "
		    "invite expired (ask an administrator for a new one)" :
		    "wrong user name or password", j->fail_reason);
		goto out;
	}
	if (j->too_short) {
		snprintf(msg, sizeof(msg), "a password needs at least %llu "
		    "characters", (unsigned long long)c->password_min_length);
		deny(j->conn, j->user, j->addr, WIRE_ERR_WEAK_PASSWORD, msg,
		    "new password too short");
		goto out;
	}
	if (j->with_invite && pw->kind == PWHASH_HASH && !pw->ok) {
		log_warnx("login: Argon2id failed to hash a new password");
		result_send(j->conn, 0, WIRE_ERR_INTERNAL, "the gateway cannot "
		    "save the new password", 0, NULL);
		goto out;
	}
	/* The right secret; but a lock may have come while it was checked. */
	if ((why = throttle_check(j->user, j->prefix, now, &wait)) ==
	    THR_LOCKED) {
		refuse_throttled(j->conn, j->user, j->addr, j->prefix, why,
		    wait, now);
		goto out;
	}
	if ((r = store_find(&parent->store, RES_USER, j->user)) == NULL ||
	    strcmp(r->u.user.generation, j->generation) != 0) {
		deny(j->conn, j->user, j->addr, WIRE_ERR_ACCESS_DENIED, "the "
		    "user was changed meanwhile; log in again", "the user "
		    "changed while logging in");
		goto out;
	}
	/* Whether the user is locked is told only to who knows the secret. */
	if (r->u.user.locked) {
		deny(j->conn, j->user, j->addr, WIRE_ERR_LOCKED, "this user is "
		    "locked; ask an administrator", "user locked");
		goto out;
	}
	throttle_succeeded(j->user, j->prefix);
	if ((op = calloc(1, sizeof(*op))) == NULL)
		fatal("%s", __func__);
	op->conn = j->conn;
	strlcpy(op->user, j->user, sizeof(op->user));
	strlcpy(op->generation, j->generation, sizeof(op->generation));
	strlcpy(op->invite, j->invite, sizeof(op->invite));
	strlcpy(op->addr, j->addr, sizeof(op->addr));
	memcpy(op->pubkey, j->pubkey, sizeof(op->pubkey));
	op->ttl = j->ttl;
	if (j->with_invite) {
		op->set_password = 1;
		strlcpy(op->password_hash, pw->encoded,
		    sizeof(op->password_hash));
	}
	login_audit(op->user, op->addr, 1, j->with_invite ? "invite" : NULL,
	    login_audited, op);
 out:
	job_free(j);
}

/*
 * A login from mcpd, its size checked by the dispatcher.  The request
 * is a fixed-size struct that mcpd filled from the client's line; it is
 * checked again here, since mcpd is only as trustworthy as the network
 * it parses.
 */
void
login_request(uint32_t conn, const struct login_req *in)
{
	struct mcpgated_conf	*c = &parent->conf;
	struct login_req	 req;
	struct login_job	*j;
	struct resource		*r;
	struct user		*u = NULL;
	enum throttle_why	 why;
	char			 invite_hash[RES_HASHLEN + 1];
	int64_t			 now = (int64_t)ev_now_ms(), wait;

	memcpy(&req, in, sizeof(req));
	req.user[sizeof(req.user) - 1] = '\0';
	req.password[sizeof(req.password) - 1] = '\0';
	req.invite[sizeof(req.invite) - 1] = '\0';
	req.new_password[sizeof(req.new_password) - 1] = '\0';
	req.remote[sizeof(req.remote) - 1] = '\0';
	if (!resource_name_ok(req.user))
		fatalx("mcpd sent a login for an invalid user name");

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("%s", __func__);
	j->conn = conn;
	strlcpy(j->user, req.user, sizeof(j->user));
	throttle_addr(req.remote, j->addr, sizeof(j->addr), j->prefix,
	    sizeof(j->prefix));

	/* Throttled or locked: no hash, an answer at once. */
	if ((why = throttle_check(j->user, j->prefix, now, &wait)) !=
	    THR_OK) {
		refuse_throttled(conn, j->user, j->addr, j->prefix, why, wait,
		    now);
		job_free(j);
		goto out;
	}

	if ((r = store_find(&parent->store, RES_USER, req.user)) != NULL) {
		u = &r->u.user;
		strlcpy(j->generation, u->generation, sizeof(j->generation));
		strlcpy(j->invite, u->invite, sizeof(j->invite));
	}
	j->pw.kind = PWHASH_VERIFY;
	strlcpy(j->pw.encoded, dummy_hash, sizeof(j->pw.encoded));
	j->fail_reason = "unknown user";
	if (req.with_invite) {
		j->with_invite = 1;
		sha256_hex(req.invite, strlen(req.invite), invite_hash);
		j->invite_ok = u != NULL && u->invite[0] != '\0' &&
		    now_us() / 1000000 < u->invite_expires &&
		    CRYPTO_memcmp(invite_hash, u->invite, RES_HASHLEN) == 0;
		if (u != NULL)
			j->fail_reason = "bad or expired invite";
		j->too_short = j->invite_ok &&
		    utf8_chars(req.new_password) < c->password_min_length;
		/* The new password is hashed, or costs the same. */
		strlcpy(j->pw.secret, req.new_password, sizeof(j->pw.secret));
		if (j->invite_ok && !j->too_short) {
			j->pw.kind = PWHASH_HASH;
			j->pw.encoded[0] = '\0';
			if (RAND_bytes(j->pw.salt, sizeof(j->pw.salt)) != 1)
				fatalx("%s: RAND_bytes", __func__);
		}
	} else {
		j->have_password = u != NULL && u->password[0] != '\0';
		if (j->have_password)
			strlcpy(j->pw.encoded, u->password,
			    sizeof(j->pw.encoded));
		if (u != NULL)
			j->fail_reason = j->have_password ? "wrong password" :
			    "no password set";
		strlcpy(j->pw.secret, req.password, sizeof(j->pw.secret));
	}
	memcpy(j->pubkey, req.pubkey, sizeof(j->pubkey));
	j->ttl = c->cert_ttl / 1000;
	if (req.ttl != 0 && req.ttl / 1000 < j->ttl)
		j->ttl = req.ttl / 1000 > 0 ? req.ttl / 1000 : 1;
	j->pw.admit = job_admit;
	j->pw.done = job_done;
	j->pw.arg = j;
	if (pwhash_submit(&j->pw, j->prefix) == -1) {
		refuse_busy(conn, j->prefix);
		job_free(j);
	}
 out:
	explicit_bzero(&req, sizeof(req));
}
