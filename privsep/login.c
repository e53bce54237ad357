/*
 * Logins, as mcpd hands them over in a fixed-size request: the password
 * checked against its Argon2id hash (or an invite against its SHA-256 and
 * the new password set), failures counted per user and per address, and
 * on success a certificate for the public key the client made.  Every
 * attempt that is not locked out costs one Argon2id computation, whatever
 * the outcome, so an unknown user is answered as slowly as a known one;
 * every attempt is audited, and a certificate is issued only once its
 * record is written.
 */
#include <sys/types.h>
#include <sys/tree.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <argon2.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "log.h"
#include "privsep.h"

/* libbsd's tree.h expects it; its cdefs.h leaves it out on Linux. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

/* OWASP's Argon2id parameters: 19 MiB, 2 passes, 1 lane. */
#define ARGON2_T	2
#define ARGON2_M	19456
#define ARGON2_P	1
#define ARGON2_SALT	16
#define ARGON2_HASH	32
#define FAILURE_KEYS	65536

struct failures {
	RB_ENTRY(failures)	 entry;
	char			 key[CONN_ADDR_MAX];
	int64_t			 window_start;	/* ms */
	uint64_t		 count;
	int64_t			 locked_until;	/* ms */
};

RB_HEAD(failure_tree, failures);

static int
failures_cmp(struct failures *a, struct failures *b)
{
	return (strcmp(a->key, b->key));
}

RB_GENERATE_STATIC(failure_tree, failures, entry, failures_cmp)

static struct failure_tree	 by_user = RB_INITIALIZER(&by_user);
static struct failure_tree	 by_addr = RB_INITIALIZER(&by_addr);
static size_t			 nfailures;
static char			 dummy_hash[128];

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

static int64_t
now_ms(void)
{
	return (now_us() / 1000);
}

