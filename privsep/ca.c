/*
 * The gateway's certificate authority, in the parent only: an Ed25519 CA
 * created on first start, the server certificate it signs for netd, and
 * the audit key that signs audit checkpoints.  The CA private key never
 * leaves this process.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "audit_record.h"
#include "log.h"
#include "privsep.h"

#define CA_DAYS			3650
#define SERVER_DAYS		365
#define SERVER_RENEW_DAYS	30
#define CA_MAXFILE		(64 * 1024)
#define MAX_SANS		(CONF_MAXLISTEN + 8)

struct san {
	int	 ip;
	char	 name[CONF_ADDRLEN];
};

static void
ssl_warn(const char *what)
{
	unsigned long	 e = ERR_get_error();
	char		 buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	log_warnx("%s: %s", what, e ? buf : "failed");
	ERR_clear_error();
}

static int
state_path(char *buf, size_t len, const char *dir, const char *file)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, file) >= len) {
		log_warnx("%s/%s: path too long", dir, file);
		return (-1);
	}
	return (0);
}

/* A private key file must be ours alone. */
static int
check_private(const char *path)
{
	struct stat	 st;

	if (stat(path, &st) == -1)
		return (-1);
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		log_warnx("%s must be owned by uid %u and mode 0600 (it is "
		    "uid %u, mode %04o)", path, (unsigned)geteuid(),
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		errno = EPERM;
		return (-1);
	}
	return (0);
}

enum pem_what {
	PEM_PRIVATE,
	PEM_PUBLIC,
	PEM_CERT,
};

/*
 * What a PEM file holds, read whole (at most CA_MAXFILE); the bytes are
 * zeroed after, since a private key may be among them.
 */
static void *
pem_load(const char *path, enum pem_what what)
{
	void	*obj = NULL;
	BIO	*bio;
	char	*buf;
	size_t	 len;

	if (read_file(path, CA_MAXFILE, &buf, &len) == -1) {
		log_warn("%s", path);
		return (NULL);
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		switch (what) {
		case PEM_PRIVATE:
			obj = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
			break;
		case PEM_PUBLIC:
			obj = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
			break;
		case PEM_CERT:
			obj = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			break;
		}
		BIO_free(bio);
	}
	freezero(buf, len);
	if (obj == NULL)
		ssl_warn(path);
	return (obj);
}

/* The key, if it is an Ed25519 one; else NULL, said and freed. */
static EVP_PKEY *
ed25519_only(EVP_PKEY *key, const char *path)
{
	if (key != NULL && EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		log_warnx("%s: not an Ed25519 key", path);
		EVP_PKEY_free(key);
		key = NULL;
	}
	return (key);
}

EVP_PKEY *
key_load(const char *path)
{
	if (check_private(path) == -1)
		return (NULL);
	return (ed25519_only(pem_load(path, PEM_PRIVATE), path));
}

/* What a memory BIO holds, as a string; for keys, zero and free it. */
static char *
bio_string(BIO *bio, size_t *lenp)
{
	char	*data, *str;
	long	 len;

	if ((len = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (str = malloc((size_t)len + 1)) == NULL)
		return (NULL);
	memcpy(str, data, (size_t)len);
	str[len] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)len;
	return (str);
}

/* PEM of a private key in memory; the caller zeroes and frees it. */
static char *
key_pem(EVP_PKEY *key, size_t *lenp)
{
	BIO	*bio;
	char	*pem = NULL;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return (NULL);
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) == 1)
		pem = bio_string(bio, lenp);
	BIO_free(bio);
	return (pem);
}

int
key_save(EVP_PKEY *key, const char *path)
{
	char	*pem;
	size_t	 len;
	int	 ret;

	if ((pem = key_pem(key, &len)) == NULL) {
		ssl_warn(path);
		return (-1);
	}
	ret = write_file_atomic(path, pem, len, 0600);
	if (ret == -1)
		log_warn("%s", path);
	freezero(pem, len);
	return (ret);
}

