/*
 * Unit tests of privsep/jwt.c: base64url (RFC 4648 vectors, exact
 * bounds), tokens that verify with the key the JWKS publishes and stop
 * verifying when a byte changes, and rotation keeping the previous key.
 */
#include <sys/types.h>

#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "../../privsep/privsep.h"
#include "unit.h"

static void
test_b64url(void)
{
	static const struct {
		const char	*in, *out;
	} v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
		{ "\xfb\xff", "-_8" },		/* the url-safe alphabet */
	};
	char	 out[16];
	size_t	 i, need;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		need = strlen(v[i].out) + 1;
		T_ASSERTF(b64url_encode((const unsigned char *)v[i].in,
		    strlen(v[i].in), out, need) == (int)need - 1 &&
		    strcmp(out, v[i].out) == 0, "vector %zu: %s", i, out);
		T_ASSERTF(b64url_encode((const unsigned char *)v[i].in,
		    strlen(v[i].in), out, need - 1) == -1, "vector %zu "
		    "in %zu bytes", i, need - 1);
	}
}

/* Base64url back to bytes, for checking; -1 on a bad character. */
static int
unb64(const char *s, size_t len, unsigned char *out, size_t *outlen)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char		*p;
	unsigned int		 acc = 0, bits = 0;
	size_t			 i, o = 0;

	for (i = 0; i < len; i++) {
		if ((p = strchr(tab, s[i])) == NULL || s[i] == '\0')
			return (-1);
		acc = acc << 6 | (unsigned int)(p - tab);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (o == *outlen)
				return (-1);
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = o;
	return (0);
}

/* Whether tok verifies with the key of kid in jwks. */
static int
verifies(const char *tok, json_t *jwks, const char *kid)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY	*pub;
	json_t		*k;
	const char	*dot, *x = NULL;
	unsigned char	 raw[64], sig[128];
	size_t		 i, rawlen = sizeof(raw), siglen = sizeof(sig);
	int		 ok;

	json_array_foreach(json_object_get(jwks, "keys"), i, k)
		if (strcmp(json_string_value(json_object_get(k, "kid")),
		    kid) == 0)
			x = json_string_value(json_object_get(k, "x"));
	if (x == NULL || unb64(x, strlen(x), raw, &rawlen) == -1 ||
	    rawlen != 32 || (dot = strrchr(tok, '.')) == NULL ||
	    unb64(dot + 1, strlen(dot + 1), sig, &siglen) == -1)
		return (0);
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
	ctx = EVP_MD_CTX_new();
	ok = pub != NULL && ctx != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)tok,
	    (size_t)(dot - tok)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	return (ok);
}

/* Part n (0: header, 1: claims) of tok, decoded as JSON. */
static json_t *
part(const char *tok, int n)
{
	const char	*p = tok, *e;
	unsigned char	 buf[4096];
	size_t		 len = sizeof(buf);

	if (n == 1)
		p = strchr(tok, '.') + 1;
	if ((e = strchr(p, '.')) == NULL ||
	    unb64(p, (size_t)(e - p), buf, &len) == -1)
		return (NULL);
	return (json_loadb((char *)buf, len, 0, NULL));
}

static char *
tmpdir(void)
{
	static char	 dir[64];

	strlcpy(dir, "/tmp/mgjwt.XXXXXX", sizeof(dir));
	return (mkdtemp(dir));
}

