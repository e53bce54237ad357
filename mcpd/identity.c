/*
 * Who a connection is: the users and roles of the parent's latest
 * snapshot (never a secret), against the certificate netd verified.  A
 * certificate is refused when its user is gone or locked, or when it was
 * issued before the user's password was reset; a new snapshot ends the
 * connections it now refuses.
 */
#include <sys/types.h>
#include <sys/tree.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "mcpd.h"

static int
user_cmp(const void *a, const void *b)
{
	return (strcmp((*(const struct user *const *)a)->name,
	    (*(const struct user *const *)b)->name));
}

/* The user of that name in the snapshot, or NULL. */
const struct user *
identity_user(const char *name)
{
	struct user	 key, *kp = &key, **u;

	if (strlcpy(key.name, name, sizeof(key.name)) >= sizeof(key.name))
		return (NULL);
	u = bsearch(&kp, mcpd->users, mcpd->nusers, sizeof(*mcpd->users),
	    user_cmp);
	return (u != NULL ? *u : NULL);
}

/*
 * The bytes of a user's traits, for answers that show them: more than
 * mcpgatectl create takes (a user from before its bounds) are too many
 * to put in a client's answer.
 */
size_t
identity_traits_size(const struct user *u)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < u->ntraits; i++) {
		n += strlen(u->traits[i].key);
		for (j = 0; j < u->traits[i].values.n; j++)
			n += strlen(u->traits[i].values.v[j]);
	}
	return (n);
}

/*
 * The user's traits as an answer shows them: all of them, or, past the
 * bounds of mcpgatectl create, none and a member that says how large
 * they are.
 */
void
identity_traits_set(json_t *obj, const struct user *u)
{
	size_t	 n = identity_traits_size(u);

	if (n <= RES_ADMIN_USER_BYTES) {
		json_object_set_new(obj, "traits", traits_json(u));
		return;
	}
	json_object_set_new(obj, "traits", json_object());
	json_object_set_new(obj, "traits_omitted_bytes",
	    json_integer((json_int_t)n));
}

/*
 * The certificate's serial begins with the generation of the user it was
 * issued to (hex, leading zeros dropped by OpenSSL).
 */
static int
generation_matches(const char *serial, const char *gen)
{
	char	 full[2 * RES_GENLEN + 1];
	size_t	 n = strlen(serial);

	if (n > 2 * RES_GENLEN || strlen(gen) != RES_GENLEN)
		return (0);
	memset(full, '0', sizeof(full));
	memcpy(full + 2 * RES_GENLEN - n, serial, n);
	return (strncasecmp(full, gen, RES_GENLEN) == 0);
}

/*
 * May this connection act as the user its certificate names?  Returns
 * the user, or NULL with an error code and a sentence for the client.
 */
const struct user *
identity_check(const struct conn_open *co, const char **code, char *msg,
    size_t len)
{
	const struct user	*u;

	if (!co->has_cert) {
		*code = WIRE_ERR_CERT_REQUIRED;
		snprintf(msg, len, "this needs a client certificate: run "
		    "'mcpgate login'");
		return (NULL);
	}
	if ((u = identity_user(co->cert_cn)) == NULL) {
		*code = WIRE_ERR_UNKNOWN_USER;
		snprintf(msg, len, "user %s no longer exists on this gateway",
		    co->cert_cn);
		return (NULL);
	}
	if (u->locked) {
		*code = WIRE_ERR_LOCKED;
		snprintf(msg, len, "user %s is locked; ask an administrator",
		    u->name);
		return (NULL);
	}
	if (!generation_matches(co->cert_serial, u->generation)) {
		*code = WIRE_ERR_REVOKED;
		snprintf(msg, len, "this certificate was issued before %s was "
		    "reset or created anew: run 'mcpgate login'", u->name);
		return (NULL);
	}
	if (time(NULL) >= co->cert_not_after) {
		*code = WIRE_ERR_EXPIRED;
		snprintf(msg, len, "this certificate has expired: run "
		    "'mcpgate login'");
		return (NULL);
	}
	return (u);
}

/*
 * A part of a new snapshot from the parent: whole documents, kept aside
 * until the end of the snapshot comes.
 */
void
identity_snapshot(const void *data, size_t len)
{
	struct resources	 rs, *p = &mcpd->pending;
	struct conf_errors	 errs;
	struct resource		*nv;

	if (resource_parse("snapshot", data, len, RES_SNAPSHOT, &rs,
	    &errs) == -1)
		fatalx("the parent's snapshot does not parse: %s",
		    errs.msg[0]);
	if (p->n == 0) {
		resources_free(p);
		*p = rs;
		return;
	}
	if ((nv = reallocarray(p->v, p->n + rs.n, sizeof(*nv))) == NULL)
		fatal("%s", __func__);
	p->v = nv;
	memcpy(p->v + p->n, rs.v, rs.n * sizeof(*rs.v));
	p->n += rs.n;
	p->cap = p->n;
	free(rs.v);
}

/*
 * The end of a snapshot: take it, index its users by name, and apply it
 * to every connection.
 */
void
identity_snapshot_end(void)
{
	const struct user	**users;
	size_t			  i, n = 0;

	if ((users = calloc(mcpd->pending.n > 0 ? mcpd->pending.n : 1,
	    sizeof(*users))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < mcpd->pending.n; i++)
		if (mcpd->pending.v[i].kind == RES_USER)
			users[n++] = &mcpd->pending.v[i].u.user;
	/* heapsort: glibc's qsort asks sysinfo(2) for large arrays. */
	if (heapsort(users, n, sizeof(*users), user_cmp) == -1)
		fatal("%s", __func__);
	for (i = 1; i < n; i++)
		if (strcmp(users[i - 1]->name, users[i]->name) == 0)
			fatalx("the parent's snapshot has user %s twice",
			    users[i]->name);
	resources_free(&mcpd->identity);
	free(mcpd->users);
	mcpd->identity = mcpd->pending;
	memset(&mcpd->pending, 0, sizeof(mcpd->pending));
	mcpd->users = users;
	mcpd->nusers = n;
	policy_compile(&mcpd->identity);
	apps_snapshot_take(&mcpd->identity);
	log_debug("snapshot: %zu roles, users and apps", mcpd->identity.n);
	mconn_recheck();
}
