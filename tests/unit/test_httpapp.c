/*
 * Unit tests of privsep/httpapp.c: what the parent sends netd and mcpd
 * when a session of an HTTP app starts and stops (the rendered identity
 * headers, a token that says who the user is and ends with the
 * certificate; the app's path and transport once netd holds them), and
 * each refusal: an
 * unknown or locked user, a trait of no value or of several, an ended
 * certificate, headers over their bound, more sessions than
 * limits.max_connections.  The parent's channels are replaced by a
 * recorder.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <limits.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "../../privsep/privsep.h"
#include "unit.h"

struct parent		*parent;
static struct parent	 tparent;

#define SENT_MAX	16
static struct sent {
	enum proc_id	 proc;
	uint32_t	 type;
	uint32_t	 peer;
	unsigned char	*data;
	size_t		 len;
} sent[SENT_MAX];
static int		 nsent;

static void
sent_clear(void)
{
	int	 i;

	for (i = 0; i < nsent; i++)
		free(sent[i].data);
	memset(sent, 0, sizeof(sent));
	nsent = 0;
}

void
parent_sendv(enum proc_id id, uint32_t type, uint32_t peerid,
    const struct iovec *iov, int iovcnt)
{
	struct sent	*s;
	size_t		 len = 0;
	int		 i;

	if (nsent == SENT_MAX)
		return;
	s = &sent[nsent++];
	s->proc = id;
	s->type = type;
	s->peer = peerid;
	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	s->data = calloc(1, len + 1);
	for (i = 0; i < iovcnt; i++) {
		memcpy(s->data + s->len, iov[i].iov_base, iov[i].iov_len);
		s->len += iov[i].iov_len;
	}
}

void
parent_send(enum proc_id id, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct iovec	 iov;

	(void)fd;
	iov.iov_base = (void *)data;
	iov.iov_len = len;
	parent_sendv(id, type, peerid, &iov, len > 0 ? 1 : 0);
}

static char	 dir[64];

static int
add_yaml(const char *y, int locked)
{
	struct resources	 rs;
	struct conf_errors	 errs;
	struct resource		 r;

	if (resource_parse("test", y, strlen(y), RES_ADMIN, &rs, &errs) ==
	    -1 || rs.n != 1) {
		resources_free(&rs);
		return (-1);
	}
	r = rs.v[0];
	free(rs.v);
	if (r.kind == RES_USER) {
		store_new_generation(r.u.user.generation);
		r.u.user.locked = locked;
	}
	return (store_put(&tparent.store, &r));
}

static const struct app_res *
app(const char *name)
{
	struct resource	*r;

	r = store_find(&tparent.store, RES_APP, name);
	return (r != NULL ? &r->u.app : NULL);
}

static int
setup(void)
{
	char	 sub[128];

	strlcpy(dir, "/tmp/mghttpapp.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return (-1);
	snprintf(sub, sizeof(sub), "%s/state", dir);
	if (mkdir(sub, 0700) == -1)
		return (-1);
	memset(&tparent, 0, sizeof(tparent));
	parent = &tparent;
	strlcpy(tparent.conf.name, "gw.test", sizeof(tparent.conf.name));
	tparent.conf.app_enabled = 1;
	tparent.conf.cert_ttl = 3600 * 1000ULL;
	tparent.conf.max_connections = 2;
	if (jwt_init(&tparent.jwt, dir) == -1 ||
	    store_load(&tparent.store, sub) == -1)
		return (-1);
	return (add_yaml("kind: user\nversion: v1\nmetadata: {name: alice}\n"
	    "spec:\n  roles: [access, tickets]\n  traits:\n"
	    "    team: [blue]\n    region: [eu, us]\n", 0) |
	    add_yaml("kind: user\nversion: v1\nmetadata: {name: bob}\n"
	    "spec:\n  roles: [access]\n  traits: {team: [red]}\n", 1) |
	    add_yaml("kind: user\nversion: v1\nmetadata: {name: carol}\n"
	    "spec:\n  roles: [access]\n", 0) |
	    add_yaml("kind: app\nversion: v1\nmetadata: {name: tickets}\n"
	    "spec:\n  uri: mcp+https://tickets.example:8443/mcp?t=1\n"
	    "  rewrite:\n    jwt_claims: roles\n    headers:\n"
	    "    - 'Authorization: Bearer {{internal.jwt}}'\n"
	    "    - 'X-User: {{ internal.user }}'\n"
	    "    - 'X-Team: team-{{external.team}}'\n"
	    "    - 'X-Session: {{internal.session}}'\n"
	    "  timeout: 5s\n", 0) |
	    add_yaml("kind: app\nversion: v1\nmetadata: {name: regions}\n"
	    "spec:\n  uri: mcp+sse+http://127.0.0.1:9/sse\n"
	    "  rewrite:\n    headers: ['X-Region: {{external.region}}']\n",
	    0) |
	    add_yaml("kind: app\nversion: v1\nmetadata: {name: plain}\n"
	    "spec:\n  uri: mcp+http://127.0.0.1:9/\n", 0));
}

static void
teardown(void)
{
	sent_clear();
	store_free(&tparent.store);
	jwt_free(&tparent.jwt);
	t_rmtree(dir);
}

static void
start(uint32_t peer, const char *user, const char *session,
    int64_t not_after, const struct app_res *a)
{
	struct app_start	 as;

	memset(&as, 0, sizeof(as));
	as.ref.serial = peer * 10;
	strlcpy(as.ref.session, session, sizeof(as.ref.session));
	strlcpy(as.app, a->name, sizeof(as.app));
	strlcpy(as.user, user, sizeof(as.user));
	as.not_after = not_after;
	httpapp_start(peer, &as, a);
}

/* The failure sent, if that is all that was sent, or NULL. */
static const char *
failed_only(void)
{
	static struct app_failed	 f;

	if (nsent != 1 || sent[0].proc != PROC_MCPD ||
	    sent[0].type != IMSG_APP_FAILED || sent[0].len != sizeof(f))
		return (NULL);
	memcpy(&f, sent[0].data, sizeof(f));
	return (f.message);
}