static char *
cert_pem(X509 *cert)
{
	BIO	*bio;
	char	*pem = NULL;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (NULL);
	if (PEM_write_bio_X509(bio, cert) == 1)
		pem = bio_string(bio, NULL);
	BIO_free(bio);
	return (pem);
}

static int
cert_save(X509 *cert, const char *path)
{
	char	*pem;
	int	 ret;

	if ((pem = cert_pem(cert)) == NULL) {
		ssl_warn(path);
		return (-1);
	}
	if ((ret = write_file_atomic(path, pem, strlen(pem), 0644)) == -1)
		log_warn("%s", path);
	free(pem);
	return (ret);
}

static X509 *
cert_load(const char *path)
{
	return (pem_load(path, PEM_CERT));
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ret;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return (-1);
	ret = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return (ret);
}

/* A new certificate with a random 127-bit serial, not yet signed. */
static X509 *
cert_new(EVP_PKEY *pub, const char *cn, long days)
{
	X509		*cert;
	X509_NAME	*name;
	BIGNUM		*bn;
	ASN1_INTEGER	*serial;

	if ((cert = X509_new()) == NULL)
		return (NULL);
	if ((bn = BN_new()) == NULL ||
	    !BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    (serial = X509_get_serialNumber(cert)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, serial) == NULL) {
		BN_free(bn);
		X509_free(cert);
		return (NULL);
	}
	BN_free(bn);
	name = X509_get_subject_name(cert);
	if (X509_set_version(cert, 2) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_pubkey(cert, pub) != 1) {
		X509_free(cert);
		return (NULL);
	}
	return (cert);
}

static int
ca_create(struct ca_state *ca, const struct mcpgated_conf *conf,
    const char *keypath, const char *certpath)
{
	char	 cn[CONF_NAMELEN + 16];

	if ((ca->ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		ssl_warn("CA key");
		return (-1);
	}
	snprintf(cn, sizeof(cn), "%s CA", conf->name);
	if ((ca->ca_cert = cert_new(ca->ca_key, cn, CA_DAYS)) == NULL ||
	    X509_set_issuer_name(ca->ca_cert,
	    X509_get_subject_name(ca->ca_cert)) != 1 ||
	    add_ext(ca->ca_cert, ca->ca_cert, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") == -1 ||
	    add_ext(ca->ca_cert, ca->ca_cert, NID_key_usage,
	    "critical,keyCertSign,cRLSign") == -1 ||
	    add_ext(ca->ca_cert, ca->ca_cert, NID_subject_key_identifier,
	    "hash") == -1 ||
	    X509_sign(ca->ca_cert, ca->ca_key, NULL) == 0) {
		ssl_warn("CA certificate");
		return (-1);
	}
	if (key_save(ca->ca_key, keypath) == -1 ||
	    cert_save(ca->ca_cert, certpath) == -1)
		return (-1);
	log_info("created the gateway CA in %s", conf->state_dir);
	return (0);
}

static int
is_unspecified(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (sin->sin_addr.s_addr == htonl(INADDR_ANY));
	if (ss->ss_family == AF_INET6)
		return (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
	return (1);
}

static void
san_add(struct san *sans, int *n, const char *name)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	int		 i;

	if (*n == MAX_SANS || name[0] == '\0')
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(sans[i].name, name) == 0)
			return;
	sans[*n].ip = inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
	strlcpy(sans[*n].name, name, sizeof(sans[*n].name));
	(*n)++;
}

/* Names the server certificate must carry for clients to check it. */
static int
server_sans(const struct mcpgated_conf *conf, struct san *sans)
{
	char	 host[CONF_ADDRLEN], *p;
	int	 i, n = 0;

	san_add(sans, &n, "localhost");
	san_add(sans, &n, "127.0.0.1");
	san_add(sans, &n, "::1");
	for (i = 0; i < conf->nlisten; i++) {
		if (is_unspecified(&conf->listen[i].ss))
			continue;
		if (getnameinfo((const struct sockaddr *)&conf->listen[i].ss,
		    conf->listen[i].sslen, host, sizeof(host), NULL, 0,
		    NI_NUMERICHOST) == 0)
			san_add(sans, &n, host);
	}
	if (conf->public_addr[0] != '\0') {
		strlcpy(host, conf->public_addr, sizeof(host));
		if (host[0] == '[') {
			memmove(host, host + 1, strlen(host));
			if ((p = strchr(host, ']')) != NULL)
				*p = '\0';
		} else if ((p = strchr(host, ':')) != NULL)
			*p = '\0';
		san_add(sans, &n, host);
	}
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		for (p = host; *p != '\0'; p++)
			if (!name_char((unsigned char)*p, HOST_PUNCT))
				break;
		if (*p == '\0')
			san_add(sans, &n, host);
	}
	return (n);
}

