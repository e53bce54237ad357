/*
 * mcpgatectl's identity commands: the audit-then-apply engine, the
 * commands on resources of every kind (roles, users, apps: create, get,
 * rm) and the dispatch; the commands on users are in users.c, on join
 * tokens in tokens.c.  A change is audited first and applied once
 * auditd confirms the record; with audit.on_failure deny, a record that
 * cannot be written leaves everything as it was.  After every change
 * mcpd gets a new snapshot.
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

#include "headertpl.h"
#include "log.h"
#include "privsep.h"
#include "admin.h"

/* --- helpers ------------------------------------------------------------ */

/*
 * What an admin record keeps of a value: all of it when its JSON is at
 * most RECORD_VALUE_MAX bytes, which every resource mcpgatectl create
 * takes fits; else, for one the state directory held from before those
 * bounds, the start of its JSON text, marked KEY_truncated, with
 * KEY_bytes its whole length.  Takes value.
 */
#define RECORD_VALUE_MAX	(32 * 1024)

void
admin_record_value(json_t *rec, const char *key, json_t *value)
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

/* A random secret as hex, and its SHA-256 as hex. */
void
admin_new_secret(char *secret, size_t slen, char *hash)
{
	unsigned char	 raw[32];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatalx("%s: RAND_bytes", __func__);
	hex_encode(raw, sizeof(raw), secret, slen);
	explicit_bzero(raw, sizeof(raw));
	sha256_hex(secret, strlen(secret), hash);
}

void
admin_fmt_secs(int64_t secs, char *buf, size_t len)
{
	fmt_time_us(secs * 1000000, buf, len);
	/* Whole seconds: drop the fraction. */
	if (strlen(buf) > 20)
		strlcpy(buf + 19, "Z", len - 19);
}

int
admin_ttl(json_t *req, const char *key, uint64_t def, uint64_t max,
    uint64_t *ttl)
{
	json_t	*v = json_object_get(req, key);

	if (v == NULL) {
		*ttl = def;
		return (0);
	}
	if (!json_is_integer(v) ||
	    json_integer_value(v) < (json_int_t)ADMIN_TTL_MIN ||
	    json_integer_value(v) > (json_int_t)max)
		return (-1);
	*ttl = (uint64_t)json_integer_value(v);
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

/* The first of roles that does not exist, or NULL. */
const char *
admin_role_missing(const struct strlist *roles)
{
	return (missing_role(roles, NULL));
}

/* --- the audit-then-apply step ----------------------------------------- */

void
admin_op_free(struct admin_op *op)
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
			name = resource_name(r);
			old = store_find(&parent->store, r->kind, name);
			if (r->kind == RES_APP &&
			    app_config(&parent->conf, name) != NULL) {
				snprintf(err, errlen, "app '%s' was added to "
				    "the configuration meanwhile", name);
				free(br.v);
				return (-1);
			}
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
	if (op->end_login_lock)
		throttle_unlock(op->target, ev_now_ms());
	control_reply(op->ctl, op->answer);
	op->answer = NULL;
 out:
	admin_op_free(op);
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
		admin_op_free(op);
		return;
	}
	admin_apply(op);
}

struct admin_op *
admin_op_new(uint32_t ctl, enum op_kind kind)
{
	struct admin_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		fatal("%s", __func__);
	op->ctl = ctl;
	op->kind = kind;
	op->records = json_array();
	return (op);
}

void
admin_op_put(struct admin_op *op, struct resource *res)
{
	if (resources_add(&op->put, res) == -1)
		fatal("%s", __func__);
}

/* Audit rec (an event's fields) as part of op. */
void
admin_op_audit(struct admin_op *op, uid_t uid, json_t *rec)
{
	json_object_set_new(rec, "admin_uid", json_integer((json_int_t)uid));
	json_array_append(op->records, rec);
	op->waiting++;
	parent_audit(rec, admin_audited, op);
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
		v[i].name = resource_name(&rs->v[i]);
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

/*
 * The record of a change to an app: its uri; what runs, as whom, where,
 * its environment by names only, as values may be secrets; or, of an
 * HTTP or SSE app, how its server is verified and the names of the
 * headers it gets, as a template may hold a secret too (an API key).
 */
static json_t *
app_record(const char *event, const struct app_res *a)
{
	json_t	*rec, *env, *names;
	char	 name[HEADER_NAME_MAX + 1];
	size_t	 i;

	if (a->transport != APP_STDIO) {
		rec = json_pack("{s:s,s:s,s:s}", "event", event, "app",
		    a->name, "uri", a->uri != NULL ? a->uri : "");
		if (a->remote.tls) {
			if (a->remote.ca_file != NULL)
				json_object_set_new(rec, "ca_file",
				    json_string(a->remote.ca_file));
			json_object_set_new(rec, "insecure_skip_verify",
			    json_boolean(a->remote.insecure));
		}
		names = json_array();
		for (i = 0; i < a->remote.headers.n; i++)
			if (header_check(a->remote.headers.v[i], name,
			    sizeof(name), NULL, 0) == 0)
				json_array_append_new(names,
				    json_string(name));
		admin_record_value(rec, "headers", names);
		return (rec);
	}
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s}", "event", event, "app",
	    a->name, "uri", a->uri != NULL ? a->uri : RES_APP_URI_STDIO,
	    "command", a->command != NULL ? a->command : "",
	    "run_as_host_user", a->run_as);
	admin_record_value(rec, "args", strlist_json(&a->args));
	env = json_array();
	for (i = 0; i < a->nenv; i++)
		json_array_append_new(env, json_string(a->env[i].key));
	admin_record_value(rec, "env", env);
	return (rec);
}