static int
hash_password(const char *pw, char *out, size_t outlen)
{
	unsigned char	 salt[ARGON2_SALT];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return (-1);
	return (argon2id_hash_encoded(ARGON2_T, ARGON2_M, ARGON2_P, pw,
	    strlen(pw), salt, sizeof(salt), ARGON2_HASH, out, outlen) ==
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

/* Failure records that no longer matter go, so that they stay bounded. */
static void
failures_prune(struct failure_tree *t, int64_t now)
{
	struct failures	*f, *next;

	for (f = RB_MIN(failure_tree, t); f != NULL; f = next) {
		next = RB_NEXT(failure_tree, t, f);
		if (f->locked_until > now || now - f->window_start <
		    (int64_t)parent->conf.lockout_window)
			continue;
		RB_REMOVE(failure_tree, t, f);
		free(f);
		nfailures--;
	}
}

static struct failures *
failures_get(struct failure_tree *t, const char *key, int create)
{
	struct failures	 k, *f;

	strlcpy(k.key, key, sizeof(k.key));
	if ((f = RB_FIND(failure_tree, t, &k)) != NULL || !create)
		return (f);
	if (nfailures >= FAILURE_KEYS) {
		failures_prune(&by_user, now_ms());
		failures_prune(&by_addr, now_ms());
		if (nfailures >= FAILURE_KEYS)
			return (NULL);
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	strlcpy(f->key, key, sizeof(f->key));
	RB_INSERT(failure_tree, t, f);
	nfailures++;
	return (f);
}

/* Milliseconds still locked out, or 0. */
static int64_t
locked_for(struct failure_tree *t, const char *key, int64_t now)
{
	struct failures	*f = failures_get(t, key, 0);

	return (f != NULL && f->locked_until > now ? f->locked_until - now :
	    0);
}

static void
failure_count(struct failure_tree *t, const char *key, uint64_t limit,
    int64_t now)
{
	struct failures	*f;

	if ((f = failures_get(t, key, 1)) == NULL)
		return;
	if (now - f->window_start >= (int64_t)parent->conf.lockout_window) {
		f->window_start = now;
		f->count = 0;
	}
	if (++f->count >= limit) {
		f->locked_until = now + (int64_t)parent->conf.lockout_duration;
		f->count = 0;
		f->window_start = now;
		log_warnx("login: %s locked out for %llu s after %llu failures",
		    key, (unsigned long long)
		    (parent->conf.lockout_duration / 1000),
		    (unsigned long long)limit);
	}
}

static void
failures_clear(struct failure_tree *t, const char *key)
{
	struct failures	*f;

	if ((f = failures_get(t, key, 0)) != NULL) {
		RB_REMOVE(failure_tree, t, f);
		free(f);
		nfailures--;
	}
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
		result_send(op->conn, 0, "audit_unavailable", "the gateway "
		    "cannot write its audit log; try again later", 0, NULL);
		goto out;
	}
	/* What was checked must still hold: a change may have come between. */
	if ((r = store_find(&parent->store, RES_USER, op->user)) == NULL ||
	    strcmp(r->u.user.generation, op->generation) != 0 ||
	    r->u.user.locked || (op->set_password &&
	    strcmp(r->u.user.invite, op->invite) != 0)) {
		login_audit(op->user, op->addr, 0, "the user changed while "
		    "logging in", NULL, NULL);
		result_send(op->conn, 0, "access_denied", "the user was "
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
			result_send(op->conn, 0, "internal", "the gateway "
			    "cannot save the new password", 0, NULL);
			goto out;
		}
		identity_push();
	}
	if ((pem = ca_issue_client(&parent->ca, op->user, r->u.user.generation,
	    op->pubkey, op->ttl, &nb, &na)) == NULL) {
		result_send(op->conn, 0, "internal", "the gateway cannot "
		    "issue a certificate", 0, NULL);
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

/*
 * A login from mcpd.  The request is a fixed-size struct that mcpd
 * filled from the client's line; it is checked again here, since mcpd is
 * only as trustworthy as the network it parses.
 */
void
login_request(uint32_t conn, const void *data, size_t len)
{
	struct mcpgated_conf	*c = &parent->conf;
	struct login_req	 req;
	struct login_op		*op;
	struct resource		*r;
	struct user		*u = NULL;
	unsigned char		 md[SHA256_DIGEST_LENGTH];
	char			 addr[CONN_ADDR_MAX], *colon, msg[256];
	char			 invite_hash[RES_HASHLEN + 1];
	int64_t			 now = now_ms(), wait;
	int			 ok;

	if (len != sizeof(req))
		fatalx("bad login request size %zu from mcpd", len);
	memcpy(&req, data, sizeof(req));
	req.user[sizeof(req.user) - 1] = '\0';
	req.password[sizeof(req.password) - 1] = '\0';
	req.invite[sizeof(req.invite) - 1] = '\0';
	req.new_password[sizeof(req.new_password) - 1] = '\0';
	req.remote[sizeof(req.remote) - 1] = '\0';
	if (!resource_name_ok(req.user))
		fatalx("mcpd sent a login for an invalid user name");

	/* The address without its port: "[::1]:5" and "1.2.3.4:5". */
	strlcpy(addr, req.remote[0] == '[' ? req.remote + 1 : req.remote,
	    sizeof(addr));
	if ((colon = strrchr(addr, req.remote[0] == '[' ? ']' : ':')) != NULL)
		*colon = '\0';

	/*
	 * Failures are counted in a bounded table; when it is full of
	 * recent ones, logins wait rather than go uncounted.
	 */
	if (nfailures >= FAILURE_KEYS) {
		failures_prune(&by_user, now);
		failures_prune(&by_addr, now);
	}
	if (nfailures >= FAILURE_KEYS) {
		log_warnx("login: %zu users and addresses failed recently; "
		    "refusing logins until some expire", nfailures);
		deny(conn, req.user, addr, "locked_out", "too many failed "
		    "logins on this gateway; try again later",
		    "failure table full");
		goto out;
	}
	if ((wait = locked_for(&by_addr, addr, now)) > 0 ||
	    (wait = locked_for(&by_user, req.user, now)) > 0) {
		snprintf(msg, sizeof(msg), "too many failed logins; try again "
		    "in %lld s", (long long)((wait + 999) / 1000));
		deny(conn, req.user, addr, "locked_out", msg,
		    "too many failed logins");
		goto out;
	}
	if ((r = store_find(&parent->store, RES_USER, req.user)) != NULL)
		u = &r->u.user;

	if (req.with_invite) {
		SHA256((const unsigned char *)req.invite, strlen(req.invite),
		    md);
		hex_encode(md, sizeof(md), invite_hash, sizeof(invite_hash));
		ok = u != NULL && u->invite[0] != '\0' &&
		    now / 1000 < u->invite_expires &&
		    CRYPTO_memcmp(invite_hash, u->invite, RES_HASHLEN) == 0;
		if (ok && utf8_chars(req.new_password) <
		    c->password_min_length) {
			/* The same cost as a hash, then a clear refusal. */
			argon2id_verify(dummy_hash, req.new_password,
			    strlen(req.new_password));
			snprintf(msg, sizeof(msg), "a password needs at least "
			    "%llu characters", (unsigned long long)
			    c->password_min_length);
			deny(conn, req.user, addr, "weak_password", msg,
			    "new password too short");
			goto out;
		}
		if ((op = calloc(1, sizeof(*op))) == NULL)
			fatal("%s", __func__);
		if (ok && hash_password(req.new_password, op->password_hash,
		    sizeof(op->password_hash)) == -1)
			fatalx("Argon2id failed");
		if (!ok)
			argon2id_verify(dummy_hash, req.new_password,
			    strlen(req.new_password));
		op->set_password = ok;
	} else {
		ok = argon2id_verify(u != NULL && u->password[0] != '\0' ?
		    u->password : dummy_hash, req.password,
		    strlen(req.password)) == ARGON2_OK && u != NULL &&
		    u->password[0] != '\0';
		if ((op = calloc(1, sizeof(*op))) == NULL)
			fatal("%s", __func__);
	}
	if (!ok) {
		failure_count(&by_user, req.user, c->lockout_user_failures,
		    now);
		failure_count(&by_addr, addr, c->lockout_address_failures, now);
		deny(conn, req.user, addr, "access_denied", req.with_invite ?
		    "wrong user name or invite, or the invite expired (ask an "
		    "administrator for a new one)" : "wrong user name or "
		    "password", u == NULL ? "unknown user" : req.with_invite ?
		    "bad or expired invite" : u->password[0] == '\0' ?
		    "no password set" : "wrong password");
		explicit_bzero(op, sizeof(*op));
		free(op);
		goto out;
	}
	/* Whether the user is locked is told only to who knows the secret. */
	if (u->locked) {
		deny(conn, req.user, addr, "locked", "this user is locked; ask "
		    "an administrator", "user locked");
		explicit_bzero(op, sizeof(*op));
		free(op);
		goto out;
	}
	failures_clear(&by_user, req.user);
	op->conn = conn;
	strlcpy(op->user, req.user, sizeof(op->user));
	strlcpy(op->generation, u->generation, sizeof(op->generation));
	strlcpy(op->invite, u->invite, sizeof(op->invite));
	strlcpy(op->addr, addr, sizeof(op->addr));
	memcpy(op->pubkey, req.pubkey, sizeof(op->pubkey));
	op->ttl = c->cert_ttl / 1000;
	if (req.ttl != 0 && req.ttl / 1000 < op->ttl)
		op->ttl = req.ttl / 1000 > 0 ? req.ttl / 1000 : 1;
	login_audit(req.user, addr, 1, req.with_invite ? "invite" : NULL,
	    login_audited, op);
 out:
	explicit_bzero(&req, sizeof(req));
}