/* Whether an existing server certificate can be kept. */
static int
server_cert_ok(X509 *cert, EVP_PKEY *key, const struct ca_state *ca,
    const struct san *sans, int nsans)
{
	EVP_PKEY	*capub = X509_get0_pubkey(ca->ca_cert);
	time_t		 soon = time(NULL) + SERVER_RENEW_DAYS * 86400;
	int		 i;

	if (capub == NULL || X509_verify(cert, capub) != 1) {
		ERR_clear_error();
		log_info("server certificate is not signed by the current "
		    "CA; issuing a new one");
		return (0);
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		log_info("server certificate does not match its key; issuing "
		    "a new one");
		return (0);
	}
	if (X509_cmp_time(X509_get0_notAfter(cert), &soon) <= 0) {
		log_info("server certificate expires within %d days; issuing "
		    "a new one", SERVER_RENEW_DAYS);
		return (0);
	}
	for (i = 0; i < nsans; i++) {
		if ((sans[i].ip ? X509_check_ip_asc(cert, sans[i].name, 0) :
		    X509_check_host(cert, sans[i].name, 0, 0, NULL)) != 1) {
			log_info("server certificate lacks %s; issuing a new "
			    "one", sans[i].name);
			return (0);
		}
	}
	return (1);
}

static X509 *
server_issue(const struct ca_state *ca, const struct mcpgated_conf *conf,
    EVP_PKEY *key, const struct san *sans, int nsans)
{
	X509	*cert;
	char	 list[MAX_SANS * (CONF_ADDRLEN + 4)] = "";
	int	 i;

	for (i = 0; i < nsans; i++) {
		if (i > 0)
			strlcat(list, ",", sizeof(list));
		strlcat(list, sans[i].ip ? "IP:" : "DNS:", sizeof(list));
		strlcat(list, sans[i].name, sizeof(list));
	}
	if ((cert = cert_new(key, conf->name, SERVER_DAYS)) == NULL ||
	    X509_set_issuer_name(cert,
	    X509_get_subject_name(ca->ca_cert)) != 1 ||
	    add_ext(cert, ca->ca_cert, NID_basic_constraints,
	    "critical,CA:FALSE") == -1 ||
	    add_ext(cert, ca->ca_cert, NID_key_usage,
	    "critical,digitalSignature") == -1 ||
	    add_ext(cert, ca->ca_cert, NID_ext_key_usage, "serverAuth") == -1 ||
	    add_ext(cert, ca->ca_cert, NID_subject_alt_name, list) == -1 ||
	    add_ext(cert, ca->ca_cert, NID_authority_key_identifier,
	    "keyid:always") == -1 ||
	    X509_sign(cert, ca->ca_key, NULL) == 0) {
		ssl_warn("server certificate");
		X509_free(cert);
		return (NULL);
	}
	return (cert);
}

