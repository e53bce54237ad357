/*
 * The parent of mcpgated: it alone holds the configuration, the state
 * directory and the CA private key, starts the children, serves the
 * control socket, and never touches the network.
 */
#ifndef MCPGATE_PRIVSEP_H
#define MCPGATE_PRIVSEP_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"
#include "resource.h"
#include "ev.h"
#include "imsg.h"
#include "proto.h"
#include "sandbox.h"
#include "util.h"

struct ca_state {
	EVP_PKEY	*ca_key;		/* never leaves the parent */
	X509		*ca_cert;
	char		*ca_pem;
	char		*server_cert_pem;
	char		*server_key_pem;	/* zeroed once sent to netd */
	size_t		 server_key_len;
	EVP_PKEY	*audit_key;
	char		 fingerprint[FINGERPRINT_LEN + 1];
};

/*
 * The keys that sign the identity tokens for HTTP MCP servers: the
 * current one, and the previous one's public half after a rotation.
 */
#define JWT_KID_LEN	43		/* base64url of a SHA-256 */
#define JWT_CLAIMS_MAX	(64 * 1024)
struct jwt_keys {
	EVP_PKEY	*cur;
	EVP_PKEY	*prev;			/* NULL before any rotation */
	char		 kid[JWT_KID_LEN + 1];
	char		 prevkid[JWT_KID_LEN + 1];
};

/* A resource of the store by name: its place in its kind's array. */
struct store_entry {
	RB_ENTRY(store_entry)	 entry;
	char			 name[RES_NAMELEN];
	size_t			 i;
};
RB_HEAD(store_index, store_entry);

/* The parts of the snapshot for mcpd: about this size each. */
#define STORE_SNAPSHOT_PART	(512 * 1024)

struct store {
	char		 dir[PATH_MAX];
	struct resources res[RES_KINDS];	/* by enum res_kind */
	struct store_index index[RES_KINDS];
};

/* A message for a child that waits for room in its channel. */
struct backlog_msg {
	TAILQ_ENTRY(backlog_msg) entry;
	uint32_t		 type;
	uint32_t		 peerid;
	int			 fd;
	size_t			 len;
	unsigned char		 data[];
};

struct child {
	enum proc_id	 id;
	pid_t		 pid;
	int		 ready;
	struct imsgbuf	 ibuf;
	struct event	 ev;
	int		 errfd;		/* its stdout and stderr, a pipe */
	struct event	 errev;
	char		 errbuf[LOG_LINE_MAX];
	size_t		 errlen;
	TAILQ_HEAD(, backlog_msg) backlog;
	size_t		 backlog_bytes;
};

typedef void	(*audit_done_fn)(void *, const struct audit_ack *);

struct parent {
	struct mcpgated_conf	 conf;
	char			 conf_path[PATH_MAX];
	int			 foreground;
	int			 verbose;
	int			 root;
	int64_t			 start_us;
	struct child		 children[PROC_MAX];
	struct ca_state		 ca;
	struct jwt_keys		 jwt;
	struct store		 store;
	struct init_listen	 bound[CONF_MAXLISTEN];
	int			 listen_fds[CONF_MAXLISTEN];
	int			 nbound;
	int			 stopping;
	int			 stop_recorded;	/* daemon.stop sent */
	char			 stop_why[64];
	int			 self_fd;
};

extern struct parent	*parent;

/* mcpgated.c */
void	 parent_send(enum proc_id, uint32_t, uint32_t, int, const void *,
	    size_t);
void	 parent_sendv(enum proc_id, uint32_t, uint32_t, const struct iovec *,
	    int);
void	 parent_audit(json_t *, audit_done_fn, void *);
void	 parent_fatal(const char *) __attribute__((noreturn));
int	 parent_reload(const char *, uid_t, json_t **, json_t **);
void	 parent_conf_snapshot(const struct mcpgated_conf *,
	    struct conf_snapshot *);

/* anchor.c */
void	 anchor_init(const char *);
int	 anchor_update(const struct audit_anchor *);