/* The JWT's payload, from a header line "Bearer <jwt>\r\n". */
static json_t *
jwt_payload(const char *hdrs)
{
	const char	*p, *q;
	unsigned char	 out[4096];
	char		 b64[4096];
	size_t		 n, i;
	int		 len;

	if ((p = strstr(hdrs, "Bearer ")) == NULL ||
	    (p = strchr(p, '.')) == NULL || (q = strchr(++p, '.')) == NULL)
		return (NULL);
	n = (size_t)(q - p);
	if (n + 4 >= sizeof(b64))
		return (NULL);
	for (i = 0; i < n; i++)
		b64[i] = p[i] == '-' ? '+' : p[i] == '_' ? '/' : p[i];
	while (i % 4 != 0)
		b64[i++] = '=';
	b64[i] = '\0';
	if ((len = EVP_DecodeBlock(out, (unsigned char *)b64, (int)i)) < 0)
		return (NULL);
	while (len > 0 && out[len - 1] == '\0')
		len--;
	return (json_loadb((char *)out, (size_t)len, 0, NULL));
}

/* A session's start: netd's headers; once netd has them, mcpd's app_http. */
static void
test_start(void)
{
	struct http_session	 hs;
	struct app_http		 ah;
	const char		*hdrs;
	json_t			*c;
	int64_t			 now = time(NULL);

	T_ASSERT(setup() == 0);
	T_ASSERT(app("tickets") != NULL);
	start(7, "alice", "s1", now + 600, app("tickets"));
	T_ASSERTF(nsent == 1 && sent[0].type == IMSG_HTTP_SESSION, "%d sent, "
	    "the first %s", nsent, imsg_type_name(sent[0].type));
	T_ASSERT(sent[0].proc == PROC_NETD &&
	    sent[0].type == IMSG_HTTP_SESSION && sent[0].peer == 7 &&
	    sent[0].len > sizeof(hs));
	memcpy(&hs, sent[0].data, sizeof(hs));
	T_ASSERT(hs.key.conn == 7 && hs.key.ref.serial == 70 &&
	    strcmp(hs.key.ref.session, "s1") == 0 &&
	    strcmp(hs.app, "tickets") == 0);
	T_ASSERT(hs.not_after >= now + 599 && hs.not_after <= now + 601);
	hdrs = (const char *)sent[0].data + sizeof(hs);
	T_ASSERTF(strncmp(hdrs, "Authorization: Bearer ey", 24) == 0 &&
	    strstr(hdrs, "\r\nX-User: alice\r\nX-Team: team-blue\r\n"
	    "X-Session: s1\r\n") != NULL &&
	    hdrs[strlen(hdrs) - 1] == '\n' &&
	    strlen(hdrs) == sent[0].len - sizeof(hs), "%s", hdrs);

	/* The token: jwt_claims roles, exp the certificate's end. */
	T_ASSERT((c = jwt_payload(hdrs)) != NULL);
	T_ASSERT(strcmp(json_string_value(json_object_get(c, "iss")),
	    "gw.test") == 0);
	T_ASSERT(strcmp(json_string_value(json_object_get(c, "sub")),
	    "alice") == 0);
	T_ASSERT(strcmp(json_string_value(json_object_get(c, "aud")),
	    "https://tickets.example:8443/mcp?t=1") == 0);
	T_ASSERT(json_integer_value(json_object_get(c, "exp")) ==
	    hs.not_after);
	T_ASSERT(strlen(json_string_value(json_object_get(c, "jti"))) == 32);
	T_ASSERT(json_array_size(json_object_get(c, "roles")) == 2 &&
	    json_object_get(c, "traits") == NULL);
	json_decref(c);

	/* mcpd hears of it once netd holds the headers, and once only. */
	T_ASSERT(httpapp_ready(7, &hs.key) == 0);
	T_ASSERT(sent[1].proc == PROC_MCPD && sent[1].type == IMSG_APP_HTTP &&
	    sent[1].peer == 7 && sent[1].len == sizeof(ah));
	memcpy(&ah, sent[1].data, sizeof(ah));
	T_ASSERT(httpapp_ready(7, &hs.key) == -1 && nsent == 2);
	T_ASSERT(httpapp_ready(8, &hs.key) == -1 && nsent == 2);
	T_ASSERT(ah.ref.serial == 70 && strcmp(ah.ref.session, "s1") == 0 &&
	    ah.transport == HTTP_STREAMABLE && ah.timeout == 5000 &&
	    strcmp(ah.path, "/mcp?t=1") == 0);
	T_ASSERT(httpapp_sessions() == 1);

	/* A certificate that lives longer than cert_ttl: capped. */
	sent_clear();
	start(8, "alice", "s2", now + 86400, app("tickets"));
	T_ASSERT(nsent == 1 && sent[0].type == IMSG_HTTP_SESSION);
	memcpy(&hs, sent[0].data, sizeof(hs));
	T_ASSERT(hs.not_after >= now + 3599 && hs.not_after <= now + 3601);

	/* Its end: netd forgets the headers; mcpd is sent nothing. */
	sent_clear();
	memset(&hs, 0, sizeof(hs));
	hs.key.ref.serial = 70;
	strlcpy(hs.key.ref.session, "s1", sizeof(hs.key.ref.session));
	T_ASSERT(httpapp_stop(7, &hs.key.ref) == 1);
	T_ASSERT(nsent == 1 && sent[0].proc == PROC_NETD &&
	    sent[0].type == IMSG_HTTP_SESSION_END &&
	    sent[0].len == sizeof(struct http_session_end));
	memcpy(&hs.key, sent[0].data, sizeof(hs.key));
	T_ASSERT(hs.key.conn == 7 && hs.key.ref.serial == 70);
	T_ASSERT(httpapp_sessions() == 1);
	/* Not an HTTP session (or already ended): spawn.c's. */
	sent_clear();
	T_ASSERT(httpapp_stop(7, &hs.key.ref) == 0 && nsent == 0);
	hs.key.ref.serial = 80;
	strlcpy(hs.key.ref.session, "s2", sizeof(hs.key.ref.session));
	T_ASSERT(httpapp_stop(8, &hs.key.ref) == 1);
	T_ASSERT(httpapp_sessions() == 0);
	/* netd's word for a session mcpd ended meanwhile: nothing sent. */
	sent_clear();
	hs.key.conn = 8;
	T_ASSERT(httpapp_ready(8, &hs.key) == 0 && nsent == 0);
	teardown();
}

