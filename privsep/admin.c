/*
 * mcpgatectl's identity commands: users, roles, join tokens.  A change
 * is audited first and applied once auditd confirms the record; with
 * audit.on_failure deny, a record that cannot be written leaves
 * everything as it was.  After every change mcpd gets a new snapshot.
 */
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "log.h"
#include "privsep.h"

#define INVITE_TTL_DEFAULT	(3600 * 1000ULL)
#define INVITE_TTL_MAX		(7 * 86400 * 1000ULL)
#define TOKEN_TTL_DEFAULT	(30 * 60 * 1000ULL)
#define TOKEN_TTL_MAX		(7 * 86400 * 1000ULL)
#define TTL_MIN			(60 * 1000ULL)

/*
 * A change waiting for its audit records.  It is checked again when they
 * are written, against the state as it is then: another change may have
 * come in meanwhile.
 */
enum op_kind {
	OP_ADD,		/* new resources, none of which may exist */
	OP_CREATE,	/* mcpgatectl create: new, or replaced with force */
	OP_MUTATE,	/* a change of an existing user */
	OP_DELETE,
};

struct admin_op {
	uint32_t		 ctl;		/* the control connection */
	enum op_kind		 kind;
	struct resources	 put;		/* OP_ADD, OP_CREATE */
	int			 force;
	enum res_kind		 target_kind;	/* OP_MUTATE, OP_DELETE */
	char			 target[RES_NAMELEN];
	void			 (*mutate)(struct admin_op *, struct user *);
	int			 lock;		/* the mutations' arguments */
	int			 set_roles;
	struct strlist		 roles;
	int			 set_tools;
	struct strlist		 tools;
	char			 generation[RES_GENLEN + 1];
	char			 invite[RES_HASHLEN + 1];
	int64_t			 invite_expires;
	json_t			*records;	/* what was audited */
	json_t			*answer;	/* when all went well */
	int			 waiting;	/* records not yet written */
	int			 failed;
	int			 error;
};

static void	 mutate_lock(struct admin_op *, struct user *);

/* --- helpers ------------------------------------------------------------ */

/*
 * What an admin record keeps of a value: all of it when its JSON is at
 * most RECORD_VALUE_MAX bytes, which every resource mcpgatectl create
 * takes fits; else, for one the state directory held from before those
 * bounds, the start of its JSON text, marked KEY_truncated, with
 * KEY_bytes its whole length.  Takes value.
 */
#define RECORD_VALUE_MAX	(32 * 1024)

static void
record_value(json_t *rec, const char *key, json_t *value)
{
	char	*s, mark[64];
	size_t	 len, n;

	if ((s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		fatalx("%s: json_dumps", __func__);
	if ((len = strlen(s)) <= RECORD_VALUE_MAX) {
		json_object_set_new(rec, key, value);
		free(s);
		return;
	}
	json_decref(value);
	/* Cut on a character boundary. */
	for (n = RECORD_VALUE_MAX; n > 0 && ((unsigned char)s[n] & 0xc0) ==
	    0x80; n--)
		;
	json_object_set_new(rec, key, json_stringn(s, n));
	snprintf(mark, sizeof(mark), "%s_truncated", key);
	json_object_set_new(rec, mark, json_true());
	snprintf(mark, sizeof(mark), "%s_bytes", key);
	json_object_set_new(rec, mark, json_integer((json_int_t)len));
	free(s);
}

/* Where users reach the gateway: public_addr, else the first listener. */
const char *
admin_proxy_addr(char *buf, size_t len)
{
	char	 host[256];

	if (parent->conf.public_addr[0] != '\0')
		strlcpy(buf, parent->conf.public_addr, len);
	else if (parent->nbound > 0) {
		strlcpy(buf, parent->bound[0].addr, len);
		if (strncmp(buf, "0.0.0.0:", 8) == 0 ||
		    strncmp(buf, "[::]:", 5) == 0) {
			if (gethostname(host, sizeof(host)) == -1)
				strlcpy(host, "localhost", sizeof(host));
			host[sizeof(host) - 1] = '\0';
			snprintf(buf, len, "%s:%s", host, strrchr(
			    parent->bound[0].addr, ':') + 1);
		}
	} else
		strlcpy(buf, "(proxy_service disabled)", len);
	return (buf);
}

/* A user's new generation: 63 random bits, as 16 hex digits. */
void
new_generation(char gen[RES_GENLEN + 1])
{
	unsigned char	 raw[RES_GENLEN / 2];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	raw[0] &= 0x7f;		/* the serial stays positive */
	hex_encode(raw, sizeof(raw), gen, RES_GENLEN + 1);
}

/* A random secret as hex, and its SHA-256 as hex. */
static void
new_secret(char *secret, size_t slen, char *hash)
{
	unsigned char	 raw[32], md[SHA256_DIGEST_LENGTH];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	hex_encode(raw, sizeof(raw), secret, slen);
	explicit_bzero(raw, sizeof(raw));
	SHA256((const unsigned char *)secret, strlen(secret), md);
	hex_encode(md, sizeof(md), hash, RES_HASHLEN + 1);
}

static void
fmt_secs(int64_t secs, char *buf, size_t len)
{
	fmt_time_us(secs * 1000000, buf, len);
	/* Whole seconds: drop the fraction. */
	if (strlen(buf) > 20)
		strlcpy(buf + 19, "Z", len - 19);
}

static const char *
user_state(const struct user *u, int64_t now)
{
	if (u->locked)
		return ("locked");
	if (u->password[0] != '\0')
		return ("active");
	if (u->invite[0] != '\0')
		return (now < u->invite_expires ? "invited" :
		    "invite expired");
	return ("no password");
}

/* Names from a JSON array of strings, each a valid name. */
static int
json_names(json_t *a, struct strlist *l, const char **bad)
{
	json_t	*v;
	size_t	 i;

	if (!json_is_array(a))
		return (-1);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !resource_name_ok(
		    json_string_value(v))) {
			*bad = json_is_string(v) ? json_string_value(v) : "?";
			return (-1);
		}
		if (!strlist_has(l, json_string_value(v)) &&
		    strlist_add(l, json_string_value(v)) == -1)
			return (-1);
	}
	return (0);
}

