/*
 * Unit tests for privsep/ca.c: the CA created on first start and loaded
 * on the next, a client certificate (its names, lifetime, serial, key
 * and usage, signed by the CA), and when the server certificate is kept
 * and when it is issued again.  Each test works in a directory of its
 * own under /tmp.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "log.h"
#include "../../privsep/privsep.h"
#include "unit.h"

#define GEN	"1234567890abcdef"

static struct mcpgated_conf	 conf;
static char			 dir[64];

static int
setup(void)
{
	char	 p[PATH_MAX];

	strlcpy(dir, "/tmp/mgca.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return (-1);
	config_defaults(&conf);
	snprintf(conf.state_dir, sizeof(conf.state_dir), "%s/state", dir);
	snprintf(conf.audit_dir, sizeof(conf.audit_dir), "%s/audit", dir);
	snprintf(p, sizeof(p), "%s/state", dir);
	if (mkdir(p, 0700) == -1)
		return (-1);
	snprintf(p, sizeof(p), "%s/audit", dir);
	return (mkdir(p, 0700));
}

static void
teardown(void)
{
	t_rmtree(dir);
}

static X509 *
pem_cert(const char *pem)
{
	BIO	*b;
	X509	*x;

	if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
		return (NULL);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return (x);
}

static X509 *
file_cert(const char *name)
{
	char	 p[PATH_MAX];
	FILE	*f;
	X509	*x;

	snprintf(p, sizeof(p), "%s/state/%s", dir, name);
	if ((f = fopen(p, "r")) == NULL)
		return (NULL);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return (x);
}

static EVP_PKEY *
file_key(const char *name)
{
	char		 p[PATH_MAX];
	FILE		*f;
	EVP_PKEY	*k;

	snprintf(p, sizeof(p), "%s/state/%s", dir, name);
	if ((f = fopen(p, "r")) == NULL)
		return (NULL);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return (k);
}

static mode_t
file_mode(const char *name)
{
	char		 p[PATH_MAX];
	struct stat	 st;

	snprintf(p, sizeof(p), "%s/state/%s", dir, name);
	if (stat(p, &st) == -1)
		return ((mode_t)-1);
	return (st.st_mode & 07777);
}

static void
test_ca_created_then_loaded(void)
{
	struct ca_state	 ca, again;
	char		 fpr[FINGERPRINT_LEN + 1];
	X509		*c;
	int		 ok;

	T_ASSERT(setup() == 0);
	ok = ca_init(&ca, &conf) == 0;
	if (!ok) {
		teardown();
		T_ASSERTF(0, "ca_init on an empty state directory failed");
	}
	strlcpy(fpr, ca.fingerprint, sizeof(fpr));
	ok = strlen(fpr) > 0 && file_mode("ca.key") == 0600 &&
	    file_mode("server.key") == 0600 && file_mode("ca.crt") !=
	    (mode_t)-1 && ca.server_cert_pem != NULL &&
	    ca.server_key_pem != NULL && ca.audit_key != NULL;
	c = file_cert("ca.crt");
	/* A CA: its own issuer, basicConstraints CA:TRUE. */
	ok = ok && c != NULL && X509_check_issued(c, c) == X509_V_OK &&
	    X509_check_ca(c) >= 1;
	X509_free(c);
	ca_free(&ca);
	if (!ok) {
		teardown();
		T_ASSERTF(0, "the new CA's files or fields are wrong");
	}
	ok = ca_init(&again, &conf) == 0 && strcmp(again.fingerprint,
	    fpr) == 0;
	ca_free(&again);
	teardown();
	T_ASSERTF(ok, "a second start does not load the same CA");
}

static void
test_ca_half_refused(void)
{
	struct ca_state	 ca;
	char		 p[PATH_MAX];
	int		 ok;

	T_ASSERT(setup() == 0);
	ok = ca_init(&ca, &conf) == 0;
	ca_free(&ca);
	/* The key without its certificate: no new CA behind its back. */
	snprintf(p, sizeof(p), "%s/state/ca.crt", dir);
	ok = ok && unlink(p) == 0 && ca_init(&ca, &conf) == -1;
	ca_free(&ca);
	teardown();
	T_ASSERTF(ok, "a CA key without its certificate was accepted");
}

