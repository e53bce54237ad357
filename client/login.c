/*
 * mcpgate login, status and logout.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "client.h"
#include "proto.h"
#include "utf8.h"

#define PASSWORD_MAX	512
#define INVITE_BUF	256	/* room to see that a paste is too long */

struct login_opts {
	const char	*proxy;
	const char	*user;
	const char	*invite_file;
	const char	*fingerprint;
	uint64_t	 ttl;		/* seconds, 0: the gateway's */
	int		 invite;	/* log in with an invite */
	int		 password_stdin;
};

/* "in 3h12m" or "3h12m ago", for a time in seconds. */
static void
relative(int64_t t, char *buf, size_t len)
{
	int64_t	 now = time(NULL);
	char	 d[64];

	fmt_duration((uint64_t)(t > now ? t - now : now - t), d, sizeof(d));
	snprintf(buf, len, t > now ? "in %s" : "%s ago", d);
}

void
fmt_when(int64_t t, char *buf, size_t len)
{
	char	 ts[TIME_RFC3339_LEN], rel[80];

	fmt_time_us(t * 1000000, ts, sizeof(ts));
	ts[19] = 'Z';
	ts[20] = '\0';
	relative(t, rel, sizeof(rel));
	snprintf(buf, len, "%s (%s)", ts, rel);
}

static int
ask_yes(const char *prompt)
{
	char	 answer[8];

	if (readpassphrase(prompt, answer, sizeof(answer),
	    RPP_ECHO_ON | RPP_REQUIRE_TTY) == NULL)
		return (-1);
	return (answer[0] == 'y' || answer[0] == 'Y');
}

/*
 * Learn the gateway's CA and decide whether to trust it: against
 * --ca-fingerprint, the pin of an earlier login to the same gateway, or
 * the person at the terminal.  Returns the CA PEM, or NULL.
 */
static char *
trust_gateway(struct profile *p, const struct gw_addr *a,
    const struct login_opts *o, json_t **hellop)
{
	json_t	*hello;
	SSL	*ssl;
	char	 err[512], fpr[FINGERPRINT_LEN + 1], prompt[512];
	char	*ca;
	int	 yes;

	if ((ssl = gw_connect(a, NULL, NULL, NULL, err, sizeof(err))) == NULL)
		errx(CLIENT_EXIT_FAIL, "%s", err);
	if ((hello = gw_request(ssl, json_pack("{s:s}", "op", WIRE_OP_HELLO),
	    err, sizeof(err))) == NULL)
		errx(CLIENT_EXIT_FAIL, "%s", err);
	if (!json_is_true(json_object_get(hello, "ok")) ||
	    (ca = strdup(jstr(hello, "ca"))) == NULL || ca[0] == '\0')
		errx(CLIENT_EXIT_FAIL, "%s does not answer as a gateway: %s",
		    a->text, jstr(hello, "message"));
	if (cert_fingerprint_pem(ca, strlen(ca), fpr, sizeof(fpr)) == -1)
		errx(CLIENT_EXIT_FAIL, "the gateway's CA certificate does not "
		    "parse");
	if (!gw_check_server(ssl, ca, a->host))
		errx(CLIENT_EXIT_FAIL, "the gateway at %s presents a "
		    "certificate that its own CA (%s) did not issue for %s: "
		    "refusing", a->text, fpr, a->host);
	gw_close(ssl);

	if (o->fingerprint != NULL) {
		if (strcasecmp(o->fingerprint, fpr) != 0)
			errx(CLIENT_EXIT_FAIL, "the gateway at %s presents CA "
			    "%s, not %s as --ca-fingerprint says: refusing",
			    a->text, fpr, o->fingerprint);
	} else if (p->have && strcmp(p->proxy, a->text) == 0 &&
	    p->ca_fingerprint[0] != '\0') {
		if (strcmp(p->ca_fingerprint, fpr) != 0) {
			fprintf(stderr, "mcpgate: WARNING: the gateway at %s "
			    "now presents CA\n  %s\nbut you trusted\n  %s\n"
			    "Someone may be intercepting your connection, or "
			    "the gateway was reinstalled.\nRefusing.  If an "
			    "administrator confirms the new fingerprint, log "
			    "in "
			    "with\n  --ca-fingerprint %s\n", a->text, fpr,
			    p->ca_fingerprint, fpr);
			exit(CLIENT_EXIT_FAIL);
		}
	} else {
		snprintf(prompt, sizeof(prompt), "The gateway \"%s\" at %s "
		    "presents CA\n  %s\nTrust it (compare with your "
		    "administrator's)? [y/N] ", jstr(hello, "name"), a->text,
		    fpr);
		if ((yes = ask_yes(prompt)) == -1)
			errx(CLIENT_EXIT_FAIL, "cannot ask whether to trust "
			    "the "
			    "gateway's CA %s without a terminal: give "
			    "--ca-fingerprint", fpr);
		if (!yes)
			errx(CLIENT_EXIT_FAIL, "not trusted; nothing changed");
	}
	strlcpy(p->ca_fingerprint, fpr, sizeof(p->ca_fingerprint));
	*hellop = hello;
	return (ca);
}