/* Values that are patterns, as mcp_tools are: the roles expand them. */
static int
json_patterns(json_t *a, struct strlist *l)
{
	json_t	*v;
	char	 err[256];
	size_t	 i;

	if (!json_is_array(a))
		return (-1);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !resource_pattern_ok(
		    json_string_value(v), err, sizeof(err)))
			return (-1);
		if (!strlist_has(l, json_string_value(v)) &&
		    strlist_add(l, json_string_value(v)) == -1)
			return (-1);
	}
	return (0);
}

/*
 * The names of the roles a batch creates, sorted, for missing_role() to
 * search: a batch may hold thousands of users.
 */
struct batch_roles {
	const char	**v;
	size_t		  n;
};

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

static void
batch_roles_init(struct batch_roles *br, const struct resources *batch)
{
	size_t	 i;

	memset(br, 0, sizeof(*br));
	if (batch == NULL || batch->n == 0)
		return;
	if ((br->v = calloc(batch->n, sizeof(*br->v))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < batch->n; i++)
		if (batch->v[i].kind == RES_ROLE)
			br->v[br->n++] = batch->v[i].u.role.name;
	if (heapsort(br->v, br->n, sizeof(*br->v), name_cmp) == -1)
		fatal("%s", __func__);
}

/* The roles named must exist (here or among those being created). */
static const char *
missing_role(const struct strlist *roles, const struct batch_roles *br)
{
	size_t	 i;

	for (i = 0; i < roles->n; i++) {
		if (store_find(&parent->store, RES_ROLE, roles->v[i]) != NULL)
			continue;
		if (br == NULL || br->n == 0 || bsearch(&roles->v[i], br->v,
		    br->n, sizeof(*br->v), name_cmp) == NULL)
			return (roles->v[i]);
	}
	return (NULL);
}

static int
set_trait(struct user *u, const char *name, struct strlist *values)
{
	struct keyed_list	*t;
	size_t			 i;

	for (i = 0; i < u->ntraits; i++) {
		if (strcmp(u->traits[i].key, name) == 0) {
			strlist_free(&u->traits[i].values);
			u->traits[i].values = *values;
			memset(values, 0, sizeof(*values));
			return (0);
		}
	}
	if ((t = reallocarray(u->traits, u->ntraits + 1, sizeof(*t))) == NULL)
		return (-1);
	u->traits = t;
	if ((t[u->ntraits].key = strdup(name)) == NULL)
		return (-1);
	t[u->ntraits].values = *values;
	memset(values, 0, sizeof(*values));
	u->ntraits++;
	return (0);
}

static void
identity_part(const char *yaml, size_t len)
{
	parent_send(PROC_MCPD, IMSG_SNAPSHOT, 0, -1, yaml, len);
}

/*
 * Send mcpd what it needs to judge certificates and sessions, in parts of
 * whole documents and then the end, whatever its size.
 */
void
identity_push(void)
{
	if (store_snapshot(&parent->store, identity_part) == -1)
		fatalx("cannot build the identity snapshot");
	parent_send(PROC_MCPD, IMSG_SNAPSHOT_END, 0, -1, NULL, 0);
}

/* --- the audit-then-apply step ----------------------------------------- */

static void
op_free(struct admin_op *op)
{
	resources_free(&op->put);
	strlist_free(&op->roles);
	strlist_free(&op->tools);
	json_decref(op->records);
	json_decref(op->answer);
	explicit_bzero(op, sizeof(*op));
	free(op);
}

/* The roles a user names exist now (or come with this change, br). */
static int
roles_exist(const struct batch_roles *br, const struct strlist *roles,
    char *err, size_t errlen)
{
	const char	*missing;

	if ((missing = missing_role(roles, br)) == NULL)
		return (1);
	snprintf(err, errlen, "role '%s' does not exist (any more)", missing);
	return (0);
}

/*
 * Check the change against the state as it is now, and make the
 * resources to write.  Returns 0, or -1 with the conflict in err.
 */
static int
op_check(struct admin_op *op, char *err, size_t errlen)
{
	struct resource	*r, res, *old;
	struct resources *users = &parent->store.res[RES_USER];
	struct batch_roles br;
	const char	*name;
	size_t		 i;

	switch (op->kind) {
	case OP_ADD:
	case OP_CREATE:
		batch_roles_init(&br, &op->put);
		for (i = 0; i < op->put.n; i++) {
			r = &op->put.v[i];
			name = r->kind == RES_ROLE ? r->u.role.name :
			    r->kind == RES_USER ? r->u.user.name :
			    r->u.token.name;
			old = store_find(&parent->store, r->kind, name);
			if (old != NULL && !op->force) {
				snprintf(err, errlen, "%s '%s' was created "
				    "meanwhile", resource_kind_name(r->kind),
				    name);
				free(br.v);
				return (-1);
			}
			if (r->kind == RES_USER && !roles_exist(&br,
			    &r->u.user.roles, err, errlen)) {
				free(br.v);
				return (-1);
			}
			/* A replaced user keeps what the gateway keeps. */
			if (r->kind == RES_USER && old != NULL) {
				r->u.user.created = old->u.user.created;
				r->u.user.locked = old->u.user.locked;
				strlcpy(r->u.user.generation,
				    old->u.user.generation,
				    sizeof(r->u.user.generation));
				strlcpy(r->u.user.password,
				    old->u.user.password,
				    sizeof(r->u.user.password));
				strlcpy(r->u.user.invite, old->u.user.invite,
				    sizeof(r->u.user.invite));
				r->u.user.invite_expires =
				    old->u.user.invite_expires;
			}
		}
		free(br.v);
		return (0);
	case OP_MUTATE:
		if ((r = store_find(&parent->store, RES_USER,
		    op->target)) == NULL) {
			snprintf(err, errlen, "user '%s' was removed meanwhile",
			    op->target);
			return (-1);
		}
		if (store_copy(r, &res) == -1)
			fatalx("%s: store_copy", __func__);
		op->mutate(op, &res.u.user);
		if (!roles_exist(NULL, &res.u.user.roles, err, errlen)) {
			resource_clear(&res);
			return (-1);
		}
		if (resources_add(&op->put, &res) == -1)
			fatal("%s", __func__);
		return (0);
	case OP_DELETE:
		if (store_find(&parent->store, op->target_kind,
		    op->target) == NULL) {
			snprintf(err, errlen, "%s '%s' was removed meanwhile",
			    resource_kind_name(op->target_kind), op->target);
			return (-1);
		}
		for (i = 0; op->target_kind == RES_ROLE && i < users->n; i++) {
			if (strlist_has(&users->v[i].u.user.roles,
			    op->target)) {
				snprintf(err, errlen, "role '%s' was given to "
				    "%s meanwhile", op->target,
				    users->v[i].u.user.name);
				return (-1);
			}
		}
		return (0);
	}
	return (0);
}

/* Say in the audit log that what it recorded did not happen after all. */
static void
op_unrecord(struct admin_op *op, const char *why)
{
	json_t	*rec;
	size_t	 i;

	json_array_foreach(op->records, i, rec) {
		rec = json_deep_copy(rec);
		json_object_set_new(rec, "success", json_false());
		json_object_set_new(rec, "error", json_string(why));
		parent_audit(rec, NULL, NULL);
	}
}

static void
admin_apply(struct admin_op *op)
{
	char	 err[256];
	size_t	 done = 0;
	int	 changed = 0;

	if (op_check(op, err, sizeof(err)) == -1) {
		op_unrecord(op, err);
		control_reply(op->ctl, control_error("conflict", "%s; nothing "
		    "was changed", err));
		goto out;
	}
	if (op->kind == OP_DELETE) {
		if (store_delete(&parent->store, op->target_kind,
		    op->target) == -1) {
			snprintf(err, sizeof(err), "cannot remove %s/%s: %s",
			    resource_kind_name(op->target_kind), op->target,
			    strerror(errno));
			op_unrecord(op, err);
			control_reply(op->ctl, control_error("state", "%s",
			    err));
			goto out;
		}
		changed = 1;
	}
	/* One resource is written and synced; many share one sync. */
	if (op->put.n == 1 ? store_put(&parent->store, &op->put.v[0]) :
	    store_put_all(&parent->store, &op->put, &done)) {
		snprintf(err, sizeof(err), "cannot write the state "
		    "directory: %s", strerror(errno));
		if (op->put.n == 1 || done == 0)
			op_unrecord(op, err);
		control_reply(op->ctl, control_error("state", "%s%s", err,
		    op->put.n > 1 && done > 0 ? " (part of the change was "
		    "written)" : ""));
		if (changed || (op->put.n > 1 && done > 0))
			identity_push();
		goto out;
	}
	if (op->put.n > 0)
		changed = 1;
	if (changed)
		identity_push();
	/* An unlock also ends a lock by failed logins. */
	if (op->kind == OP_MUTATE && op->mutate == mutate_lock && !op->lock)
		throttle_unlock(op->target, ev_now_ms());
	control_reply(op->ctl, op->answer);
	op->answer = NULL;
 out:
	op_free(op);
}

static void
admin_audited(void *arg, const struct audit_ack *ack)
{
	struct admin_op	*op = arg;

	if (ack->status != AUDIT_ACK_OK) {
		op->failed = 1;
		op->error = ack->error;
	}
	if (--op->waiting > 0)
		return;
	if (op->failed && parent->conf.audit_on_failure == AUDIT_FAIL_DENY) {
		control_reply(op->ctl, control_error("audit_unavailable",
		    "the audit log cannot be written (%s); nothing was "
		    "changed", strerror(op->error)));
		op_free(op);
		return;
	}
	admin_apply(op);
}

static struct admin_op *
op_new(uint32_t ctl, enum op_kind kind)
{
	struct admin_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		fatal("%s", __func__);
	op->ctl = ctl;
	op->kind = kind;
	op->records = json_array();
	return (op);
}

static void
op_put(struct admin_op *op, struct resource *res)
{
	if (resources_add(&op->put, res) == -1)
		fatal("%s", __func__);
}

/* Audit rec (an event's fields) as part of op. */
static void
op_audit(struct admin_op *op, uid_t uid, json_t *rec)
{
	json_object_set_new(rec, "admin_uid", json_integer((json_int_t)uid));
	json_array_append(op->records, rec);
	op->waiting++;
	parent_audit(rec, admin_audited, op);
}

/*
 * The answer to users add and reset.  The login command does not hold
 * the invite: on the user's machine any local user could read it there
 * (ps, /proc/PID/cmdline); mcpgate login asks for it instead.
 */
static json_t *
invite_answer(const struct user *u, const char *invite)
{
	char	 addr[CONF_ADDRLEN], exp[TIME_RFC3339_LEN], cmd[1024];

	fmt_secs(u->invite_expires, exp, sizeof(exp));
	snprintf(cmd, sizeof(cmd), "mcpgate login --proxy %s --user %s "
	    "--invite --ca-fingerprint %s", admin_proxy_addr(addr,
	    sizeof(addr)), u->name, parent->ca.fingerprint);
	return (json_pack("{s:b,s:s,s:s,s:s,s:s,s:s}", "ok", 1,
	    "user", u->name, "invite", invite, "expires", exp,
	    "login_command", cmd, "ca_fingerprint", parent->ca.fingerprint));
}

static int
ttl_of(json_t *req, const char *key, uint64_t def, uint64_t max,
    uint64_t *ttl)
{
	json_t	*v = json_object_get(req, key);

	if (v == NULL) {
		*ttl = def;
		return (0);
	}
	if (!json_is_integer(v) ||
	    json_integer_value(v) < (json_int_t)TTL_MIN ||
	    json_integer_value(v) > (json_int_t)max)
		return (-1);
	*ttl = (uint64_t)json_integer_value(v);
	return (0);
}

static struct resource *
find_user(uint32_t ctl, json_t *req)
{
	struct resource	*r;
	const char	*name = json_string_value(json_object_get(req, "name"));

	if (name == NULL) {
		control_reply(ctl, control_error("bad_request",
		    "which user?"));
		return (NULL);
	}
	if ((r = store_find(&parent->store, RES_USER, name)) == NULL)
		control_reply(ctl, control_error("not_found",
		    "there is no user '%.64s'", name));
	return (r);
}

/* --- users ---------------------------------------------------------- */

static void
users_add(uint32_t ctl, uid_t uid, json_t *req)
{
	struct admin_op	*op;
	struct resource	 res;
	struct user	*u;
	struct strlist	 tools;
	const char	*name, *bad = NULL, *missing;
	char		 invite[RES_HASHLEN + 1], exp[TIME_RFC3339_LEN];
	json_t		*rec;
	uint64_t	 ttl;

	memset(&res, 0, sizeof(res));
	memset(&tools, 0, sizeof(tools));
	res.kind = RES_USER;
	u = &res.u.user;
	name = json_string_value(json_object_get(req, "name"));
	if (name == NULL || !resource_name_ok(name)) {
		control_reply(ctl, control_error("bad_request", "a user name "
		    "is 1 to %d letters, digits, '.', '_', '-' or '@', not "
		    "starting with '.' or '-'", RES_NAMELEN - 1));
		return;
	}
	if (store_find(&parent->store, RES_USER, name) != NULL) {
		control_reply(ctl, control_error("exists", "user '%s' exists",
		    name));
		return;
	}
	strlcpy(u->name, name, sizeof(u->name));
	if (json_names(json_object_get(req, "roles"), &u->roles, &bad) ==
	    -1 || u->roles.n == 0) {
		control_reply(ctl, control_error("bad_request", bad != NULL ?
		    "'%s' is not a role name" : "give the user's roles with "
		    "--roles%s", bad != NULL ? bad : ""));
		goto fail;
	}
	if ((missing = missing_role(&u->roles, NULL)) != NULL) {
		control_reply(ctl, control_error("not_found", "there is no "
		    "role '%s' (see mcpgatectl get roles)", missing));
		goto fail;
	}
	if (json_object_get(req, "mcp_tools") != NULL) {
		if (json_patterns(json_object_get(req, "mcp_tools"),
		    &tools) == -1 || set_trait(u, "mcp_tools", &tools) == -1) {
			control_reply(ctl, control_error("bad_request",
			    "--mcp-tools takes a comma-separated list of tool "
			    "names or patterns"));
			goto fail;
		}
	}
	if (ttl_of(req, "invite_ttl", INVITE_TTL_DEFAULT, INVITE_TTL_MAX,
	    &ttl) == -1) {
		control_reply(ctl, control_error("bad_request", "--invite-ttl "
		    "must be between 1m and 7d"));
		goto fail;
	}
	u->created = time(NULL);
	new_generation(u->generation);
	u->invite_expires = u->created + (int64_t)(ttl / 1000);
	new_secret(invite, sizeof(invite), u->invite);

	op = op_new(ctl, OP_ADD);
	op->answer = invite_answer(u, invite);
	explicit_bzero(invite, sizeof(invite));
	fmt_secs(u->invite_expires, exp, sizeof(exp));
	rec = json_pack("{s:s,s:s,s:s}", "event", "user.create", "user",
	    u->name, "invite_expires", exp);
	record_value(rec, "roles", strlist_json(&u->roles));
	record_value(rec, "traits", traits_json(u));
	op_audit(op, uid, rec);
	op_put(op, &res);
	return;
 fail:
	strlist_free(&tools);
	resource_clear(&res);
}

static void
users_ls(uint32_t ctl)
{
	struct resources	*l = &parent->store.res[RES_USER];
	struct user		*u;
	json_t			*users = json_array(), *o;
	char			 ts[TIME_RFC3339_LEN];
	int64_t			 now = time(NULL), left;
	int64_t			 mono = ev_now_ms();
	uint64_t		 failures, prefixes;
	size_t			 i;

	for (i = 0; i < l->n; i++) {
		u = &l->v[i].u.user;
		fmt_secs(u->created, ts, sizeof(ts));
		o = json_pack("{s:s,s:o,s:o,s:s,s:s}", "name", u->name,
		    "roles", strlist_json(&u->roles), "traits",
		    traits_json(u), "state", user_state(u, now), "created",
		    ts);
		if (u->invite[0] != '\0') {
			fmt_secs(u->invite_expires, ts, sizeof(ts));
			json_object_set_new(o, "invite_expires",
			    json_string(ts));
		}
		/* Locked by failed logins from many prefixes. */
		if (throttle_locked(u->name, mono, &left, &failures,
		    &prefixes)) {
			if (!u->locked)
				json_object_set_new(o, "state",
				    json_string("login-locked"));
			fmt_secs(now + (left + 999) / 1000, ts, sizeof(ts));
			json_object_set_new(o, "login_locked_until",
			    json_string(ts));
			json_object_set_new(o, "failed_logins",
			    json_integer((json_int_t)failures));
			json_object_set_new(o, "failed_prefixes",
			    json_integer((json_int_t)prefixes));
		}
		json_array_append_new(users, o);
	}
	control_reply(ctl, json_pack("{s:b,s:o}", "ok", 1, "users", users));
}

static void
users_get(uint32_t ctl, json_t *req)
{
	struct resource	*r;
	char		*yaml;

	if ((r = find_user(ctl, req)) == NULL)
		return;
	if ((yaml = resource_yaml(r, RES_ADMIN, NULL)) == NULL)
		fatalx("%s: resource_yaml", __func__);
	control_reply(ctl, json_pack("{s:b,s:s,s:s,s:o,s:o,s:b}", "ok", 1,
	    "yaml", yaml, "name", r->u.user.name, "roles",
	    strlist_json(&r->u.user.roles), "traits",
	    traits_json(&r->u.user), "locked", r->u.user.locked));
	free(yaml);
}

static void
mutate_update(struct admin_op *op, struct user *u)
{
	struct strlist	 copy;
	size_t		 i;

	if (op->set_roles) {
		strlist_free(&u->roles);
		for (i = 0; i < op->roles.n; i++)
			if (strlist_add(&u->roles, op->roles.v[i]) == -1)
				fatal("%s", __func__);
	}
	if (op->set_tools) {
		memset(&copy, 0, sizeof(copy));
		for (i = 0; i < op->tools.n; i++)
			if (strlist_add(&copy, op->tools.v[i]) == -1)
				fatal("%s", __func__);
		if (set_trait(u, "mcp_tools", &copy) == -1)
			fatal("%s", __func__);
	}
}

static void
users_update(uint32_t ctl, uid_t uid, json_t *req)
{
	struct admin_op	*op;
	struct resource	*r, res;
	const char	*bad = NULL, *missing;
	json_t		*jr, *jt, *rec;

	if ((r = find_user(ctl, req)) == NULL)
		return;
	jr = json_object_get(req, "set_roles");
	jt = json_object_get(req, "set_mcp_tools");
	if (jr == NULL && jt == NULL) {
		control_reply(ctl, control_error("bad_request", "nothing to "
		    "change: give --set-roles or --set-mcp-tools"));
		return;
	}
	op = op_new(ctl, OP_MUTATE);
	op->target_kind = RES_USER;
	strlcpy(op->target, r->u.user.name, sizeof(op->target));
	op->mutate = mutate_update;
	if (jr != NULL && (json_names(jr, &op->roles, &bad) == -1 ||
	    op->roles.n == 0)) {
		control_reply(ctl, control_error("bad_request", bad != NULL ?
		    "'%s' is not a role name" : "--set-roles needs at least "
		    "one role%s", bad != NULL ? bad : ""));
		goto fail;
	}
	if ((missing = missing_role(&op->roles, NULL)) != NULL) {
		control_reply(ctl, control_error("not_found", "there is no "
		    "role '%s' (see mcpgatectl get roles)", missing));
		goto fail;
	}
	if (jt != NULL && json_patterns(jt, &op->tools) == -1) {
		control_reply(ctl, control_error("bad_request",
		    "--set-mcp-tools takes a comma-separated list of tool "
		    "names or patterns"));
		goto fail;
	}
	op->set_roles = jr != NULL;
	op->set_tools = jt != NULL;
	/* What the user will look like, for the answer and the record. */
	if (store_copy(r, &res) == -1)
		fatalx("%s: store_copy", __func__);
	mutate_update(op, &res.u.user);
	op->answer = json_pack("{s:b,s:s,s:o,s:o}", "ok", 1, "user",
	    res.u.user.name, "roles", strlist_json(&res.u.user.roles),
	    "traits", traits_json(&res.u.user));
	rec = json_pack("{s:s,s:s}", "event", "user.update", "user",
	    res.u.user.name);
	record_value(rec, "roles", strlist_json(&res.u.user.roles));
	record_value(rec, "traits", traits_json(&res.u.user));
	op_audit(op, uid, rec);
	resource_clear(&res);
	return;
 fail:
	op_free(op);
}

/* lock, unlock, reset: a change of the user's status. */
static void
mutate_lock(struct admin_op *op, struct user *u)
{
	u->locked = op->lock;
}

static void
mutate_reset(struct admin_op *op, struct user *u)
{
	/* A new generation: every certificate issued before fails. */
	u->password[0] = '\0';
	strlcpy(u->generation, op->generation, sizeof(u->generation));
	strlcpy(u->invite, op->invite, sizeof(u->invite));
	u->invite_expires = op->invite_expires;
}

static void
users_status(uint32_t ctl, uid_t uid, json_t *req, const char *what)
{
	struct admin_op	*op;
	struct resource	*r;
	struct user	 shown;
	json_t		*rec;
	char		 invite[RES_HASHLEN + 1];
	const char	*event;
	uint64_t	 ttl, failures, prefixes;
	int64_t		 left;
	int		 login_locked = 0;

	if ((r = find_user(ctl, req)) == NULL)
		return;
	op = op_new(ctl, OP_MUTATE);
	op->target_kind = RES_USER;
	strlcpy(op->target, r->u.user.name, sizeof(op->target));
	if (strcmp(what, "lock") == 0 || strcmp(what, "unlock") == 0) {
		op->lock = strcmp(what, "lock") == 0;
		op->mutate = mutate_lock;
		event = op->lock ? "user.lock" : "user.unlock";
		login_locked = !op->lock && throttle_locked(r->u.user.name,
		    ev_now_ms(), &left, &failures, &prefixes);
		op->answer = json_pack("{s:b,s:s,s:s}", "ok", 1, "user",
		    r->u.user.name, "message", op->lock ? "locked: its "
		    "certificates are refused and its connections end" :
		    login_locked ? "unlocked, and its lock after failed "
		    "logins ended" : "unlocked");
	} else {
		if (ttl_of(req, "invite_ttl", INVITE_TTL_DEFAULT,
		    INVITE_TTL_MAX, &ttl) == -1) {
			control_reply(ctl, control_error("bad_request",
			    "--invite-ttl must be between 1m and 7d"));
			op_free(op);
			return;
		}
		event = "user.reset";
		op->mutate = mutate_reset;
		new_generation(op->generation);
		op->invite_expires = time(NULL) + (int64_t)(ttl / 1000);
		new_secret(invite, sizeof(invite), op->invite);
		memset(&shown, 0, sizeof(shown));
		strlcpy(shown.name, r->u.user.name, sizeof(shown.name));
		shown.invite_expires = op->invite_expires;
		op->answer = invite_answer(&shown, invite);
		explicit_bzero(invite, sizeof(invite));
	}
	rec = json_pack("{s:s,s:s}", "event", event, "user", r->u.user.name);
	if (login_locked)
		json_object_set_new(rec, "login_lock", json_true());
	op_audit(op, uid, rec);
}

static void
users_rm(uint32_t ctl, uid_t uid, json_t *req)
{
	struct admin_op	*op;
	struct resource	*r;

	if ((r = find_user(ctl, req)) == NULL)
		return;
	op = op_new(ctl, OP_DELETE);
	op->target_kind = RES_USER;
	strlcpy(op->target, r->u.user.name, sizeof(op->target));
	op->answer = json_pack("{s:b,s:s,s:s}", "ok", 1, "user",
	    r->u.user.name, "message", "removed: its certificates are "
	    "refused and its connections end");
	op_audit(op, uid, json_pack("{s:s,s:s}", "event", "user.delete",
	    "user", r->u.user.name));
}

/* --- resources: create, get, rm ----------------------------------- */

struct named {
	enum res_kind	 kind;
	const char	*name;
	size_t		 at;	/* in the batch */
};

static int
named_cmp(const void *a, const void *b)
{
	const struct named	*x = a, *y = b;
	int			 r;

	if (x->kind != y->kind)
		return (x->kind < y->kind ? -1 : 1);
	if ((r = strcmp(x->name, y->name)) != 0)
		return (r);
	return (x->at < y->at ? -1 : x->at > y->at);
}

/*
 * Which resources of a batch repeat one before them, of the same kind and
 * name: a flag for each, found by sorting, for batches of thousands.
 */
static char *
create_twice(const struct resources *rs)
{
	struct named	*v;
	char		*twice;
	size_t		 i;

	if ((v = calloc(rs->n, sizeof(*v))) == NULL ||
	    (twice = calloc(rs->n, 1)) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < rs->n; i++) {
		v[i].kind = rs->v[i].kind;
		v[i].name = rs->v[i].kind == RES_ROLE ?
		    rs->v[i].u.role.name : rs->v[i].u.user.name;
		v[i].at = i;
	}
	if (heapsort(v, rs->n, sizeof(*v), named_cmp) == -1)
		fatal("%s", __func__);
	for (i = 1; i < rs->n; i++)
		if (v[i].kind == v[i - 1].kind &&
		    strcmp(v[i].name, v[i - 1].name) == 0)
			twice[v[i].at] = 1;
	free(v);
	return (twice);
}

static void
create(uint32_t ctl, uid_t uid, json_t *req)
{
	struct admin_op		*op;
	struct resources	 rs;
	struct conf_errors	 errs;
	struct resource		*res, *old;
	struct batch_roles	 br;
	json_t			*errors, *created, *rec;
	const char		*yaml, *source, *missing, *name;
	char			*twice;
	int			 force, i, exists;
	size_t			 k;

	yaml = json_string_value(json_object_get(req, "yaml"));
	source = json_string_value(json_object_get(req, "source"));
	force = json_is_true(json_object_get(req, "force"));
	if (yaml == NULL || source == NULL) {
		control_reply(ctl, control_error("bad_request",
		    "create needs yaml and source"));
		return;
	}
	if (resource_parse(source, yaml, json_string_length(
	    json_object_get(req, "yaml")), RES_ADMIN, &rs, &errs) == -1) {
		errors = json_array();
		for (i = 0; i < errs.n; i++)
			json_array_append_new(errors,
			    json_string(errs.msg[i]));
		if (errs.dropped > 0)
			json_array_append_new(errors, json_sprintf("(and %d "
			    "more)", errs.dropped));
		control_reply(ctl, json_pack("{s:b,s:s,s:s,s:o}", "ok", 0,
		    "error", "bad_resource", "message", "nothing was created",
		    "errors", errors));
		return;
	}
	if (rs.n == 0) {
		control_reply(ctl, control_error("bad_request", "%s holds no "
		    "resource", source));
		return;
	}
	/* Every resource must be acceptable before any is applied. */
	errors = json_array();
	twice = create_twice(&rs);
	batch_roles_init(&br, &rs);
	for (k = 0; k < rs.n; k++) {
		res = &rs.v[k];
		name = res->kind == RES_ROLE ? res->u.role.name :
		    res->u.user.name;
		exists = store_find(&parent->store, res->kind, name) != NULL;
		if (twice[k])
			json_array_append_new(errors, json_sprintf(
			    "%s:%zu: %s '%s' appears twice", source,
			    res->line, resource_kind_name(res->kind), name));
		else if (exists && !force)
			json_array_append_new(errors, json_sprintf(
			    "%s:%zu: %s '%s' exists: give --force to replace "
			    "it", source, res->line,
			    resource_kind_name(res->kind), name));
		if (res->kind == RES_USER && (missing = missing_role(
		    &res->u.user.roles, &br)) != NULL)
			json_array_append_new(errors, json_sprintf(
			    "%s:%zu: user '%s' names role '%s', which does "
			    "not exist", source, res->line, name, missing));
		if (res->kind == RES_USER && res->u.user.roles.n == 0)
			json_array_append_new(errors, json_sprintf(
			    "%s:%zu: user '%s' needs at least one role",
			    source, res->line, name));
	}
	free(twice);
	free(br.v);
	if (json_array_size(errors) > 0) {
		resources_free(&rs);
		control_reply(ctl, json_pack("{s:b,s:s,s:s,s:o}", "ok", 0,
		    "error", "bad_resource", "message", "nothing was created",
		    "errors", errors));
		return;
	}
	json_decref(errors);

	op = op_new(ctl, OP_CREATE);
	op->force = force;
	created = json_array();
	for (k = 0; k < rs.n; k++) {
		res = &rs.v[k];
		if (res->kind == RES_ROLE) {
			exists = store_find(&parent->store, RES_ROLE,
			    res->u.role.name) != NULL;
			json_array_append_new(created, json_sprintf("role/%s",
			    res->u.role.name));
			op_audit(op, uid, json_pack("{s:s,s:s}", "event",
			    exists ? "role.update" : "role.create", "role",
			    res->u.role.name));
		} else {
			/* Status and credentials stay the gateway's. */
			old = store_find(&parent->store, RES_USER,
			    res->u.user.name);
			if (old == NULL) {
				res->u.user.created = time(NULL);
				new_generation(res->u.user.generation);
			}
			json_array_append_new(created, json_sprintf("user/%s",
			    res->u.user.name));
			rec = json_pack("{s:s,s:s}", "event", old != NULL ?
			    "user.update" : "user.create", "user",
			    res->u.user.name);
			record_value(rec, "roles",
			    strlist_json(&res->u.user.roles));
			record_value(rec, "traits", traits_json(&res->u.user));
			op_audit(op, uid, rec);
		}
	}
	op->put = rs;
	op->answer = json_pack("{s:b,s:o}", "ok", 1, "created", created);
}

static json_t *
yaml_of_kind(enum res_kind kind, const char *name, const char **err)
{
	struct resources	*l = &parent->store.res[kind];
	struct resource		*r;
	char			*y;
	json_t			*out;
	size_t			 i;

	out = json_array();
	for (i = 0; i < l->n; i++) {
		r = &l->v[i];
		if (name != NULL && strcmp(name, kind == RES_ROLE ?
		    r->u.role.name : r->u.user.name) != 0)
			continue;
		if ((y = resource_yaml(r, RES_ADMIN, NULL)) == NULL)
			fatalx("%s: resource_yaml", __func__);
		json_array_append_new(out, json_string(y));
		free(y);
	}
	if (name != NULL && json_array_size(out) == 0) {
		json_decref(out);
		*err = name;
		return (NULL);
	}
	return (out);
}

/* "roles", "users", "role/NAME", "user/NAME": the kind and the name. */
static int
parse_what(const char *what, enum res_kind *kind, const char **name,
    int tokens)
{
	const char	*slash = strchr(what, '/');
	size_t		 n = slash != NULL ? (size_t)(slash - what) :
	    strlen(what);

	*name = slash != NULL ? slash + 1 : NULL;
	if ((n == 4 && strncmp(what, "role", 4) == 0) ||
	    (n == 5 && strncmp(what, "roles", 5) == 0))
		*kind = RES_ROLE;
	else if ((n == 4 && strncmp(what, "user", 4) == 0) ||
	    (n == 5 && strncmp(what, "users", 5) == 0))
		*kind = RES_USER;
	else if (tokens && ((n == 5 && strncmp(what, "token", 5) == 0) ||
	    (n == 6 && strncmp(what, "tokens", 6) == 0)))
		*kind = RES_TOKEN;
	else
		return (-1);
	return (*name != NULL && !resource_name_ok(*name) ? -1 : 0);
}

static void
get(uint32_t ctl, json_t *req)
{
	enum res_kind	 kind;
	const char	*what, *name, *err = NULL;
	json_t		*docs;

	what = json_string_value(json_object_get(req, "what"));
	if (what == NULL || parse_what(what, &kind, &name, 0) == -1) {
		control_reply(ctl, control_error("bad_request", "get takes "
		    "roles, users, role/NAME or user/NAME"));
		return;
	}
	if ((docs = yaml_of_kind(kind, name, &err)) == NULL) {
		control_reply(ctl, control_error("not_found", "there is no "
		    "%s '%s'", resource_kind_name(kind), err));
		return;
	}
	control_reply(ctl, json_pack("{s:b,s:o}", "ok", 1, "documents",
	    docs));
}

static void
rm(uint32_t ctl, uid_t uid, json_t *req)
{
	struct admin_op		*op;
	struct resources	*users = &parent->store.res[RES_USER];
	enum res_kind		 kind;
	const char		*what, *name;
	char			 inuse[512] = "";
	size_t			 i;

	what = json_string_value(json_object_get(req, "what"));
	if (what == NULL || parse_what(what, &kind, &name, 1) == -1 ||
	    name == NULL) {
		control_reply(ctl, control_error("bad_request", "rm takes "
		    "role/NAME, user/NAME or token/ID"));
		return;
	}
	if (store_find(&parent->store, kind, name) == NULL) {
		control_reply(ctl, control_error("not_found", "there is no "
		    "%s '%s'", resource_kind_name(kind), name));
		return;
	}
	if (kind == RES_ROLE && store_is_preset(name)) {
		control_reply(ctl, control_error("preset", "'%s' is a preset "
		    "role and stays; change it with mcpgatectl create --force",
		    name));
		return;
	}
	for (i = 0; kind == RES_ROLE && i < users->n; i++) {
		if (!strlist_has(&users->v[i].u.user.roles, name))
			continue;
		if (inuse[0] != '\0')
			strlcat(inuse, ", ", sizeof(inuse));
		strlcat(inuse, users->v[i].u.user.name, sizeof(inuse));
	}
	if (inuse[0] != '\0') {
		control_reply(ctl, control_error("in_use", "role '%s' is given "
		    "to %s: change their roles first", name, inuse));
		return;
	}
	op = op_new(ctl, OP_DELETE);
	op->target_kind = kind;
	strlcpy(op->target, name, sizeof(op->target));
	op->answer = json_pack("{s:b,s:s}", "ok", 1, "message",
	    "removed");
	op_audit(op, uid, kind == RES_ROLE ? json_pack("{s:s,s:s}", "event",
	    "role.delete", "role", name) : kind == RES_USER ?
	    json_pack("{s:s,s:s}", "event", "user.delete", "user", name) :
	    json_pack("{s:s,s:s}", "event", "token.delete", "token", name));
}

/* --- join tokens ---------------------------------------------------- */

static void
tokens_add(uint32_t ctl, uid_t uid, json_t *req)
{
	struct admin_op	*op;
	struct resource	 res;
	struct token	*t;
	unsigned char	 id[8];
	char		 secret[RES_HASHLEN + 1], exp[TIME_RFC3339_LEN];
	const char	*type;
	uint64_t	 ttl;

	type = json_string_value(json_object_get(req, "type"));
	if (type == NULL || strcmp(type, "app") != 0) {
		control_reply(ctl, control_error("bad_request", "a join token "
		    "has --type=app"));
		return;
	}
	if (ttl_of(req, "ttl", TOKEN_TTL_DEFAULT, TOKEN_TTL_MAX, &ttl) == -1) {
		control_reply(ctl, control_error("bad_request", "--ttl must "
		    "be between 1m and 7d"));
		return;
	}
	memset(&res, 0, sizeof(res));
	res.kind = RES_TOKEN;
	t = &res.u.token;
	if (RAND_bytes(id, sizeof(id)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	hex_encode(id, sizeof(id), t->name, sizeof(t->name));
	strlcpy(t->type, type, sizeof(t->type));
	t->created = time(NULL);
	t->expires = t->created + (int64_t)(ttl / 1000);
	new_secret(secret, sizeof(secret), t->hash);
	fmt_secs(t->expires, exp, sizeof(exp));
	op = op_new(ctl, OP_ADD);
	op->answer = json_pack("{s:b,s:s,s:s,s:s,s:s}", "ok", 1, "token",
	    secret, "id", t->name, "type", t->type, "expires", exp);
	explicit_bzero(secret, sizeof(secret));
	op_audit(op, uid, json_pack("{s:s,s:s,s:s,s:s}", "event",
	    "token.create", "token", t->name, "type", t->type, "expires",
	    exp));
	op_put(op, &res);
}

static void
tokens_ls(uint32_t ctl)
{
	struct resources	*l = &parent->store.res[RES_TOKEN];
	struct token		*t;
	json_t			*tokens = json_array();
	char			 c[TIME_RFC3339_LEN], e[TIME_RFC3339_LEN];
	int64_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < l->n; i++) {
		t = &l->v[i].u.token;
		fmt_secs(t->created, c, sizeof(c));
		fmt_secs(t->expires, e, sizeof(e));
		json_array_append_new(tokens, json_pack("{s:s,s:s,s:s,s:s,"
		    "s:b}", "id", t->name, "type", t->type, "created", c,
		    "expires", e, "expired", now >= t->expires));
	}
	control_reply(ctl, json_pack("{s:b,s:o}", "ok", 1, "tokens",
	    tokens));
}

static void
tokens_rm(uint32_t ctl, uid_t uid, json_t *req)
{
	json_t		*r;
	const char	*id = json_string_value(json_object_get(req, "id"));

	if (id == NULL) {
		control_reply(ctl, control_error("bad_request", "which "
		    "token?"));
		return;
	}
	r = json_pack("{s:o}", "what", json_sprintf("token/%s", id));
	rm(ctl, uid, r);
	json_decref(r);
}

/*
 * An identity command from mcpgatectl.  Returns 0 when it is one (the
 * answer comes through control_reply, now or once audited), -1 when the
 * command is not an identity command.
 */
int
admin_handle(uint32_t ctl, uid_t uid, const char *cmd, json_t *req)
{
	if (strcmp(cmd, "users.add") == 0)
		users_add(ctl, uid, req);
	else if (strcmp(cmd, "users.ls") == 0)
		users_ls(ctl);
	else if (strcmp(cmd, "users.get") == 0)
		users_get(ctl, req);
	else if (strcmp(cmd, "users.update") == 0)
		users_update(ctl, uid, req);
	else if (strcmp(cmd, "users.lock") == 0)
		users_status(ctl, uid, req, "lock");
	else if (strcmp(cmd, "users.unlock") == 0)
		users_status(ctl, uid, req, "unlock");
	else if (strcmp(cmd, "users.reset") == 0)
		users_status(ctl, uid, req, "reset");
	else if (strcmp(cmd, "users.rm") == 0)
		users_rm(ctl, uid, req);
	else if (strcmp(cmd, "create") == 0)
		create(ctl, uid, req);
	else if (strcmp(cmd, "get") == 0)
		get(ctl, req);
	else if (strcmp(cmd, "rm") == 0)
		rm(ctl, uid, req);
	else if (strcmp(cmd, "tokens.add") == 0)
		tokens_add(ctl, uid, req);
	else if (strcmp(cmd, "tokens.ls") == 0)
		tokens_ls(ctl);
	else if (strcmp(cmd, "tokens.rm") == 0)
		tokens_rm(ctl, uid, req);
	else
		return (-1);
	return (0);
}