static void
test_jwt_sign(void)
{
	struct jwt_keys	 jk;
	json_t		*claims, *jwks, *h, *c;
	char		*dir, *tok, *bad, kid1[JWT_KID_LEN + 1];
	EVP_PKEY	*key;

	T_ASSERT((dir = tmpdir()) != NULL);
	T_ASSERT(jwt_init(&jk, dir) == 0);
	claims = json_pack("{s:s,s:s,s:I,s:[s,s],s:{s:[s]}}", "sub", "alice",
	    "aud", "https://tickets.example/mcp", "exp", (json_int_t)2000000000,
	    "roles", "mcp-user", "dev", "traits", "team", "platform");
	tok = jwt_sign(&jk, claims);
	jwks = jwt_jwks(&jk);
	T_ASSERT(tok != NULL && jwks != NULL);
	T_ASSERT(verifies(tok, jwks, jk.kid));
	h = part(tok, 0);
	c = part(tok, 1);
	T_ASSERT(h != NULL && c != NULL);
	T_ASSERT(strcmp(json_string_value(json_object_get(h, "alg")),
	    "EdDSA") == 0 && strcmp(json_string_value(json_object_get(h,
	    "kid")), jk.kid) == 0 && strcmp(json_string_value(
	    json_object_get(h, "typ")), "JWT") == 0);
	T_ASSERT(json_equal(c, claims));
	json_decref(h);
	json_decref(c);
	/* Any byte changed, in the claims or the signature: no longer. */
	bad = strdup(tok);
	bad[strchr(bad, '.') - bad + 3] ^= 1;
	T_ASSERT(!verifies(bad, jwks, jk.kid));
	memcpy(bad, tok, strlen(tok) + 1);
	bad[strlen(bad) - 5] = bad[strlen(bad) - 5] == 'A' ? 'B' : 'A';
	T_ASSERT(!verifies(bad, jwks, jk.kid));
	free(bad);
	json_decref(jwks);

	/* Rotated: new tokens under the new kid, old ones still verify. */
	strlcpy(kid1, jk.kid, sizeof(kid1));
	T_ASSERT((key = jwt_newkey(jk.prevkid, sizeof(jk.prevkid))) != NULL);
	T_ASSERT(jwt_rotate(&jk, dir, key) == 0);
	T_ASSERT(strcmp(jk.prevkid, kid1) == 0 && strcmp(jk.kid, kid1) != 0);
	jwks = jwt_jwks(&jk);
	T_ASSERT(json_array_size(json_object_get(jwks, "keys")) == 2);
	T_ASSERT(verifies(tok, jwks, kid1));
	free(tok);
	tok = jwt_sign(&jk, claims);
	T_ASSERT(tok != NULL && verifies(tok, jwks, jk.kid) &&
	    !verifies(tok, jwks, kid1));
	free(tok);
	json_decref(jwks);
	jwt_free(&jk);

	/* Loaded again from the directory: the same two keys. */
	T_ASSERT(jwt_init(&jk, dir) == 0);
	T_ASSERT(jk.prev != NULL && strcmp(jk.prevkid, kid1) == 0);
	jwt_free(&jk);
	json_decref(claims);
	t_rmtree(dir);
}

/* Claims past the bound are not signed. */
static void
test_jwt_bound(void)
{
	struct jwt_keys	 jk;
	json_t		*claims;
	char		*dir, *big, *tok;

	T_ASSERT((dir = tmpdir()) != NULL);
	T_ASSERT(jwt_init(&jk, dir) == 0);
	big = malloc(JWT_CLAIMS_MAX);
	memset(big, 'a', JWT_CLAIMS_MAX - 1);
	big[JWT_CLAIMS_MAX - 1] = '\0';
	claims = json_pack("{s:s}", "sub", big);
	tok = jwt_sign(&jk, claims);
	T_ASSERT(tok == NULL);
	json_decref(claims);
	big[JWT_CLAIMS_MAX - 64] = '\0';
	claims = json_pack("{s:s}", "sub", big);
	tok = jwt_sign(&jk, claims);
	T_ASSERT(tok != NULL);
	free(tok);
	json_decref(claims);
	free(big);
	jwt_free(&jk);
	t_rmtree(dir);
}

/* A user with two roles and two traits, one of them of two values. */
static void
claims_user(struct user *u)
{
	static char	*roles[] = { "access", "tickets" };
	static char	*team[] = { "blue" }, *region[] = { "eu", "us" };
	static struct keyed_list traits[2];

	memset(u, 0, sizeof(*u));
	strlcpy(u->name, "alice", sizeof(u->name));
	u->roles.v = roles;
	u->roles.n = 2;
	traits[0].key = "team";
	traits[0].values.v = team;
	traits[0].values.n = 1;
	traits[1].key = "region";
	traits[1].values.v = region;
	traits[1].values.n = 2;
	u->traits = traits;
	u->ntraits = 2;
}

/*
 * The claims of a session's token: the names and times, exp the
 * certificate's end capped by the longest certificate lifetime, and
 * roles and traits as jwt_claims says.
 */
