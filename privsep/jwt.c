/*
 * The keys that sign the JWTs the gateway hands to HTTP MCP servers as
 * the user's identity ({{internal.jwt}}), in the parent only: an Ed25519
 * key in the state directory, created on first start, and the public
 * half of the one before the last rotation, so that tokens signed just
 * before a rotation still verify.  Servers verify against the JWKS
 * document (RFC 7517) that `mcpgatectl jwks` prints; each key's kid is
 * its RFC 7638 thumbprint.  Tokens are JWS compact serialisations (RFC
 * 7515) with "alg":"EdDSA" (RFC 8037).
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "log.h"
#include "privsep.h"

#define JWT_KEY_FILE	"jwt.key"
#define JWT_PREV_FILE	"jwt-previous.pub"

/*
 * Base64url without padding (RFC 7515, section 2) of len bytes: OpenSSL's
 * base64 with its two last letters swapped and its padding cut.  Returns
 * the length, or -1 when out (outlen bytes) cannot hold it.
 */
int
b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	char	*tmp, *p;
	size_t	 n;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3 || len > INT_MAX / 2 ||
	    outlen < len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0) + 1)
		return (-1);
	if ((tmp = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		return (-1);
	n = (size_t)EVP_EncodeBlock((unsigned char *)tmp, in, (int)len);
	while (n > 0 && tmp[n - 1] == '=')
		n--;
	for (p = tmp; p < tmp + n; p++)
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	memcpy(out, tmp, n);
	out[n] = '\0';
	free(tmp);
	return ((int)n);
}

/* A key's x (its raw public key) and kid, the RFC 7638 thumbprint. */
static int
jwt_key_ids(EVP_PKEY *key, char *x, size_t xlen, char *kid, size_t kidlen)
{
	unsigned char	 pub[32], md[SHA256_DIGEST_LENGTH];
	char		 canon[128];
	size_t		 publen = sizeof(pub);
	int		 n;

	if (EVP_PKEY_get_raw_public_key(key, pub, &publen) != 1 ||
	    publen != sizeof(pub) ||
	    b64url_encode(pub, publen, x, xlen) == -1)
		return (-1);
	/* The required members, in lexicographic order, no whitespace. */
	n = snprintf(canon, sizeof(canon),
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	if (n < 0 || (size_t)n >= sizeof(canon))
		return (-1);
	SHA256((const unsigned char *)canon, (size_t)n, md);
	return (b64url_encode(md, sizeof(md), kid, kidlen) == -1 ? -1 : 0);
}

static int
jwt_path(char *buf, size_t len, const char *dir, const char *file)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, file) >= len) {
		log_warnx("%s/%s: path too long", dir, file);
		return (-1);
	}
	return (0);
}

static int
jwt_set(struct jwt_keys *jk, EVP_PKEY *cur, EVP_PKEY *prev)
{
	char	 x[64];

	if (jwt_key_ids(cur, x, sizeof(x), jk->kid, sizeof(jk->kid)) == -1 ||
	    (prev != NULL && jwt_key_ids(prev, x, sizeof(x), jk->prevkid,
	    sizeof(jk->prevkid)) == -1)) {
		log_warnx("JWT key: cannot read its public half");
		return (-1);
	}
	EVP_PKEY_free(jk->cur);
	EVP_PKEY_free(jk->prev);
	jk->cur = cur;
	jk->prev = prev;
	if (prev == NULL)
		jk->prevkid[0] = '\0';
	return (0);
}

/*
 * Load the signing key from dir, or create it on first start; and the
 * previous public key when there is one.
 */
int
jwt_init(struct jwt_keys *jk, const char *dir)
{
	char		 keypath[PATH_MAX], prevpath[PATH_MAX];
	EVP_PKEY	*cur, *prev = NULL;

	memset(jk, 0, sizeof(*jk));
	if (jwt_path(keypath, sizeof(keypath), dir, JWT_KEY_FILE) == -1 ||
	    jwt_path(prevpath, sizeof(prevpath), dir, JWT_PREV_FILE) == -1)
		return (-1);
	if (access(keypath, F_OK) == 0) {
		if ((cur = key_load(keypath)) == NULL)
			return (-1);
	} else {
		if ((cur = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
			log_warnx("JWT key: cannot make one");
			return (-1);
		}
		if (key_save(cur, keypath) == -1) {
			EVP_PKEY_free(cur);
			return (-1);
		}
		log_info("created the JWT signing key in %s", dir);
	}
	if (access(prevpath, F_OK) == 0 &&
	    (prev = pubkey_load(prevpath)) == NULL) {
		EVP_PKEY_free(cur);
		return (-1);
	}
	if (jwt_set(jk, cur, prev) == -1) {
		EVP_PKEY_free(cur);
		EVP_PKEY_free(prev);
		return (-1);
	}
	return (0);
}

/*
 * Make cur the signing key; the current one's public half becomes the
 * previous (written first, so that a crash between the two writes loses
 * no key a token was signed with).  On success cur is the keys'.
 */
int
jwt_rotate(struct jwt_keys *jk, const char *dir, EVP_PKEY *cur)
{
	char		 keypath[PATH_MAX], prevpath[PATH_MAX];
	EVP_PKEY	*prev;

	if (jwt_path(keypath, sizeof(keypath), dir, JWT_KEY_FILE) == -1 ||
	    jwt_path(prevpath, sizeof(prevpath), dir, JWT_PREV_FILE) == -1)
		return (-1);
	if (pubkey_save(jk->cur, prevpath) == -1 ||
	    key_save(cur, keypath) == -1 ||
	    (prev = pubkey_load(prevpath)) == NULL)
		return (-1);
	if (jwt_set(jk, cur, prev) == -1) {
		EVP_PKEY_free(prev);
		return (-1);
	}
	return (0);
}

/* A new key and its kid, for jwt_rotate(). */
EVP_PKEY *
jwt_newkey(char *kid, size_t kidlen)
{
	EVP_PKEY	*key;
	char		 x[64];

	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    jwt_key_ids(key, x, sizeof(x), kid, kidlen) == -1) {
		EVP_PKEY_free(key);
		log_warnx("JWT key: cannot make one");
		return (NULL);
	}
	return (key);
}