static void
test_ca_key_mode_refused(void)
{
	struct ca_state	 ca;
	char		 p[PATH_MAX];
	int		 ok;

	T_ASSERT(setup() == 0);
	ok = ca_init(&ca, &conf) == 0;
	ca_free(&ca);
	snprintf(p, sizeof(p), "%s/state/ca.key", dir);
	ok = ok && chmod(p, 0644) == 0 && ca_init(&ca, &conf) == -1;
	ca_free(&ca);
	teardown();
	T_ASSERTF(ok, "a CA key that others can read was used");
}

static void
test_client_cert(void)
{
	struct ca_state	 ca;
	EVP_PKEY	*key = NULL, *capub;
	X509		*x = NULL;
	BIGNUM		*bn = NULL;
	char		*pem = NULL, *serial = NULL, cn[128];
	uint8_t		 pub[32];
	size_t		 publen = sizeof(pub);
	int64_t		 nb = 0, na = 0;
	time_t		 before = time(NULL), t;
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_TIME	*at = NULL;
	int		 ok, days, secs, crit;

	T_ASSERT(setup() == 0);
	ok = ca_init(&ca, &conf) == 0 &&
	    (key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL &&
	    EVP_PKEY_get_raw_public_key(key, pub, &publen) == 1 &&
	    (pem = ca_issue_client(&ca, "alice@example.org", GEN, pub, 3600,
	    &nb, &na)) != NULL && (x = pem_cert(pem)) != NULL;
	if (!ok)
		goto out;
	capub = X509_get0_pubkey(ca.ca_cert);
	/* Signed by the CA, issued in its name, over the client's key. */
	ok = X509_verify(x, capub) == 1 && X509_NAME_cmp(
	    X509_get_issuer_name(x), X509_get_subject_name(ca.ca_cert)) == 0 &&
	    EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1;
	if (!ok) {
		t_fail(__FILE__, __LINE__, "not the CA's, or not over the key");
		goto out;
	}
	/* CN is the user, and the only name. */
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) <= 0 ||
	    strcmp(cn, "alice@example.org") != 0 ||
	    X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL) != NULL) {
		t_fail(__FILE__, __LINE__, "names: CN '%s'", cn);
		goto out;
	}
	/* An hour from now, exactly as reported. */
	t = (time_t)nb;
	if ((at = ASN1_TIME_set(NULL, t)) == NULL ||
	    nb < before || nb > time(NULL) || na - nb != 3600 ||
	    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)) != 1 || days * 86400 + secs != 3600 ||
	    ASN1_TIME_compare(X509_get0_notBefore(x), at) != 0) {
		t_fail(__FILE__, __LINE__, "lifetime: nb %lld na %lld",
		    (long long)nb, (long long)na);
		goto out;
	}
	/* The serial starts with the user's generation. */
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL || (serial = BN_bn2hex(bn)) == NULL ||
	    strncasecmp(serial, GEN, strlen(GEN)) != 0 ||
	    strlen(serial) != 2 * strlen(GEN)) {
		t_fail(__FILE__, __LINE__, "serial %s", serial ? serial : "?");
		goto out;
	}
	/* For clients only, and no CA. */
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL || sk_ASN1_OBJECT_num(eku) != 1 ||
	    OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) != NID_client_auth ||
	    X509_check_ca(x) != 0) {
		t_fail(__FILE__, __LINE__, "usage");
		goto out;
	}
	/* A user without a generation gets nothing. */
	free(pem);
	pem = ca_issue_client(&ca, "bob", "", pub, 3600, &nb, &na);
	ok = pem == NULL;
	if (!ok)
		t_fail(__FILE__, __LINE__, "issued without a generation");
 out:
	if (!ok && !t_failed_now)
		t_fail(__FILE__, __LINE__, "issuing failed");
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ASN1_TIME_free(at);
	OPENSSL_free(serial);
	BN_free(bn);
	X509_free(x);
	free(pem);
	EVP_PKEY_free(key);
	ca_free(&ca);
	teardown();
}