static void
admin_create(uint32_t ctl, uid_t uid, json_t *req)
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
		name = resource_name(res);
		exists = store_find(&parent->store, res->kind, name) != NULL;
		if (res->kind == RES_APP &&
		    app_config(&parent->conf, name) != NULL) {
			json_array_append_new(errors, json_sprintf(
			    "%s:%zu: app '%s' is in the configuration file "
			    "(app_service.apps): change it there", source,
			    res->line, name));
			continue;
		}
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

	op = admin_op_new(ctl, OP_CREATE);
	op->force = force;
	created = json_array();
	for (k = 0; k < rs.n; k++) {
		res = &rs.v[k];
		if (res->kind == RES_ROLE) {
			exists = store_find(&parent->store, RES_ROLE,
			    res->u.role.name) != NULL;
			json_array_append_new(created, json_sprintf("role/%s",
			    res->u.role.name));
			admin_op_audit(op, uid, json_pack("{s:s,s:s}", "event",
			    exists ? "role.update" : "role.create", "role",
			    res->u.role.name));
		} else if (res->kind == RES_APP) {
			exists = store_find(&parent->store, RES_APP,
			    res->u.app.name) != NULL;
			json_array_append_new(created, json_sprintf("app/%s",
			    res->u.app.name));
			admin_op_audit(op, uid, app_record(exists ?
			    "app.update" : "app.create", &res->u.app));
		} else {
			/* Status and credentials stay the gateway's. */
			old = store_find(&parent->store, RES_USER,
			    res->u.user.name);
			if (old == NULL) {
				res->u.user.created = time(NULL);
				store_new_generation(res->u.user.generation);
			}
			json_array_append_new(created, json_sprintf("user/%s",
			    res->u.user.name));
			rec = json_pack("{s:s,s:s}", "event", old != NULL ?
			    "user.update" : "user.create", "user",
			    res->u.user.name);
			admin_record_value(rec, "roles",
			    strlist_json(&res->u.user.roles));
			admin_record_value(rec, "traits", traits_json(&res->u.user));
			admin_op_audit(op, uid, rec);
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
		if (name != NULL && strcmp(name, resource_name(r)) != 0)
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

/*
 * "roles", "users", "apps", "role/NAME", "user/NAME", "app/NAME": the
 * kind and the name.
 */
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
	else if ((n == 3 && strncmp(what, "app", 3) == 0) ||
	    (n == 4 && strncmp(what, "apps", 4) == 0))
		*kind = RES_APP;
	else if (tokens && ((n == 5 && strncmp(what, "token", 5) == 0) ||
	    (n == 6 && strncmp(what, "tokens", 6) == 0)))
		*kind = RES_TOKEN;
	else
		return (-1);
	return (*name != NULL && !resource_name_ok(*name) ? -1 : 0);
}

static void
admin_get(uint32_t ctl, json_t *req)
{
	enum res_kind	 kind;
	const char	*what, *name, *err = NULL;
	json_t		*docs;

	what = json_string_value(json_object_get(req, "what"));
	if (what == NULL || parse_what(what, &kind, &name, 0) == -1) {
		control_reply(ctl, control_error("bad_request", "get takes "
		    "roles, users, apps, role/NAME, user/NAME or app/NAME"));
		return;
	}
	if (kind == RES_APP && name != NULL &&
	    store_find(&parent->store, RES_APP, name) == NULL &&
	    app_config(&parent->conf, name) != NULL) {
		control_reply(ctl, control_error("not_found", "app '%s' is in "
		    "the configuration file (app_service.apps), not created "
		    "with mcpgatectl", name));
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

void
admin_rm(uint32_t ctl, uid_t uid, json_t *req)
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
		    "role/NAME, user/NAME, app/NAME or token/ID"));
		return;
	}
	if (kind == RES_APP && store_find(&parent->store, kind, name) ==
	    NULL && app_config(&parent->conf, name) != NULL) {
		control_reply(ctl, control_error("not_found", "app '%s' is in "
		    "the configuration file (app_service.apps): remove it "
		    "there and reload", name));
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
	op = admin_op_new(ctl, OP_DELETE);
	op->target_kind = kind;
	strlcpy(op->target, name, sizeof(op->target));
	op->answer = json_pack("{s:b,s:s}", "ok", 1, "message",
	    "removed");
	admin_op_audit(op, uid, json_pack("{s:s,s:s}", "event", kind ==
	    RES_ROLE ? "role.delete" : kind == RES_USER ? "user.delete" :
	    kind == RES_APP ? "app.delete" : "token.delete",
	    resource_kind_name(kind), name));
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
		admin_users_add(ctl, uid, req);
	else if (strcmp(cmd, "users.ls") == 0)
		admin_users_ls(ctl);
	else if (strcmp(cmd, "users.get") == 0)
		admin_users_get(ctl, req);
	else if (strcmp(cmd, "users.update") == 0)
		admin_users_update(ctl, uid, req);
	else if (strcmp(cmd, "users.lock") == 0)
		admin_users_status(ctl, uid, req, "lock");
	else if (strcmp(cmd, "users.unlock") == 0)
		admin_users_status(ctl, uid, req, "unlock");
	else if (strcmp(cmd, "users.reset") == 0)
		admin_users_status(ctl, uid, req, "reset");
	else if (strcmp(cmd, "users.rm") == 0)
		admin_users_rm(ctl, uid, req);
	else if (strcmp(cmd, "create") == 0)
		admin_create(ctl, uid, req);
	else if (strcmp(cmd, "get") == 0)
		admin_get(ctl, req);
	else if (strcmp(cmd, "rm") == 0)
		admin_rm(ctl, uid, req);
	else if (strcmp(cmd, "tokens.add") == 0)
		admin_tokens_add(ctl, uid, req);
	else if (strcmp(cmd, "tokens.ls") == 0)
		admin_tokens_ls(ctl);
	else if (strcmp(cmd, "tokens.rm") == 0)
		admin_tokens_rm(ctl, uid, req);
	else
		return (-1);
	return (0);
}