static int
server_init(struct ca_state *ca, const struct mcpgated_conf *conf)
{
	struct san	 sans[MAX_SANS];
	char		 keypath[PATH_MAX], certpath[PATH_MAX];
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	int		 nsans, ret = -1;

	nsans = server_sans(conf, sans);
	if (state_path(keypath, sizeof(keypath), conf->state_dir,
	    "server.key") == -1 || state_path(certpath, sizeof(certpath),
	    conf->state_dir, "server.crt") == -1)
		return (-1);
	if (access(keypath, F_OK) == 0 && access(certpath, F_OK) == 0) {
		/* A key in the wrong hands is an error, not a renewal. */
		if ((key = key_load(keypath)) == NULL) {
			log_warnx("%s cannot be used; fix it, or remove it and "
			    "%s to issue new ones", keypath, certpath);
			return (-1);
		}
		if ((cert = cert_load(certpath)) != NULL &&
		    server_cert_ok(cert, key, ca, sans, nsans))
			goto done;
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		ssl_warn("server key");
		return (-1);
	}
	if ((cert = server_issue(ca, conf, key, sans, nsans)) == NULL ||
	    key_save(key, keypath) == -1 || cert_save(cert, certpath) == -1)
		goto out;
	log_info("issued the server certificate for %s", conf->name);
 done:
	if ((ca->server_cert_pem = cert_pem(cert)) == NULL ||
	    (ca->server_key_pem = key_pem(key, &ca->server_key_len)) == NULL) {
		ssl_warn("server certificate");
		goto out;
	}
	ret = 0;
 out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return (ret);
}

int
pubkey_save(EVP_PKEY *key, const char *path)
{
	BIO	*bio;
	char	*data;
	long	 len;
	int	 ret = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (-1);
	if (PEM_write_bio_PUBKEY(bio, key) == 1 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0)
		ret = write_file_atomic(path, data, (size_t)len, 0644);
	BIO_free(bio);
	if (ret == -1)
		log_warn("%s", path);
	return (ret);
}

/* An Ed25519 public key from a PEM file. */
EVP_PKEY *
pubkey_load(const char *path)
{
	return (ed25519_only(pem_load(path, PEM_PUBLIC), path));
}

/*
 * The audit key signs checkpoints.  Its public half sits in the state
 * directory (authoritative) and, for offline checks of a copied log, in
 * the audit directory.
 */
static int
audit_key_init(struct ca_state *ca, const struct mcpgated_conf *conf)
{
	char	 keypath[PATH_MAX], pubpath[PATH_MAX], copy[PATH_MAX];

	if (state_path(keypath, sizeof(keypath), conf->state_dir,
	    "audit.key") == -1 || state_path(pubpath, sizeof(pubpath),
	    conf->state_dir, AUDIT_PUBKEY_FILE) == -1 ||
	    state_path(copy, sizeof(copy), conf->audit_dir,
	    AUDIT_PUBKEY_FILE) == -1)
		return (-1);
	if (access(keypath, F_OK) == 0) {
		if ((ca->audit_key = key_load(keypath)) == NULL)
			return (-1);
	} else {
		if ((ca->audit_key = EVP_PKEY_Q_keygen(NULL, NULL,
		    "ED25519")) == NULL) {
			ssl_warn("audit key");
			return (-1);
		}
		if (key_save(ca->audit_key, keypath) == -1)
			return (-1);
		log_info("created the audit key in %s", conf->state_dir);
	}
	if (pubkey_save(ca->audit_key, pubpath) == -1 ||
	    pubkey_save(ca->audit_key, copy) == -1)
		return (-1);
	return (0);
}

/*
 * Load the CA or create it on first start, then the server certificate
 * and the audit key.  A CA key without its certificate, or the reverse,
 * is an error: a new CA would silently break every client's pin.
 */