/* Without {{internal.jwt}} no token is made; SSE says so to mcpd. */
static void
test_no_jwt(void)
{
	struct http_session hs;
	struct app_http	 ah;
	struct app_ref	 ref;
	int64_t		 now = time(NULL);

	T_ASSERT(setup() == 0);
	start(3, "carol", "p1", now + 60, app("plain"));
	T_ASSERTF(nsent == 1, "%d sent, the first %s", nsent,
	    imsg_type_name(sent[0].type));
	T_ASSERT(sent[0].type == IMSG_HTTP_SESSION &&
	    sent[0].len == sizeof(struct http_session));
	memcpy(&hs, sent[0].data, sizeof(hs));
	T_ASSERT(httpapp_ready(3, &hs.key) == 0 && nsent == 2);
	memcpy(&ah, sent[1].data, sizeof(ah));
	T_ASSERT(ah.transport == HTTP_STREAMABLE && ah.timeout == 60000 &&
	    strcmp(ah.path, "/") == 0);
	memset(&ref, 0, sizeof(ref));
	ref.serial = 30;
	strlcpy(ref.session, "p1", sizeof(ref.session));
	T_ASSERT(httpapp_stop(3, &ref) == 1);
	teardown();
}

/* Each refusal is one IMSG_APP_FAILED that says why, and nothing else. */
static void
test_refused(void)
{
	struct resource	*r;
	const char	*m;
	char		*big;
	int64_t		 now = time(NULL);

	T_ASSERT(setup() == 0);
	start(1, "zed", "r1", now + 60, app("tickets"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strstr(m, "user zed is not known") != NULL, "%s", m);
	sent_clear();
	start(1, "bob", "r1", now + 60, app("tickets"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strstr(m, "user bob is locked") != NULL, "%s", m);
	sent_clear();
	start(1, "carol", "r1", now + 60, app("tickets"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strcmp(m, "app tickets: header X-Team: the user has no trait "
	    "team; a header takes one value") == 0, "%s", m);
	sent_clear();
	start(1, "alice", "r1", now + 60, app("regions"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strstr(m, "header X-Region: trait region has 2 values") != NULL,
	    "%s", m);
	sent_clear();
	start(1, "alice", "r1", now, app("tickets"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strstr(m, "certificate has expired") != NULL, "%s", m);
	sent_clear();

	/* A value that would write a header of its own. */
	r = store_find(&tparent.store, RES_USER, "alice");
	free(r->u.user.traits[0].values.v[0]);
	r->u.user.traits[0].values.v[0] = strdup("blue\r\nX-Admin: 1");
	start(1, "alice", "r1", now + 60, app("tickets"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strstr(m, "line break") != NULL, "%s", m);
	sent_clear();

	/* Four headers of 16000 bytes each fit; five do not. */
	big = malloc(16001);
	memset(big, 'b', 16000);
	big[16000] = '\0';
	free(r->u.user.traits[0].values.v[0]);
	r->u.user.traits[0].values.v[0] = big;
	strlist_free(&((struct app_res *)app("plain"))->remote.headers);
	T_ASSERT(strlist_add(&((struct app_res *)app("plain"))->remote.headers,
	    "X-A: {{external.team}}") == 0);
	T_ASSERT(strlist_add(&((struct app_res *)app("plain"))->remote.headers,
	    "X-B: {{external.team}}") == 0);
	T_ASSERT(strlist_add(&((struct app_res *)app("plain"))->remote.headers,
	    "X-C: {{external.team}}") == 0);
	T_ASSERT(strlist_add(&((struct app_res *)app("plain"))->remote.headers,
	    "X-D: {{external.team}}") == 0);
	start(1, "alice", "r1", now + 60, app("plain"));
	T_ASSERTF(nsent == 1 && sent[0].len == sizeof(struct http_session) +
	    4 * (16000 + 7), "%d %s", nsent, failed_only());
	sent_clear();
	T_ASSERT(strlist_add(&((struct app_res *)app("plain"))->remote.headers,
	    "X-E: {{external.team}}") == 0);
	start(1, "alice", "r2", now + 60, app("plain"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strstr(m, "longer than 65536 bytes together") != NULL, "%s", m);
	sent_clear();

	/* The same session twice; then over limits.max_connections. */
	start(1, "alice", "r1", now + 60, app("plain"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strstr(m, "has its server already") != NULL, "%s", m);
	sent_clear();
	r->u.user.traits[0].values.v[0][10] = '\0';
	start(2, "alice", "r3", now + 60, app("plain"));
	T_ASSERT(nsent == 1);
	sent_clear();
	T_ASSERT(httpapp_sessions() == 2);
	start(3, "alice", "r4", now + 60, app("plain"));
	T_ASSERTF((m = failed_only()) != NULL &&
	    strstr(m, "too many sessions") != NULL, "%s", m);
	T_ASSERT(httpapp_sessions() == 2);
	teardown();
}

int
main(void)
{
	t_suite = "httpapp";
	json_object_seed(1);
	T_RUN(test_start);
	T_RUN(test_no_jwt);
	T_RUN(test_refused);
	return (t_done());
}