/* parent_sandbox.c */
extern const struct sandbox_policy parent_sandbox;
void	 parent_sandbox_enter(const struct parent *);

/* proc.c */
pid_t	 proc_start(struct parent *, enum proc_id, int, int *);
void	 proc_stderr(int, short, void *);
void	 proc_drain(struct child *);
void	 proc_stop_all(struct parent *, int);
void	 proc_reap(struct parent *);

/* store.c */
int	 store_load(struct store *, const char *);
struct resource *store_find(struct store *, enum res_kind, const char *);
int	 store_put(struct store *, struct resource *);
int	 store_put_all(struct store *, struct resources *, size_t *);
int	 store_save(struct store *, const struct resource *);
int	 store_delete(struct store *, enum res_kind, const char *);
int	 store_copy(const struct resource *, struct resource *);
int	 store_is_preset(const char *);
int	 store_snapshot(struct store *, void (*)(const char *, size_t));
void	 store_new_generation(char [RES_GENLEN + 1]);
void	 identity_push(void);
void	 store_free(struct store *);

/* apps.c: the apps of the configuration and of the store, by name */
const struct app_res *app_lookup(const char *);
const struct app_res *app_config(const struct mcpgated_conf *,
	    const char *);
int	 apps_snapshot_send(void (*)(const char *, size_t));
void	 apps_log_hidden(void);
#define APP_CA_FILE_MAX	(1024 * 1024)	/* bytes of tls.ca_file */
char	*app_ca_load(const char *, const char *, size_t, size_t *, char *,
	    size_t);
int	 app_check(const struct app_res *,
	    void (*)(const char *, const char *),
	    void (*)(const char *, const char *));

/*
 * httpapp.c: netd's table of HTTP origins and the sessions' identity
 * headers.  The system's CAs, for servers that name none, come from
 * one bundle.
 */
#define HTTP_SYSTEM_CA	"/etc/ssl/certs/ca-certificates.crt"
#define HTTP_SYSCA_MAX	(2 * 1024 * 1024)	/* bytes of it */
void	 httpapp_origins_push(void);
void	 httpapp_start(uint32_t, const struct app_start *,
	    const struct app_res *);
int	 httpapp_ready(uint32_t, const struct http_key *);
int	 httpapp_stop(uint32_t, const struct app_ref *);
size_t	 httpapp_sessions(void);

/*
 * spawn.c: the parent's side of the spawner and of the sessions' stdio
 * servers.  What the servers' descriptors and ends become is the
 * caller's (mcpd's dispatcher, or a test): spawn_ops.
 */
struct spawn_ops {
	void	(*stdin_fd)(uint32_t, const struct app_ref *, int);
	void	(*started)(uint32_t, const struct app_started *, int);
	void	(*failed)(uint32_t, const struct app_failed *);
	void	(*exited)(uint32_t, const struct app_exited *);
	void	(*lost)(const char *);	/* the spawner is gone */
};

/* The servers the parent started, since the start (mcpgatectl status). */
struct spawn_stats {
	uint64_t	 started;
	uint64_t	 failed;		/* could not start */
	uint64_t	 exits[STATUS_EXIT_MAX];
};

#define SPAWN_STDERR_RATE	20	/* lines a second, a server */
#define SPAWN_TAIL_LINES	10	/* kept for when it fails */
pid_t	 spawn_init(int, int, int, const struct spawn_ops *);
void	 spawn_set_max(size_t);
void	 spawn_app(uint32_t, const struct app_start *,
	    const struct app_res *);
void	 spawn_stop(uint32_t, const struct app_ref *);
size_t	 spawn_running(void);
const struct spawn_stats *spawn_stats(void);
int	 spawn_reaped(pid_t, int);
void	 spawn_stop_all(void);
pid_t	 spawn_pid(void);

/* spawner.c: the process that starts the servers, root, unchrooted */
#define SPAWNER_MAX_SERVERS	4096	/* whatever the parent asks */
void	 spawner_main(int, int) __attribute__((noreturn));
void	 spawner_sandbox_enter(void);