/*
 * One line from fd, without its end (the newline, and anything from a
 * carriage return on).  Read byte by byte with read(2), so that no stdio
 * buffer keeps a copy of the secret and nothing after the line is taken.
 * -1 at the end of input, on an error, or when the line does not fit.
 */
static int
read_secret_line(int fd, char *buf, size_t len)
{
	size_t	 n = 0;
	ssize_t	 r;
	char	 c;

	for (;;) {
		if ((r = read(fd, &c, 1)) == -1 && errno == EINTR)
			continue;
		if (r == -1 || (r == 0 && n == 0))
			return (-1);
		if (r == 0 || c == '\n')
			break;
		if (n == len - 1) {
			explicit_bzero(buf, len);
			return (-1);
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r")] = '\0';
	explicit_bzero(&c, sizeof(c));
	return (0);
}

/*
 * The invite from --invite-file: a file or pipe of the caller's that no
 * one else may read or write, since whoever read it could take the
 * account, and whoever could write it could make us log in to theirs.
 */
static void
read_invite_file(const char *path, char *inv, size_t len)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1)
		err(CLIENT_EXIT_FAIL, "--invite-file: %s", path);
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		errx(CLIENT_EXIT_FAIL, "--invite-file: %s is not a file or a "
		    "pipe", path);
	if (st.st_uid != getuid())
		errx(CLIENT_EXIT_FAIL, "--invite-file: %s belongs to uid %u, "
		    "not to you: keep the invite in a file of your own, mode "
		    "0600", path, (unsigned int)st.st_uid);
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		errx(CLIENT_EXIT_FAIL, "--invite-file: %s is open to others "
		    "(mode %04o), who could read the invite and take the "
		    "account: make it 0600 (chmod 600 %s), and if someone may "
		    "have read it, ask an administrator for a new invite",
		    path, (unsigned int)(st.st_mode & 07777), path);
	if (read_secret_line(fd, inv, len) == -1)
		errx(CLIENT_EXIT_FAIL, "--invite-file: %s: no invite on its "
		    "first line (at most %d characters)", path,
		    LOGIN_INVITE_LEN);
	close(fd);
}

/*
 * The invite, never from the command line (where every local user sees
 * it in ps and /proc/PID/cmdline): from --invite-file, the first line of
 * standard input with --password-stdin, or the terminal without echo.
 */
static void
get_invite(const struct login_opts *o, char *inv, size_t len)
{
	char	 prompt[400];
	size_t	 n, skip;

	if (o->invite_file != NULL)
		read_invite_file(o->invite_file, inv, len);
	else if (o->password_stdin) {
		if (read_secret_line(STDIN_FILENO, inv, len) == -1)
			errx(CLIENT_EXIT_FAIL, "--password-stdin: no invite on "
			    "the first line of standard input (the invite, "
			    "then the new password, each on a line)");
	} else {
		snprintf(prompt, sizeof(prompt), "Invite for %s (it is not "
		    "shown): ", o->user);
		if (readpassphrase(prompt, inv, len, RPP_REQUIRE_TTY) == NULL)
			errx(CLIENT_EXIT_FAIL, "cannot read the invite without "
			    "a terminal: use --invite-file FILE, or "
			    "--password-stdin with the invite on the first "
			    "line");
	}
	/* Blanks around a pasted invite are not part of it. */
	for (n = strlen(inv); n > 0 && isblank((unsigned char)inv[n - 1]);
	    n--)
		inv[n - 1] = '\0';
	skip = strspn(inv, " \t");
	memmove(inv, inv + skip, strlen(inv + skip) + 1);
	if (inv[0] == '\0')
		errx(CLIENT_EXIT_FAIL, "the invite is empty");
	if (strlen(inv) > LOGIN_INVITE_LEN)
		errx(CLIENT_EXIT_FAIL, "that is not an invite: an invite has "
		    "at most %d characters", LOGIN_INVITE_LEN);
}