/* A server certificate, signed by the CA key, expiring in a day. */
static int
write_expiring_server_cert(void)
{
	EVP_PKEY	*cakey, *srvkey;
	X509		*cacert, *x;
	char		 p[PATH_MAX];
	FILE		*f;
	int		 ok;

	cakey = file_key("ca.key");
	srvkey = file_key("server.key");
	cacert = file_cert("ca.crt");
	x = X509_new();
	snprintf(p, sizeof(p), "%s/state/server.crt", dir);
	ok = cakey != NULL && srvkey != NULL && cacert != NULL && x != NULL &&
	    X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 7) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
	    X509_set_pubkey(x, srvkey) == 1 &&
	    X509_set_subject_name(x, X509_get_subject_name(cacert)) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(cacert)) == 1 &&
	    X509_sign(x, cakey, NULL) != 0 && (f = fopen(p, "w")) != NULL;
	if (ok) {
		ok = PEM_write_X509(f, x) == 1;
		fclose(f);
	}
	X509_free(x);
	X509_free(cacert);
	EVP_PKEY_free(srvkey);
	EVP_PKEY_free(cakey);
	return (ok ? 0 : -1);
}

static void
test_server_cert_reissue(void)
{
	struct ca_state	 ca;
	char		*first = NULL;
	X509		*x = NULL;
	int		 step = 0;

	T_ASSERT(setup() == 0);
	/* Kept as it is while nothing changed. */
	step++;
	if (ca_init(&ca, &conf) == -1 ||
	    (first = strdup(ca.server_cert_pem)) == NULL)
		goto fail;
	ca_free(&ca);
	step++;
	if (ca_init(&ca, &conf) == -1 ||
	    strcmp(first, ca.server_cert_pem) != 0)
		goto fail;
	ca_free(&ca);
	/* A new public address: issued again, with the name. */
	step++;
	strlcpy(conf.public_addr, "gw.example.org:3080",
	    sizeof(conf.public_addr));
	if (ca_init(&ca, &conf) == -1 ||
	    strcmp(first, ca.server_cert_pem) == 0 ||
	    (x = pem_cert(ca.server_cert_pem)) == NULL ||
	    X509_check_host(x, "gw.example.org", 0, 0, NULL) != 1 ||
	    X509_check_host(x, "localhost", 0, 0, NULL) != 1 ||
	    X509_check_ip_asc(x, "127.0.0.1", 0) != 1 ||
	    X509_verify(x, X509_get0_pubkey(ca.ca_cert)) != 1)
		goto fail;
	X509_free(x);
	x = NULL;
	free(first);
	first = strdup(ca.server_cert_pem);
	ca_free(&ca);
	/* One that expires within 30 days: issued again. */
	step++;
	if (write_expiring_server_cert() == -1 || ca_init(&ca, &conf) == -1 ||
	    strcmp(first, ca.server_cert_pem) == 0 ||
	    (x = pem_cert(ca.server_cert_pem)) == NULL ||
	    X509_cmp_time(X509_get0_notAfter(x), &(time_t){ time(NULL) +
	    300 * 86400 }) <= 0)
		goto fail;
	X509_free(x);
	x = NULL;
	ca_free(&ca);
	/* Another CA (both removed): the old server certificate goes. */
	step++;
	{
		char	 p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/state/ca.key", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/state/ca.crt", dir);
		unlink(p);
	}
	free(first);
	first = NULL;
	if (ca_init(&ca, &conf) == -1 ||
	    (x = pem_cert(ca.server_cert_pem)) == NULL ||
	    X509_verify(x, X509_get0_pubkey(ca.ca_cert)) != 1)
		goto fail;
	X509_free(x);
	ca_free(&ca);
	teardown();
	return;
 fail:
	X509_free(x);
	free(first);
	ca_free(&ca);
	teardown();
	T_ASSERTF(0, "step %d", step);
}

int
main(void)
{
	t_suite = "ca";
	log_init(1, LOG_DAEMON);
	log_setlevel(LOG_LVL_WARNING);
	T_RUN(test_ca_created_then_loaded);
	T_RUN(test_ca_half_refused);
	T_RUN(test_ca_key_mode_refused);
	T_RUN(test_client_cert);
	T_RUN(test_server_cert_reissue);
	return (t_done());
}
