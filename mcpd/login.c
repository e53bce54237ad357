/*
 * The login and whoami requests.  mcpd checks the client's JSON and
 * hands the parent a fixed-size request; the parent, which holds the
 * password hashes and the CA key, answers with a certificate or a
 * refusal, which goes back to the client as one line.
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "log.h"
#include "mcpd.h"
#include "util.h"

#define LOGIN_TTL_MAX	(30 * 86400)	/* seconds */

static json_t *
user_json(const struct user *u, int64_t not_after)
{
	json_t	*ans;
	char	 exp[TIME_RFC3339_LEN];

	fmt_time_us(not_after * 1000000, exp, sizeof(exp));
	ans = json_pack("{s:b,s:s,s:o,s:s}", "ok", 1, "user", u->name,
	    "roles", strlist_json(&u->roles), "expires", exp);
	identity_traits_set(ans, u);
	return (ans);
}

/* A string member of at most max bytes, or NULL with an error answered. */
static const char *
member(struct mconn *c, json_t *obj, const char *key, size_t max)
{
	json_t	*v = json_object_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		mconn_error(c, WIRE_ERR_BAD_REQUEST, "login needs \"%s\" as a "
		    "string of 1 to %zu bytes", key, max);
		return (NULL);
	}
	return (json_string_value(v));
}

void
login_start(struct mconn *c, struct request *req)
{
	static const char *const known[] = { "op", "user", "password",
	    "invite", "new_password", "pubkey", "ttl", NULL };
	struct login_req	 lr;
	const char		*key, *user, *s;
	json_t			*v, *ttl;
	unsigned char		 pub[48];
	int			 i, n;

	memset(&lr, 0, sizeof(lr));
	json_object_foreach(req->obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL) {
			mconn_error(c, WIRE_ERR_BAD_REQUEST, "login does not "
			    "take \"%.32s\"", key);
			return;
		}
	}
	if ((user = member(c, req->obj, "user", RES_NAMELEN - 1)) == NULL)
		return;
	if (!resource_name_ok(user)) {
		mconn_error(c, WIRE_ERR_BAD_REQUEST, "\"%s\" is not a user "
		    "name", user);
		return;
	}
	strlcpy(lr.user, user, sizeof(lr.user));
	if (json_object_get(req->obj, "invite") != NULL) {
		if ((s = member(c, req->obj, "invite",
		    LOGIN_INVITE_LEN)) == NULL)
			goto out;
		strlcpy(lr.invite, s, sizeof(lr.invite));
		if ((s = member(c, req->obj, "new_password",
		    LOGIN_PASSWORD_MAX)) == NULL)
			goto out;
		strlcpy(lr.new_password, s, sizeof(lr.new_password));
		lr.with_invite = 1;
	} else {
		if ((s = member(c, req->obj, "password",
		    LOGIN_PASSWORD_MAX)) == NULL)
			goto out;
		strlcpy(lr.password, s, sizeof(lr.password));
	}
	if ((s = member(c, req->obj, "pubkey", 44)) == NULL)
		goto out;
	/* 32 bytes in base64: 44 characters, the last one padding. */
	n = EVP_DecodeBlock(pub, (const unsigned char *)s, (int)strlen(s));
	if (strlen(s) != 44 || s[43] != '=' || s[42] == '=' || n != 33) {
		mconn_error(c, WIRE_ERR_BAD_REQUEST, "\"pubkey\" must be an "
		    "Ed25519 public key: 32 bytes in base64");
		goto out;
	}
	memcpy(lr.pubkey, pub, sizeof(lr.pubkey));
	if ((ttl = json_object_get(req->obj, "ttl")) != NULL) {
		if (!json_is_integer(ttl) || json_integer_value(ttl) < 1 ||
		    json_integer_value(ttl) > LOGIN_TTL_MAX) {
			mconn_error(c, WIRE_ERR_BAD_REQUEST, "\"ttl\" is a "
			    "number of seconds from 1 to %d", LOGIN_TTL_MAX);
			goto out;
		}
		lr.ttl = (uint64_t)json_integer_value(ttl) * 1000;
	}
	strlcpy(lr.remote, c->peer.remote, sizeof(lr.remote));
	strlcpy(c->login_user, lr.user, sizeof(c->login_user));
	c->state = MCONN_LOGIN;
	child_chan_send(&child_parent, IMSG_LOGIN_REQ, c->id, -1, &lr,
	    sizeof(lr));
 out:
	explicit_bzero(&lr, sizeof(lr));
}

/* The parent's verdict on a login. */
void
login_result(uint32_t id, const void *data, size_t len)
{
	struct login_result	 res;
	const struct user	*u;
	struct mconn		*c;
	json_t			*ans;
	char			*pem;

	if (len < sizeof(res))
		fatalx("bad login result size %zu", len);
	memcpy(&res, data, sizeof(res));
	res.error[sizeof(res.error) - 1] = '\0';
	res.message[sizeof(res.message) - 1] = '\0';
	if ((c = mconn_find(id)) == NULL || c->state != MCONN_LOGIN)
		return;		/* the client left */
	if (!res.ok) {
		mcpd->stats.logins_failed[status_refusal(res.error)]++;
		mconn_error(c, res.error, "%s", res.message);
		return;
	}
	if ((pem = strndup((const char *)data + sizeof(res),
	    len - sizeof(res))) == NULL)
		fatal("%s", __func__);
	if ((u = identity_user(c->login_user)) == NULL) {
		free(pem);
		mcpd->stats.logins_failed[STATUS_REF_ACCESS_DENIED]++;
		mconn_error(c, WIRE_ERR_ACCESS_DENIED, "the user was removed");
		return;
	}
	mcpd->stats.logins_ok++;
	ans = user_json(u, res.not_after);
	json_object_set_new(ans, "certificate", json_string(pem));
	free(pem);
	log_info("%s: %s logged in", c->peer.remote, u->name);
	mconn_answer(c, ans);
}

void
whoami(struct mconn *c)
{
	const struct user	*u;
	const char		*code;
	json_t			*ans;
	char			 msg[256];

	if ((u = identity_check(&c->peer, &code, msg, sizeof(msg))) == NULL) {
		mconn_error(c, code, "%s", msg);
		return;
	}
	ans = user_json(u, c->peer.cert_not_after);
	json_object_set_new(ans, "serial", json_string(c->peer.cert_serial));
	mconn_answer(c, ans);
}