int
ca_init(struct ca_state *ca, const struct mcpgated_conf *conf)
{
	char	 keypath[PATH_MAX], certpath[PATH_MAX];
	int	 havekey, havecert;

	memset(ca, 0, sizeof(*ca));
	if (state_path(keypath, sizeof(keypath), conf->state_dir,
	    "ca.key") == -1 || state_path(certpath, sizeof(certpath),
	    conf->state_dir, "ca.crt") == -1)
		return (-1);
	havekey = access(keypath, F_OK) == 0;
	havecert = access(certpath, F_OK) == 0;
	if (!havekey && !havecert) {
		if (ca_create(ca, conf, keypath, certpath) == -1)
			return (-1);
	} else if (havekey != havecert) {
		log_warnx("%s exists but %s does not; restore it from a "
		    "backup (removing both creates a new CA, and every "
		    "client must then trust it again)", havekey ? keypath :
		    certpath, havekey ? certpath : keypath);
		return (-1);
	} else {
		if ((ca->ca_key = key_load(keypath)) == NULL ||
		    (ca->ca_cert = cert_load(certpath)) == NULL)
			return (-1);
		if (X509_check_private_key(ca->ca_cert, ca->ca_key) != 1) {
			ssl_warn("CA key and certificate do not match");
			return (-1);
		}
	}
	if ((ca->ca_pem = cert_pem(ca->ca_cert)) == NULL ||
	    cert_fingerprint(ca->ca_cert, ca->fingerprint,
	    sizeof(ca->fingerprint)) == -1) {
		ssl_warn("CA certificate");
		return (-1);
	}
	if (server_init(ca, conf) == -1 || audit_key_init(ca, conf) == -1)
		return (-1);
	return (0);
}

/*
 * A client certificate for user over the Ed25519 public key the client
 * made: CN = user, a random serial, clientAuth, valid from now for ttl
 * seconds.  The PEM is returned; *nb and *na get its validity.
 */
char *
ca_issue_client(struct ca_state *ca, const char *user, const char *gen,
    const uint8_t *pub, uint64_t ttl, int64_t *nb, int64_t *na)
{
	EVP_PKEY	*key;
	X509		*cert = NULL;
	BIGNUM		*bn = NULL;
	time_t		 now = time(NULL);
	unsigned char	 rnd[8];
	char		*pem = NULL, hex[2 * RES_GENLEN + 1];

	if ((key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
	    32)) == NULL) {
		ssl_warn("client public key");
		return (NULL);
	}
	/* The serial: the user's generation, then 64 random bits. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	strlcpy(hex, gen, sizeof(hex));
	hex_encode(rnd, sizeof(rnd), hex + RES_GENLEN, sizeof(hex) -
	    RES_GENLEN);
	if (strlen(gen) != RES_GENLEN || BN_hex2bn(&bn, hex) == 0) {
		log_warnx("%s: no generation", user);
		goto out;
	}
	/* cert_new() backdates; a client certificate starts now, exactly. */
	if ((cert = cert_new(key, user, 1)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL ||
	    X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert), 0, (long)ttl,
	    &now) == NULL ||
	    X509_set_issuer_name(cert,
	    X509_get_subject_name(ca->ca_cert)) != 1 ||
	    add_ext(cert, ca->ca_cert, NID_basic_constraints,
	    "critical,CA:FALSE") == -1 ||
	    add_ext(cert, ca->ca_cert, NID_key_usage,
	    "critical,digitalSignature") == -1 ||
	    add_ext(cert, ca->ca_cert, NID_ext_key_usage, "clientAuth") == -1 ||
	    add_ext(cert, ca->ca_cert, NID_authority_key_identifier,
	    "keyid:always") == -1 ||
	    X509_sign(cert, ca->ca_key, NULL) == 0 ||
	    (pem = cert_pem(cert)) == NULL) {
		ssl_warn("client certificate");
		goto out;
	}
	*nb = (int64_t)now;
	*na = (int64_t)now + (int64_t)ttl;
 out:
	BN_free(bn);
	X509_free(cert);
	EVP_PKEY_free(key);
	return (pem);
}

void
ca_free(struct ca_state *ca)
{
	EVP_PKEY_free(ca->ca_key);
	X509_free(ca->ca_cert);
	EVP_PKEY_free(ca->audit_key);
	free(ca->ca_pem);
	free(ca->server_cert_pem);
	if (ca->server_key_pem != NULL)
		freezero(ca->server_key_pem, ca->server_key_len);
	memset(ca, 0, sizeof(*ca));
}
