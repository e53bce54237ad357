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

/* The user of that name in the snapshot, or NULL. */
const struct user *
identity_user(const char *name)
{
	struct resources	*rs = &mcpd->identity;
	size_t			 i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].kind == RES_USER &&
		    strcmp(rs->v[i].u.user.name, name) == 0)
			return (&rs->v[i].u.user);
	return (NULL);
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
		*code = "cert_required";
		snprintf(msg, len, "this needs a client certificate: run "
		    "'mcpgate login'");
		return (NULL);
	}
	if ((u = identity_user(co->cert_cn)) == NULL) {
		*code = "unknown_user";
		snprintf(msg, len, "user %s no longer exists on this gateway",
		    co->cert_cn);
		return (NULL);
	}
	if (u->locked) {
		*code = "locked";
		snprintf(msg, len, "user %s is locked; ask an administrator",
		    u->name);
		return (NULL);
	}
	if (!generation_matches(co->cert_serial, u->generation)) {
		*code = "revoked";
		snprintf(msg, len, "this certificate was issued before %s was "
		    "reset or created anew: run 'mcpgate login'", u->name);
		return (NULL);
	}
	if (time(NULL) >= co->cert_not_after) {
		*code = "expired";
		snprintf(msg, len, "this certificate has expired: run "
		    "'mcpgate login'");
		return (NULL);
	}
	return (u);
}

/* A new snapshot from the parent: take it, and apply it to every connection. */
void
identity_snapshot(const void *data, size_t len)
{
	struct resources	 rs;
	struct conf_errors	 errs;

	if (resource_parse("snapshot", data, len, RES_SNAPSHOT, &rs,
	    &errs) == -1)
		fatalx("the parent's snapshot does not parse: %s",
		    errs.msg[0]);
	resources_free(&mcpd->identity);
	mcpd->identity = rs;
	policy_compile(&mcpd->identity);
	log_debug("snapshot: %zu roles and users", rs.n);
	mconn_recheck();
}