/* cgroup.c: the servers' memory_max and tasks_max, the spawner's */
enum cgroup_mode {
	CGROUP_NONE,		/* not enforced: see why */
	CGROUP_V1,		/* the memory and pids hierarchies */
	CGROUP_V2,		/* a delegated subtree */
};
struct cgroup_host {
	enum cgroup_mode	 mode;
	char			 v2[PATH_MAX];	/* the spawner's cgroup */
	char			 mem[PATH_MAX];	/* v1: its memory one */
	char			 pids[PATH_MAX];	/* v1: its pids one */
	char			 why[600];	/* none: what is missing */
};
int	 cgroup_self_line(char *, const char *, char *, size_t);
int	 cgroup_mount_line(char *, const char *, char *, size_t, char *,
	    size_t);
int	 cgroup_dir(const char *, const char *, const char *, char *, size_t);
void	 cgroup_detect(struct cgroup_host *, const char *, const char *, int);
void	 cgroup_init(struct cgroup_host *, int);
int	 cgroup_server_add(const struct cgroup_host *, const char *, uint32_t,
	    uint64_t, uint64_t, pid_t, char *, size_t);
uint64_t cgroup_server_oom(const struct cgroup_host *, const char *,
	    uint32_t);
int	 cgroup_server_remove(const struct cgroup_host *, const char *,
	    uint32_t);
void	 cgroup_end(const struct cgroup_host *);

/* server_sandbox.c: what a server's namespace does before its exec */
struct spawn_spec {
	struct spawn_req	 req;
	char			*buf;		/* the strings */
	const char		*command;
	const char		*cwd;		/* NULL: home */
	char			**args;		/* command, args */
	char			**env;		/* nenv */
	char			**read_only;
	char			**writable;
};
int	 spawn_spec_parse(struct spawn_spec *, const void *, size_t,
	    char *, size_t);
void	 spawn_spec_free(struct spawn_spec *);
int	 server_sandbox_loopback(char *, size_t);
int	 server_sandbox_landlock(const struct spawn_spec *, char *, size_t);
int	 server_sandbox_seccomp(char *, size_t);
void	 server_sandbox_rlimits(void);

/* admin.c */
int	 admin_handle(uint32_t, uid_t, const char *, json_t *);
const char *admin_proxy_addr(char *, size_t);

/* login.c */
int	 login_init(void);
void	 login_hashing_start(void);
void	 login_request(uint32_t, const struct login_req *);

/* pwhash.c: Argon2id with OWASP's parameters, 19 MiB, 2 passes, 1 lane */
#define PWHASH_T		2
#define PWHASH_M		19456	/* KiB */
#define PWHASH_P		1
#define PWHASH_SALT		16
#define PWHASH_LEN		32
#define PWHASH_ARENA		(PWHASH_M * 1024ULL)	/* a thread's */
#define PWHASH_ENCODED		(RES_PWHASHLEN + 1)	/* PHC */
#define PWHASH_WORKERS		2	/* threads, at most one a CPU */
#define PWHASH_NICE		10	/* below the event loops */
#define PWHASH_PER_PREFIX	4	/* jobs waiting from one prefix */
#define PWHASH_WAITING		256	/* jobs waiting in all */
enum pwhash_kind {
	PWHASH_VERIFY,		/* secret against encoded: ok */
	PWHASH_HASH,		/* secret with salt into encoded: ok */
};
enum pwhash_status {
	PWHASH_DONE,		/* computed: see ok */
	PWHASH_DROPPED,		/* admit() refused it in its turn */
	PWHASH_BUSY,		/* pushed out of a full queue */
};
struct pwhash_job {
	TAILQ_ENTRY(pwhash_job)	 entry;
	enum pwhash_kind	 kind;
	/* The password, zeroed once used. */
	char			 secret[LOGIN_PASSWORD_MAX + 1];
	char			 encoded[PWHASH_ENCODED];
	uint8_t			 salt[PWHASH_SALT];
	int			 ok;
	uint64_t		 queued;	/* ms: submitted */
	uint64_t		 started;	/* ms: given to a worker */
	int			(*admit)(struct pwhash_job *);
	void			(*done)(struct pwhash_job *,
				    enum pwhash_status);
	void			*arg;
};
TAILQ_HEAD(pwhash_jobs, pwhash_job);
struct pwhash_params {
	uint32_t	 m;		/* KiB */
	uint32_t	 t;
	uint32_t	 p;
	uint8_t		 salt[64];
	size_t		 saltlen;
	uint8_t		 hash[64];
	size_t		 hashlen;
};
int	 pwhash_decode(const char *, struct pwhash_params *);
void	 pwhash_encode(const struct pwhash_params *, char *, size_t);
int	 pwhash_verify(const char *, const char *);
int	 pwhash_hash(const char *, const uint8_t [PWHASH_SALT], char *,
	    size_t);