static void
get_password(const struct login_opts *o, const struct gw_addr *a,
    json_t *hello, char *pw, size_t len)
{
	char		 again[PASSWORD_MAX + 1], prompt[400];
	json_int_t	 min;

	min = json_integer_value(json_object_get(hello,
	    "password_min_length"));
	if (o->password_stdin) {
		if (read_secret_line(STDIN_FILENO, pw, len) == -1 ||
		    pw[0] == '\0')
			errx(CLIENT_EXIT_FAIL, "--password-stdin: no %s on %s "
			    "line of standard input (at most %d bytes)",
			    o->invite ? "new password" : "password",
			    o->invite && o->invite_file == NULL ? "the second" :
			    "the first", PASSWORD_MAX);
	} else if (o->invite) {
		for (;;) {
			snprintf(prompt, sizeof(prompt), "New password for %s "
			    "(at least %lld characters): ", o->user,
			    (long long)min);
			if (readpassphrase(prompt, pw, len,
			    RPP_REQUIRE_TTY) == NULL ||
			    readpassphrase("The same again: ", again,
			    sizeof(again), RPP_REQUIRE_TTY) == NULL)
				errx(CLIENT_EXIT_FAIL, "cannot read a password "
				    "without a terminal: use --password-stdin");
			if (strcmp(pw, again) != 0)
				fprintf(stderr, "The two do not match; "
				    "again.\n");
			else if ((json_int_t)utf8_chars(pw) < min)
				fprintf(stderr, "That is shorter than %lld "
				    "characters; again.\n", (long long)min);
			else
				break;
		}
		explicit_bzero(again, sizeof(again));
	} else {
		snprintf(prompt, sizeof(prompt), "Password for %s at %s: ",
		    o->user, a->text);
		if (readpassphrase(prompt, pw, len, RPP_REQUIRE_TTY) == NULL)
			errx(CLIENT_EXIT_FAIL, "cannot read a password without "
			    "a terminal: use --password-stdin");
	}
	if (o->invite && (json_int_t)utf8_chars(pw) < min)
		errx(CLIENT_EXIT_FAIL, "the password must have at least %lld "
		    "characters", (long long)min);
}

/* An Ed25519 key: the private half in PEM, the public half in base64. */
static char *
make_key(char *pub64, size_t len, size_t *pemlen)
{
	EVP_PKEY	*key;
	BIO		*bio;
	unsigned char	 raw[32];
	size_t		 rawlen = sizeof(raw);
	char		*data, *pem;
	long		 n;

	if (len < 45 || (key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) ==
	    NULL || EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1)
		errx(CLIENT_EXIT_FAIL, "cannot make a key");
	EVP_EncodeBlock((unsigned char *)pub64, raw, (int)rawlen);
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) != 1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (pem = malloc((size_t)n + 1)) == NULL)
		errx(CLIENT_EXIT_FAIL, "cannot write the key");
	memcpy(pem, data, (size_t)n);
	pem[n] = '\0';
	*pemlen = (size_t)n;
	BIO_free(bio);
	EVP_PKEY_free(key);
	return (pem);
}

/*
 * An invite given as an argument: every local user can read it in ps or
 * /proc/PID/cmdline while login waits for the password, and take the
 * account.  Wipe our copy of it (which is what /proc shows) and refuse.
 */
static void
login_invite_refused(char *value)
{
	explicit_bzero(value, strlen(value));
	errx(CLIENT_EXIT_USAGE, "--invite takes no value: every user of this "
	    "machine can read a command line (ps, /proc/PID/cmdline).\nGive "
	    "--invite alone and type the invite when asked, or use "
	    "--invite-file FILE,\nor --password-stdin with the invite on the "
	    "first line of standard input.\nIf others use this machine, ask "
	    "an administrator for a new invite.");
}