/* --- mcpgatectl jwks, mcpgatectl jwt rotate ------------------------ */

struct jwt_op {
	uint32_t	 ctl;
	EVP_PKEY	*key;
	char		 kid[JWT_KID_LEN + 1];
	char		 old[JWT_KID_LEN + 1];
	json_t		*rec;
};

static void
jwt_rotated(void *arg, const struct audit_ack *ack)
{
	struct jwt_op	*op = arg;
	json_t		*rec;

	if (ack->status != AUDIT_ACK_OK &&
	    parent->conf.audit_on_failure == AUDIT_FAIL_DENY) {
		control_reply(op->ctl, control_error("audit_unavailable",
		    "the audit log cannot be written (%s); the key was not "
		    "rotated", strerror(ack->error)));
		goto out;
	}
	if (jwt_rotate(&parent->jwt, parent->conf.state_dir, op->key) == -1) {
		rec = json_deep_copy(op->rec);
		json_object_set_new(rec, "success", json_false());
		json_object_set_new(rec, "error", json_string("cannot write "
		    "the state directory"));
		parent_audit(rec, NULL, NULL);
		control_reply(op->ctl, control_error("state", "cannot write "
		    "the new key to %s; the key was not rotated",
		    parent->conf.state_dir));
		goto out;
	}
	op->key = NULL;
	log_info("JWT signing key rotated: %s, previously %s", op->kid,
	    op->old);
	control_reply(op->ctl, json_pack("{s:b,s:s,s:s}", "ok", 1, "kid",
	    op->kid, "previous_kid", op->old));
 out:
	EVP_PKEY_free(op->key);
	json_decref(op->rec);
	free(op);
}

/*
 * "jwks" and "jwt.rotate" from mcpgatectl.  Returns -1 when cmd is
 * neither.
 */
int
jwt_control(uint32_t ctl, uid_t uid, const char *cmd)
{
	struct jwt_op	*op;
	json_t		*jwks;

	if (strcmp(cmd, "jwks") == 0) {
		if ((jwks = jwt_jwks(&parent->jwt)) == NULL)
			control_reply(ctl, control_error("internal", "cannot "
			    "write the JWKS document"));
		else
			control_reply(ctl, json_pack("{s:b,s:o}", "ok", 1,
			    "jwks", jwks));
		return (0);
	}
	if (strcmp(cmd, "jwt.rotate") != 0)
		return (-1);
	if ((op = calloc(1, sizeof(*op))) == NULL)
		fatal("%s", __func__);
	op->ctl = ctl;
	strlcpy(op->old, parent->jwt.kid, sizeof(op->old));
	if ((op->key = jwt_newkey(op->kid, sizeof(op->kid))) == NULL) {
		control_reply(ctl, control_error("internal", "cannot make a "
		    "new key"));
		free(op);
		return (0);
	}
	op->rec = json_pack("{s:s,s:s,s:s,s:I}", "event", "jwt.rotate",
	    "kid", op->kid, "previous_kid", op->old, "admin_uid",
	    (json_int_t)uid);
	if (op->rec == NULL)
		fatal("%s", __func__);
	parent_audit(json_incref(op->rec), jwt_rotated, op);
	return (0);
}