static json_t *
jwk(EVP_PKEY *key)
{
	char	 x[64], kid[64];

	if (jwt_key_ids(key, x, sizeof(x), kid, sizeof(kid)) == -1)
		return (NULL);
	return (json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "OKP", "crv",
	    "Ed25519", "x", x, "kid", kid, "alg", "EdDSA", "use", "sig"));
}

/* The JWKS document: the current key first, then the previous one. */
json_t *
jwt_jwks(const struct jwt_keys *jk)
{
	json_t	*keys, *k;

	if ((keys = json_array()) == NULL)
		return (NULL);
	if ((k = jwk(jk->cur)) == NULL || json_array_append_new(keys, k)) {
		json_decref(keys);
		return (NULL);
	}
	if (jk->prev != NULL && ((k = jwk(jk->prev)) == NULL ||
	    json_array_append_new(keys, k))) {
		json_decref(keys);
		return (NULL);
	}
	return (json_pack("{s:o}", "keys", keys));
}

/*
 * The claims of a session's token: iss the gateway's name, sub user u,
 * aud app a's URL, iat and nbf now (seconds), exp the end of the
 * session's certificate (not_after) but at most ttl seconds from now
 * (proxy_service.cert_ttl, the longest a certificate lives), jti the
 * caller's random id; then, as the app's rewrite.jwt_claims says, the
 * user's "roles" (an array) and "traits" (an object of arrays).  The
 * token's end in *expp.  NULL, with why in err, when the certificate has
 * ended: a token never starts expired.
 */
json_t *
jwt_claims(const char *iss, const struct user *u, const struct app_res *a,
    int64_t now, int64_t not_after, int64_t ttl, const char *jti,
    int64_t *expp, char *err, size_t errlen)
{
	json_t	*c;
	int64_t	 exp;
	int	 mode = a->remote.jwt_claims;

	if (not_after <= now) {
		snprintf(err, errlen, "the session's certificate has "
		    "expired: log in again");
		return (NULL);
	}
	exp = not_after;
	if (ttl > 0 && now + ttl < exp)
		exp = now + ttl;
	c = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "iss", iss, "sub",
	    u->name, "aud", a->remote.url != NULL ? a->remote.url : "",
	    "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
	    (json_int_t)exp, "jti", jti);
	if (c == NULL)
		goto fail;
	if ((mode == APP_JWT_ROLES_TRAITS || mode == APP_JWT_ROLES) &&
	    json_object_set_new(c, "roles", strlist_json(&u->roles)) == -1)
		goto fail;
	if ((mode == APP_JWT_ROLES_TRAITS || mode == APP_JWT_TRAITS) &&
	    json_object_set_new(c, "traits", traits_json(u)) == -1)
		goto fail;
	*expp = exp;
	return (c);
 fail:
	json_decref(c);
	snprintf(err, errlen, "cannot build the session's token");
	return (NULL);
}

/*
 * A signed token of the claims: header.payload.signature, each part
 * base64url; NULL on failure.  The caller frees it.
 */
char *
jwt_sign(const struct jwt_keys *jk, const json_t *claims)
{
	EVP_MD_CTX	*ctx = NULL;
	json_t		*hdr;
	char		*h = NULL, *c = NULL, *tok = NULL;
	unsigned char	 sig[64];
	size_t		 hlen, clen, siglen = sizeof(sig), cap, off;

	hdr = json_pack("{s:s,s:s,s:s}", "alg", "EdDSA", "typ", "JWT", "kid",
	    jk->kid);
	if (hdr == NULL ||
	    (h = json_dumps(hdr, JSON_COMPACT)) == NULL ||
	    (c = json_dumps(claims, JSON_COMPACT)) == NULL)
		goto out;
	hlen = strlen(h);
	clen = strlen(c);
	if (clen > JWT_CLAIMS_MAX) {
		log_warnx("JWT claims of %zu bytes: more than %d", clen,
		    JWT_CLAIMS_MAX);
		goto out;
	}
	cap = (hlen + 2) / 3 * 4 + (clen + 2) / 3 * 4 + 88 + 3;
	if ((tok = malloc(cap)) == NULL)
		goto out;
	off = (size_t)b64url_encode((unsigned char *)h, hlen, tok, cap);
	tok[off++] = '.';
	off += (size_t)b64url_encode((unsigned char *)c, clen, tok + off,
	    cap - off);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, jk->cur) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)tok,
	    off) != 1 || siglen != sizeof(sig)) {
		log_warnx("JWT: cannot sign");
		free(tok);
		tok = NULL;
		goto out;
	}
	tok[off++] = '.';
	b64url_encode(sig, siglen, tok + off, cap - off);
 out:
	EVP_MD_CTX_free(ctx);
	json_decref(hdr);
	free(h);
	free(c);
	return (tok);
}

void
jwt_free(struct jwt_keys *jk)
{
	EVP_PKEY_free(jk->cur);
	EVP_PKEY_free(jk->prev);
	memset(jk, 0, sizeof(*jk));
}