enum {
	OPT_PROXY = CLIENT_OPT_FIRST,
	OPT_USER,
	OPT_INVITE,
	OPT_INVITE_FILE,
	OPT_PASSWORD_STDIN,
	OPT_CA_FINGERPRINT,
	OPT_TTL,
};

/*
 * login takes no operand: one after --invite is most likely the invite,
 * and any may be a secret.  Wipe it, and refuse.
 */
static void __attribute__((noreturn))
login_operand(const struct login_opts *o, char *arg)
{
	if (o->invite)
		login_invite_refused(arg);
	explicit_bzero(arg, strlen(arg));
	warnx("login takes no operand");
	client_usage(CLIENT_EXIT_USAGE);
}

/*
 * --invite takes an optional value only to catch one and wipe it.  The
 * "-" of the short options hands each operand over in its place, so that
 * one after --invite is caught before anything else can fail.
 */
static void
login_args(int argc, char **argv, struct login_opts *o)
{
	static const struct option	 longopts[] = {
		{ "proxy",	    required_argument,	NULL,	OPT_PROXY },
		{ "user",	    required_argument,	NULL,	OPT_USER },
		{ "invite",	    optional_argument,	NULL,	OPT_INVITE },
		{ "invite-file",    required_argument,	NULL,
		    OPT_INVITE_FILE },
		{ "password-stdin", no_argument,	NULL,
		    OPT_PASSWORD_STDIN },
		{ "ca-fingerprint", required_argument,	NULL,
		    OPT_CA_FINGERPRINT },
		{ "ttl",	    required_argument,	NULL,	OPT_TTL },
		CLIENT_LONGOPTS,
		{ NULL,		    0,			NULL,	0 }
	};
	uint64_t	 ms;
	int		 ch;

	memset(o, 0, sizeof(*o));
	while ((ch = client_getopt(argc, argv, "-h", longopts)) != -1) {
		switch (ch) {
		case 1:
			login_operand(o, optarg);
		case OPT_PROXY:
			o->proxy = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_INVITE:
			if (optarg != NULL)
				login_invite_refused(optarg);
			o->invite = 1;
			break;
		case OPT_INVITE_FILE:
			o->invite_file = optarg;
			o->invite = 1;
			break;
		case OPT_PASSWORD_STDIN:
			o->password_stdin = 1;
			break;
		case OPT_CA_FINGERPRINT:
			o->fingerprint = optarg;
			break;
		case OPT_TTL:
			if (parse_duration(optarg, &ms) == -1 || ms < 1000)
				errx(CLIENT_EXIT_USAGE, "--ttl: '%s' is not a "
				    "duration of a second or more", optarg);
			o->ttl = ms / 1000;
			break;
		}
	}
	if (optind < argc)		/* after "--" */
		login_operand(o, argv[optind]);
}