void	 pwhash_start(void);
int	 pwhash_submit(struct pwhash_job *, const char *);
void	 pwhash_load(size_t *, int *);

/* throttle.c */
#define THROTTLE_PREFIXLEN	CONN_ADDR_MAX
#define THROTTLE_AUDIT_MS	10000	/* a record of refusals */
enum throttle_why {
	THR_OK,
	THR_PAIR,	/* this user from this prefix failed too often */
	THR_PREFIX,	/* this prefix failed too often, any user */
	THR_LOCKED,	/* this user failed too often from many prefixes */
};
enum throttle_table {
	THR_TABLE_PAIR,
	THR_TABLE_PREFIX,
	THR_TABLE_USER,
	THR_TABLES
};
void	 throttle_addr(const char *, char *, size_t, char *, size_t);
enum throttle_why throttle_check(const char *, const char *, int64_t,
	    int64_t *);
int	 throttle_failed(const struct mcpgated_conf *, const char *,
	    const char *, int64_t);
void	 throttle_succeeded(const char *, const char *);
int	 throttle_refused(const char *, const char *, enum throttle_why,
	    int64_t, uint64_t *);
int	 throttle_locked(const char *, int64_t, int64_t *, uint64_t *,
	    uint64_t *);
int	 throttle_unlock(const char *, int64_t);
size_t	 throttle_entries(enum throttle_table, uint64_t *);
void	 throttle_clear(void);

/* ca.c */
int	 ca_init(struct ca_state *, const struct mcpgated_conf *);
char	*ca_issue_client(struct ca_state *, const char *, const char *,
	    const uint8_t *, uint64_t, int64_t *, int64_t *);
void	 ca_free(struct ca_state *);
EVP_PKEY *key_load(const char *);
int	 key_save(EVP_PKEY *, const char *);
EVP_PKEY *pubkey_load(const char *);
int	 pubkey_save(EVP_PKEY *, const char *);

/* jwt.c */
int	 b64url_encode(const unsigned char *, size_t, char *, size_t);
int	 jwt_init(struct jwt_keys *, const char *);
int	 jwt_rotate(struct jwt_keys *, const char *, EVP_PKEY *);
EVP_PKEY *jwt_newkey(char *, size_t);
int	 jwt_control(uint32_t, uid_t, const char *);
json_t	*jwt_jwks(const struct jwt_keys *);
json_t	*jwt_claims(const char *, const struct user *, const struct app_res *,
	    int64_t, int64_t, int64_t, const char *, int64_t *, char *,
	    size_t);
char	*jwt_sign(const struct jwt_keys *, const json_t *);
void	 jwt_free(struct jwt_keys *);

/* control.c */
int	 control_init(const char *);
void	 control_status_netd(uint32_t, const struct netd_status *);
int	 control_status_mcpd(uint32_t, const struct mcpd_status *);
void	 control_status_auditd(uint32_t, const struct auditd_status *);
void	 control_reply(uint32_t, json_t *);
json_t	*control_error(const char *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 control_listen(void);
void	 control_cleanup(const char *);

#endif
