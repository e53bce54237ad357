/*
 * mcpgatectl tokens: join tokens for the MCP servers that will join the
 * gateway.  Only the SHA-256 of a token is kept; the token itself is
 * shown once, in the answer to tokens add.
 */
#include <sys/types.h>

#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "log.h"
#include "privsep.h"
#include "admin.h"

#define TOKEN_TTL_DEFAULT	(30 * 60 * 1000ULL)
#define TOKEN_TTL_MAX		(7 * 86400 * 1000ULL)

void
admin_tokens_add(uint32_t ctl, uid_t uid, json_t *req)
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
	if (admin_ttl(req, "ttl", TOKEN_TTL_DEFAULT, TOKEN_TTL_MAX, &ttl) == -1) {
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
	admin_new_secret(secret, sizeof(secret), t->hash);
	admin_fmt_secs(t->expires, exp, sizeof(exp));
	op = admin_op_new(ctl, OP_ADD);
	op->answer = json_pack("{s:b,s:s,s:s,s:s,s:s}", "ok", 1, "token",
	    secret, "id", t->name, "type", t->type, "expires", exp);
	explicit_bzero(secret, sizeof(secret));
	admin_op_audit(op, uid, json_pack("{s:s,s:s,s:s,s:s}", "event",
	    "token.create", "token", t->name, "type", t->type, "expires",
	    exp));
	admin_op_put(op, &res);
}

void
admin_tokens_ls(uint32_t ctl)
{
	struct resources	*l = &parent->store.res[RES_TOKEN];
	struct token		*t;
	json_t			*tokens = json_array();
	char			 c[TIME_RFC3339_LEN], e[TIME_RFC3339_LEN];
	int64_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < l->n; i++) {
		t = &l->v[i].u.token;
		admin_fmt_secs(t->created, c, sizeof(c));
		admin_fmt_secs(t->expires, e, sizeof(e));
		json_array_append_new(tokens, json_pack("{s:s,s:s,s:s,s:s,"
		    "s:b}", "id", t->name, "type", t->type, "created", c,
		    "expires", e, "expired", now >= t->expires));
	}
	control_reply(ctl, json_pack("{s:b,s:o}", "ok", 1, "tokens",
	    tokens));
}

void
admin_tokens_rm(uint32_t ctl, uid_t uid, json_t *req)
{
	json_t		*r;
	const char	*id = json_string_value(json_object_get(req, "id"));

	if (id == NULL) {
		control_reply(ctl, control_error("bad_request", "which "
		    "token?"));
		return;
	}
	r = json_pack("{s:o}", "what", json_sprintf("token/%s", id));
	admin_rm(ctl, uid, r);
	json_decref(r);
}