int
cmd_login(int argc, char **argv)
{
	struct login_opts	 o;
	struct profile		 p;
	struct gw_addr		 a;
	json_t			*hello, *req, *ans, *v;
	SSL			*ssl;
	char			 pw[PASSWORD_MAX + 1], inv[INVITE_BUF];
	char			 pub64[64], err[512], when[128];
	char			*ca, *keypem, *s;
	const char		*cert;
	size_t			 keylen, i;

	login_args(argc, argv, &o);
	profile_dir(&p);
	if (profile_load(&p) == -1)
		return (CLIENT_EXIT_FAIL);
	if (o.proxy == NULL && p.have)
		o.proxy = p.proxy;
	if (o.user == NULL && p.have)
		o.user = p.user;
	if (o.proxy == NULL || o.user == NULL) {
		warnx("login: give --proxy and --user (the profile has "
		    "none)");
		client_usage(CLIENT_EXIT_USAGE);
	}
	if (gw_parse_addr(o.proxy, &a) == -1)
		errx(CLIENT_EXIT_USAGE, "--proxy: '%s' is not HOST, HOST:PORT "
		    "or [IPv6]:PORT", o.proxy);
	if (p.have && strcmp(p.proxy, a.text) != 0)
		p.ca_fingerprint[0] = '\0';	/* another gateway */

	ca = trust_gateway(&p, &a, &o, &hello);
	if (o.invite)
		get_invite(&o, inv, sizeof(inv));
	get_password(&o, &a, hello, pw, sizeof(pw));
	keypem = make_key(pub64, sizeof(pub64), &keylen);

	req = json_pack("{s:s,s:s,s:s}", "op", WIRE_OP_LOGIN, "user", o.user,
	    "pubkey", pub64);
	if (o.invite) {
		json_object_set_new(req, "invite", json_string(inv));
		json_object_set_new(req, "new_password", json_string(pw));
	} else
		json_object_set_new(req, "password", json_string(pw));
	if (o.ttl > 0)
		json_object_set_new(req, "ttl", json_integer((json_int_t)
		    o.ttl));
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(inv, sizeof(inv));
	if ((ssl = gw_connect(&a, ca, NULL, NULL, err, sizeof(err))) == NULL)
		errx(CLIENT_EXIT_FAIL, "%s", err);
	ans = gw_request(ssl, req, err, sizeof(err));
	gw_close(ssl);
	if (ans == NULL)
		errx(CLIENT_EXIT_FAIL, "%s", err);
	if (!json_is_true(json_object_get(ans, "ok"))) {
		fprintf(stderr, "mcpgate: login refused: %s\n",
		    jstr(ans, "message"));
		return (CLIENT_EXIT_FAIL);
	}
	cert = jstr(ans, "certificate");

	strlcpy(p.proxy, a.text, sizeof(p.proxy));
	strlcpy(p.user, o.user, sizeof(p.user));
	if (profile_write(&p, "key.pem", keypem, keylen, 0600) == -1 ||
	    profile_write(&p, "cert.pem", cert, strlen(cert), 0644) == -1 ||
	    profile_write(&p, "ca.pem", ca, strlen(ca), 0644) == -1 ||
	    profile_save(&p) == -1)
		return (CLIENT_EXIT_FAIL);
	freezero(keypem, keylen);

	fmt_when(cert_not_after(cert), when, sizeof(when));
	if (client_format == CFMT_JSON) {
		json_object_del(ans, "ok");
		json_object_del(ans, "certificate");
		json_object_set_new(ans, "proxy", json_string(a.text));
		json_object_set_new(ans, "profile", json_string(p.dir));
		if ((s = json_dumps(ans, JSON_INDENT(2))) != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		printf("Logged in to %s as %s.\nRoles:       ",
		    jstr(hello, "name"), o.user);
		json_array_foreach(json_object_get(ans, "roles"), i, v)
			printf("%s%s", i > 0 ? ", " : "",
			    json_string_value(v));
		printf("\nCertificate: valid until %s\nProfile:     %s\n", when,
		    p.dir);
	}
	json_decref(ans);
	json_decref(hello);
	free(ca);
	return (CLIENT_EXIT_OK);
}

static int
status_out(json_t *st, int code)
{
	json_t		*v;
	char		*s;
	size_t		 i;

	if (client_format == CFMT_JSON) {
		if ((s = json_dumps(st, JSON_INDENT(2))) != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		printf("Gateway:     %s (CA %s)\nUser:        %s\n",
		    jstr(st, "proxy"), jstr(st, "ca_fingerprint"),
		    jstr(st, "user"));
		if (json_object_get(st, "expires") != NULL)
			printf("Certificate: %s %s\n",
			    strcmp(jstr(st, "state"), "expired") == 0 ?
			    "expired at" : "valid until",
			    jstr(st, "expires"));
		if (json_object_get(st, "roles") != NULL) {
			printf("Roles:       ");
			json_array_foreach(json_object_get(st, "roles"), i,
			    v)
				printf("%s%s", i > 0 ? ", " : "",
				    json_string_value(v));
			printf("\n");
		}
		printf("State:       %s", jstr(st, "state"));
		if (json_object_get(st, "message") != NULL)
			printf(": %s", jstr(st, "message"));
		printf("\n");
	}
	json_decref(st);
	return (code);
}

int
cmd_status(int argc, char **argv)
{
	struct profile	 p;
	struct gw_addr	 a;
	json_t		*st, *ans;
	SSL		*ssl;
	char		 cpath[PATH_MAX], kpath[PATH_MAX], err[512];
	char		 when[128];
	char		*ca, *cert;
	int64_t		 na;

	client_noargs(argc, argv);
	profile_dir(&p);
	if (profile_load(&p) == -1)
		return (CLIENT_EXIT_FAIL);
	if (!p.have) {
		fprintf(stderr, "mcpgate: not logged in: run 'mcpgate login "
		    "--proxy HOST --user NAME'\n");
		return (CLIENT_EXIT_FAIL);
	}
	st = json_pack("{s:s,s:s,s:s,s:s}", "proxy", p.proxy, "user",
	    p.user, "ca_fingerprint", p.ca_fingerprint, "profile", p.dir);
	if ((cert = profile_read(&p, "cert.pem", NULL)) == NULL ||
	    access(profile_path(&p, "key.pem", kpath, sizeof(kpath)) == 0 ?
	    kpath : "", R_OK) == -1) {
		free(cert);
		json_object_set_new(st, "state", json_string("logged out"));
		json_object_set_new(st, "message", json_string("run 'mcpgate "
		    "login'"));
		return (status_out(st, CLIENT_EXIT_FAIL));
	}
	na = cert_not_after(cert);
	free(cert);
	fmt_when(na, when, sizeof(when));
	json_object_set_new(st, "expires", json_string(when));
	when[20] = '\0';		/* the time without "(in ...)" */
	json_object_set_new(st, "not_after", json_string(when));
	if (na <= time(NULL)) {
		json_object_set_new(st, "state", json_string("expired"));
		json_object_set_new(st, "message", json_string("run 'mcpgate "
		    "login'"));
		return (status_out(st, CLIENT_EXIT_FAIL));
	}
	if (gw_parse_addr(p.proxy, &a) == -1 ||
	    (ca = profile_read(&p, "ca.pem", NULL)) == NULL)
		errx(CLIENT_EXIT_FAIL, "%s: the profile is damaged: log in "
		    "again", p.dir);
	profile_path(&p, "cert.pem", cpath, sizeof(cpath));
	ssl = gw_connect(&a, ca, cpath, kpath, err, sizeof(err));
	free(ca);
	if (ssl == NULL || (ans = gw_request(ssl, json_pack("{s:s}", "op",
	    WIRE_OP_WHOAMI), err, sizeof(err))) == NULL) {
		gw_close(ssl);
		json_object_set_new(st, "state", json_string("unreachable"));
		json_object_set_new(st, "message", json_string(err));
		return (status_out(st, CLIENT_EXIT_FAIL));
	}
	gw_close(ssl);
	if (!json_is_true(json_object_get(ans, "ok"))) {
		json_object_set_new(st, "state", json_string(
		    strcmp(jstr(ans, "error"), WIRE_ERR_UNKNOWN_USER) == 0 ?
		    "revoked" : jstr(ans, "error")));
		json_object_set_new(st, "message", json_string(jstr(ans,
		    "message")));
		json_decref(ans);
		return (status_out(st, CLIENT_EXIT_FAIL));
	}
	json_object_set_new(st, "state", json_string("valid"));
	json_object_set(st, "roles", json_object_get(ans, "roles"));
	json_object_set(st, "traits", json_object_get(ans, "traits"));
	json_decref(ans);
	return (status_out(st, CLIENT_EXIT_OK));
}

int
cmd_logout(int argc, char **argv)
{
	struct profile	 p;
	json_t		*o;
	char		*s;

	client_noargs(argc, argv);
	profile_dir(&p);
	if (profile_load(&p) == -1)
		return (CLIENT_EXIT_FAIL);
	if (profile_remove(&p, "key.pem") == -1 ||
	    profile_remove(&p, "cert.pem") == -1)
		return (CLIENT_EXIT_FAIL);
	if (client_format == CFMT_TEXT)
		printf("Logged out%s%s: the key and certificate are removed; "
		    "the gateway's CA stays pinned.\n", p.have ? " of " : "",
		    p.have ? p.proxy : "");
	else {
		if ((o = json_pack("{s:b,s:s}", "logged_out", 1, "proxy",
		    p.have ? p.proxy : "")) == NULL ||
		    (s = json_dumps(o, JSON_INDENT(2))) == NULL)
			errx(CLIENT_EXIT_FAIL, "cannot encode JSON");
		printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	return (CLIENT_EXIT_OK);
}