static void
test_jwt_claims(void)
{
	struct user	 u;
	struct app_res	 a;
	json_t		*c, *t;
	char		 err[256];
	int64_t		 now = 1700000000, exp = 0;

	claims_user(&u);
	memset(&a, 0, sizeof(a));
	a.transport = APP_HTTP;
	a.remote.url = "https://tickets.example:8443/mcp";
	a.remote.jwt_claims = APP_JWT_ROLES_TRAITS;

	/* The certificate ends first: exp is its end. */
	c = jwt_claims("gw.example", &u, &a, now, now + 600, 43200,
	    "00112233445566778899aabbccddeeff", &exp, err, sizeof(err));
	T_ASSERT(c != NULL);
	T_ASSERT(exp == now + 600);
	T_ASSERT(strcmp(json_string_value(json_object_get(c, "iss")),
	    "gw.example") == 0);
	T_ASSERT(strcmp(json_string_value(json_object_get(c, "sub")),
	    "alice") == 0);
	T_ASSERT(strcmp(json_string_value(json_object_get(c, "aud")),
	    "https://tickets.example:8443/mcp") == 0);
	T_ASSERT(json_integer_value(json_object_get(c, "iat")) == now);
	T_ASSERT(json_integer_value(json_object_get(c, "nbf")) == now);
	T_ASSERT(json_integer_value(json_object_get(c, "exp")) == now + 600);
	T_ASSERT(strcmp(json_string_value(json_object_get(c, "jti")),
	    "00112233445566778899aabbccddeeff") == 0);
	t = json_object_get(c, "roles");
	T_ASSERT(json_array_size(t) == 2 &&
	    strcmp(json_string_value(json_array_get(t, 1)), "tickets") == 0);
	t = json_object_get(json_object_get(c, "traits"), "region");
	T_ASSERT(json_array_size(t) == 2 &&
	    strcmp(json_string_value(json_array_get(t, 0)), "eu") == 0);
	T_ASSERT(json_object_size(c) == 9);
	json_decref(c);

	/* A certificate that outlives the lifetime allowed now: capped. */
	c = jwt_claims("gw.example", &u, &a, now, now + 86400 * 30, 3600,
	    "j", &exp, err, sizeof(err));
	T_ASSERT(c != NULL && exp == now + 3600 &&
	    json_integer_value(json_object_get(c, "exp")) == now + 3600);
	json_decref(c);

	/* roles: no traits; traits: no roles; none: neither. */
	a.remote.jwt_claims = APP_JWT_ROLES;
	c = jwt_claims("g", &u, &a, now, now + 60, 3600, "j", &exp, err,
	    sizeof(err));
	T_ASSERT(c != NULL && json_object_get(c, "roles") != NULL &&
	    json_object_get(c, "traits") == NULL);
	json_decref(c);
	a.remote.jwt_claims = APP_JWT_TRAITS;
	c = jwt_claims("g", &u, &a, now, now + 60, 3600, "j", &exp, err,
	    sizeof(err));
	T_ASSERT(c != NULL && json_object_get(c, "roles") == NULL &&
	    json_object_get(c, "traits") != NULL);
	json_decref(c);
	a.remote.jwt_claims = APP_JWT_NONE;
	c = jwt_claims("g", &u, &a, now, now + 60, 3600, "j", &exp, err,
	    sizeof(err));
	T_ASSERT(c != NULL && json_object_get(c, "roles") == NULL &&
	    json_object_get(c, "traits") == NULL &&
	    json_object_size(c) == 7);
	json_decref(c);

	/* An ended certificate makes no token, not one already expired. */
	exp = 0;
	c = jwt_claims("g", &u, &a, now, now, 3600, "j", &exp, err,
	    sizeof(err));
	T_ASSERT(c == NULL && exp == 0 && strstr(err, "expired") != NULL);
	c = jwt_claims("g", &u, &a, now, now - 1, 3600, "j", &exp, err,
	    sizeof(err));
	T_ASSERT(c == NULL);
}

int
main(void)
{
	t_suite = "jwt";
	T_RUN(test_b64url);
	T_RUN(test_jwt_sign);
	T_RUN(test_jwt_bound);
	T_RUN(test_jwt_claims);
	return (t_done());
}
