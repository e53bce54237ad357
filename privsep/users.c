/*
 * mcpgatectl users: add (with an invite), ls, get, update, lock, unlock,
 * reset and rm.  Each change goes through the audit-then-apply engine of
 * admin.c; a user's status and credentials are the gateway's, never
 * taken from the command.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "pattern.h"
#include "privsep.h"
#include "admin.h"

#define INVITE_TTL_DEFAULT	(3600 * 1000ULL)
#define INVITE_TTL_MAX		(7 * 86400 * 1000ULL)


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
		if (!json_is_string(v) || !pattern_ok(
		    json_string_value(v), err, sizeof(err)))
			return (-1);
		if (!strlist_has(l, json_string_value(v)) &&
		    strlist_add(l, json_string_value(v)) == -1)
			return (-1);
	}
	return (0);
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

/*
 * The answer to users add and reset.  The login command does not hold
 * the invite: on the user's machine any local user could read it there
 * (ps, /proc/PID/cmdline); mcpgate login asks for it instead.
 */
static json_t *
invite_answer(const struct user *u, const char *invite)
{
	char	 addr[CONF_ADDRLEN], exp[TIME_RFC3339_LEN], cmd[1024];

	admin_fmt_secs(u->invite_expires, exp, sizeof(exp));
	snprintf(cmd, sizeof(cmd), "mcpgate login --proxy %s --user %s "
	    "--invite --ca-fingerprint %s", admin_proxy_addr(addr,
	    sizeof(addr)), u->name, parent->ca.fingerprint);
	return (json_pack("{s:b,s:s,s:s,s:s,s:s,s:s}", "ok", 1,
	    "user", u->name, "invite", invite, "expires", exp,
	    "login_command", cmd, "ca_fingerprint", parent->ca.fingerprint));
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

void
admin_users_add(uint32_t ctl, uid_t uid, json_t *req)
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
	if ((missing = admin_role_missing(&u->roles)) != NULL) {
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
	if (admin_ttl(req, "invite_ttl", INVITE_TTL_DEFAULT, INVITE_TTL_MAX,
	    &ttl) == -1) {
		control_reply(ctl, control_error("bad_request", "--invite-ttl "
		    "must be between 1m and 7d"));
		goto fail;
	}
	u->created = time(NULL);
	store_new_generation(u->generation);
	u->invite_expires = u->created + (int64_t)(ttl / 1000);
	admin_new_secret(invite, sizeof(invite), u->invite);

	op = admin_op_new(ctl, OP_ADD);
	op->answer = invite_answer(u, invite);
	explicit_bzero(invite, sizeof(invite));
	admin_fmt_secs(u->invite_expires, exp, sizeof(exp));
	rec = json_pack("{s:s,s:s,s:s}", "event", "user.create", "user",
	    u->name, "invite_expires", exp);
	admin_record_value(rec, "roles", strlist_json(&u->roles));
	admin_record_value(rec, "traits", traits_json(u));
	admin_op_audit(op, uid, rec);
	admin_op_put(op, &res);
	return;
 fail:
	strlist_free(&tools);
	resource_clear(&res);
}

void
admin_users_ls(uint32_t ctl)
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
		admin_fmt_secs(u->created, ts, sizeof(ts));
		o = json_pack("{s:s,s:o,s:o,s:s,s:s}", "name", u->name,
		    "roles", strlist_json(&u->roles), "traits",
		    traits_json(u), "state", user_state(u, now), "created",
		    ts);
		if (u->invite[0] != '\0') {
			admin_fmt_secs(u->invite_expires, ts, sizeof(ts));
			json_object_set_new(o, "invite_expires",
			    json_string(ts));
		}
		/* Locked by failed logins from many prefixes. */
		if (throttle_locked(u->name, mono, &left, &failures,
		    &prefixes)) {
			if (!u->locked)
				json_object_set_new(o, "state",
				    json_string("login-locked"));
			admin_fmt_secs(now + (left + 999) / 1000, ts, sizeof(ts));
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

void
admin_users_get(uint32_t ctl, json_t *req)
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

void
admin_users_update(uint32_t ctl, uid_t uid, json_t *req)
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
	op = admin_op_new(ctl, OP_MUTATE);
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
	if ((missing = admin_role_missing(&op->roles)) != NULL) {
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
	admin_record_value(rec, "roles", strlist_json(&res.u.user.roles));
	admin_record_value(rec, "traits", traits_json(&res.u.user));
	admin_op_audit(op, uid, rec);
	resource_clear(&res);
	return;
 fail:
	admin_op_free(op);
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

void
admin_users_status(uint32_t ctl, uid_t uid, json_t *req,
    const char *what)
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
	op = admin_op_new(ctl, OP_MUTATE);
	op->target_kind = RES_USER;
	strlcpy(op->target, r->u.user.name, sizeof(op->target));
	if (strcmp(what, "lock") == 0 || strcmp(what, "unlock") == 0) {
		op->lock = strcmp(what, "lock") == 0;
		op->end_login_lock = !op->lock;
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
		if (admin_ttl(req, "invite_ttl", INVITE_TTL_DEFAULT,
		    INVITE_TTL_MAX, &ttl) == -1) {
			control_reply(ctl, control_error("bad_request",
			    "--invite-ttl must be between 1m and 7d"));
			admin_op_free(op);
			return;
		}
		event = "user.reset";
		op->mutate = mutate_reset;
		store_new_generation(op->generation);
		op->invite_expires = time(NULL) + (int64_t)(ttl / 1000);
		admin_new_secret(invite, sizeof(invite), op->invite);
		memset(&shown, 0, sizeof(shown));
		strlcpy(shown.name, r->u.user.name, sizeof(shown.name));
		shown.invite_expires = op->invite_expires;
		op->answer = invite_answer(&shown, invite);
		explicit_bzero(invite, sizeof(invite));
	}
	rec = json_pack("{s:s,s:s}", "event", event, "user", r->u.user.name);
	if (login_locked)
		json_object_set_new(rec, "login_lock", json_true());
	admin_op_audit(op, uid, rec);
}

void
admin_users_rm(uint32_t ctl, uid_t uid, json_t *req)
{
	struct admin_op	*op;
	struct resource	*r;

	if ((r = find_user(ctl, req)) == NULL)
		return;
	op = admin_op_new(ctl, OP_DELETE);
	op->target_kind = RES_USER;
	strlcpy(op->target, r->u.user.name, sizeof(op->target));
	op->answer = json_pack("{s:b,s:s,s:s}", "ok", 1, "user",
	    r->u.user.name, "message", "removed: its certificates are "
	    "refused and its connections end");
	admin_op_audit(op, uid, json_pack("{s:s,s:s}", "event", "user.delete",
	    "user", r->u.user.name));
}
