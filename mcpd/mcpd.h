/*
 * mcpd: the MCP process.  It frames and parses what clients send (the
 * request line, then the MCP JSON-RPC stream of a session), decides what
 * each user may do, audits it, answers or runs the demo server, and
 * writes to netd.  It opens no file and no socket and holds no private
 * key.
 */
#ifndef MCPGATE_MCPD_H
#define MCPGATE_MCPD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <jansson.h>

#include "buf.h"
#include "child.h"
#include "ev.h"
#include "proto.h"
#include "resource.h"
#include "sandbox.h"
#include "utf8.h"
#include "util.h"
#include "wire.h"

/* Stop handing netd output while this much waits in the channel. */
#define MCPD_NETD_HIGHWATER	(8 * 1024 * 1024)
#define MCPD_NETD_LOWWATER	(2 * 1024 * 1024)
/* A session reads no more input while this much output waits for netd. */
#define SESSION_OUT_HIGHWATER	(1024 * 1024)
/* Sessions read no more input while this much waits for auditd. */
#define MCPD_AUDIT_HIGHWATER	(4 * 1024 * 1024)
#define MCPD_AUDIT_LOWWATER	(1024 * 1024)

/* What the audit log keeps of a client's strings and params. */
#define AUDIT_PARAMS_MAX	(16 * 1024)
#define AUDIT_STRING_MAX	256

/* The ends of a session the gateway decides, by their audit reason. */
#define END_OVER_BUDGET		WIRE_ERR_OVER_BUDGET	/* also its refusal */
#define END_INIT_TIMEOUT	"init_timeout"
#define END_IDLE_TIMEOUT	WIRE_END_IDLE_TIMEOUT
#define END_APP_REMOVED		"app_removed"
#define END_SERVER_DISABLED	"server_disabled"

enum rpc_kind {
	RPC_EMPTY,		/* a blank line */
	RPC_REQUEST,
	RPC_NOTIFICATION,
	RPC_RESPONSE,
	RPC_INVALID,		/* answer error_code, error to id */
};

struct rpc {
	enum rpc_kind	 kind;
	json_t		*msg;		/* the whole message, owned */
	json_t		*id;		/* borrowed from msg; NULL: none */
	const char	*method;	/* borrowed from msg */
	json_t		*params;	/* borrowed from msg; NULL: none */
	int		 error_code;
	char		 error[256];
	int		 too_many_values;
	json_t		*peeked_id;	/* owned: the id, when not parsed */
};

struct mconn;

/* A tool of a built-in server: what tools/list shows, and its code. */
struct tool {
	const char	*name;
	const char	*title;
	const char	*description;
	const char	*output_schema;		/* JSON */
	/* The structured result; its text in the buffer. */
	json_t		*(*run)(struct mconn *, struct buf *);
};

struct app_label {
	const char	*key;
	const char	*value;
};

/*
 * An MCP server users may connect to: the built-in demo, or an app of
 * the parent's snapshot (type "stdio" whatever its transport: the parent
 * provides a stdio server's pipes for each session, or tells netd how
 * to reach an HTTP one), which owns its strings.  A session holds its app for as long as it
 * lives: an app gone from a new snapshot is kept, retired, until no
 * session holds it.
 */
struct app {
	const char		*name;
	const char		*description;
	const char		*type;		/* "builtin", "stdio" */
	int			 transport;	/* enum app_transport, of a
						   snapshot's app */
	const struct app_label	*labels;
	size_t			 nlabels;
	const struct tool	*tools;		/* a built-in server's */
	size_t			 ntools;
	/* an app of the snapshot */
	int			 stdio;		/* started by the parent */
	struct app_label	*own_labels;	/* labels, owned */
	char			*own_strings;	/* name, description */
	TAILQ_ENTRY(app)	 retired;
};

/* What the policy decided, and the rule that decided it. */
struct decision {
	int		 allowed;
	char		 rule[256];
};

enum request_op {
	OP_HELLO,
	OP_LOGIN,
	OP_WHOAMI,
	OP_APPS,
	OP_CONNECT,
};

struct request {
	enum request_op	 op;
	json_t		*obj;		/* the whole request */
};

enum mconn_state {
	MCONN_REQUEST,		/* waiting for the request line */
	MCONN_LOGIN,		/* the parent is checking a login */
	MCONN_SESSION,		/* an MCP session (connect) */
	MCONN_DONE,		/* answered; closing once written */
};

/* A request whose audit record must be written before it goes on. */
enum session_hold {
	HOLD_NONE,
	HOLD_INITIALIZE,	/* mcp.session.start, then the answer */
	HOLD_CALL,		/* mcp.session.request, then the tool runs */
	HOLD_DENIED,		/* mcp.session.request, then the refusal */
	HOLD_SERVER,		/* the parent starts the session's server */
};

/* A request one side sent the other, not yet answered. */
struct pending {
	RB_ENTRY(pending)	 entry;
	json_t			*id;
	char			*key;		/* id as compact JSON */
	int			 kind;		/* enum pending_kind */
};
RB_HEAD(pending_tree, pending);

/* The most requests either side may have unanswered in a session. */
#define RELAY_PENDING_MAX	1024
/* The most tool names of a server a session remembers. */
#define RELAY_TOOLS_MAX		4096

enum backend_state {
	BE_STARTING,		/* IMSG_APP_START sent */
	BE_RUNNING,		/* its descriptors arrived */
};

struct remote;

/*
 * A session's MCP server, seen from mcpd: two pipes of a stdio server,
 * or an HTTP server that netd reaches (remote).
 */
struct backend {
	enum backend_state	 state;
	int			 in_fd;		/* its stdin; -1: closed */
	int			 out_fd;	/* its stdout; -1: closed */
	struct event		 rev;
	struct event		 wev;
	int			 reading;	/* rev added */
	int			 writing;	/* wev added */
	char			*rbuf;		/* output not yet taken */
	size_t			 rlen;
	size_t			 rcap;
	size_t			 rscan;		/* no newline before this */
	TAILQ_HEAD(, mout_chunk) wq;		/* input not yet written */
	size_t			 wqueued;
	struct pending_tree	 requests;	/* client -> server */
	struct pending_tree	 server_requests; /* server -> client */
	size_t			 nrequests;
	size_t			 nserver_requests;
	json_t			*initialize;	/* the client's, until sent */
	int32_t			 pid;
	uint64_t		 init_timeout;	/* ms */
	struct ev_timer		 timer;		/* initialize, output end */
	int			 eof;		/* its stdout ended */
	int			 closing;	/* the client said all */
	int			 exited;
	int			 status;	/* when exited */
	struct strlist		 tools;		/* names it offered */
	struct remote		*remote;	/* an HTTP server's */
};

/* An MCP session: one per connect, with the demo server for now. */
struct session {
	char			 id[33];
	uint64_t		 serial;	/* tells sessions apart */
	const struct app	*app;
	int64_t			 started;	/* us */
	int			 initialized;	/* initialize answered */
	char			 protocol[16];	/* negotiated */
	char			 client_name[AUDIT_STRING_MAX];
	char			 client_version[AUDIT_STRING_MAX];
	uint64_t		 requests;
	uint64_t		 denied;
	uint64_t		 errors;
	uint64_t		 notifications;
	char			 tools_seen[SHA256_HEX_LEN + 1];
	enum session_hold	 hold;		/* waiting for auditd */
	json_t			*held;		/* that request */
	const struct tool	*held_tool;
	char			 held_reason[512];
	struct ev_timer		 activity;	/* init_timeout, idle_timeout */
	uint64_t		 last_active;	/* ms, a message either way */
	int			 caps;		/* the client's, CAP_* */
	struct backend		*backend;	/* stdio apps */
};

/* Client capabilities that server-to-client requests need. */
#define CAP_ROOTS		0x01
#define CAP_SAMPLING		0x02
#define CAP_ELICITATION		0x04

struct mout_chunk {
	TAILQ_ENTRY(mout_chunk)	 entry;
	size_t			 len;
	size_t			 off;
	unsigned char		 data[];
};

struct mconn {
	RB_ENTRY(mconn)		 entry;
	RB_ENTRY(mconn)		 budget_entry;	/* by bytes held */
	uint64_t		 held;		/* of max_buffered */
	TAILQ_ENTRY(mconn)	 blocked_entry;
	int			 blocked;	/* waiting for netd's queue */
	uint32_t		 id;
	enum mconn_state	 state;
	struct conn_open	 peer;
	struct ev_timer		 timer;
	char			*in;		/* input not yet taken */
	size_t			 inoff;		/* taken from the front */
	size_t			 inlen;		/* bytes in, from in */
	size_t			 incap;
	size_t			 inscan;	/* no newline before this */
	size_t			 innl;		/* newlines in the input */
	uint64_t		 in_unacked;	/* not yet acknowledged */
	int			 eof;		/* the client said all */
	int			 busy;		/* in mconn_input */
	uint64_t		 out_unacked;	/* at netd, not yet written */
	uint64_t		 out_queued;	/* here, not yet at netd */
	TAILQ_HEAD(, mout_chunk) out;
	int			 close_when_sent;
	int			 doomed;	/* an allocation failed */
	char			 login_user[RES_NAMELEN];
	struct session		*session;
};

RB_HEAD(mconn_tree, mconn);
RB_HEAD(mconn_budget, mconn);

/* How many sessions a user holds, for max_sessions_per_user. */
struct user_sessions {
	RB_ENTRY(user_sessions)	 entry;
	char			 name[CONN_CN_MAX];
	uint64_t		 n;
};
RB_HEAD(user_sessions_tree, user_sessions);

struct mcpd {
	struct conf_snapshot	 conf;
	struct child_chan	 netd;
	struct child_chan	 auditd;
	struct mconn_tree	 conns;
	struct mconn_budget	 budget;	/* largest holder first */
	uint64_t		 buffered;	/* sum of their held */
	struct ev_timer		 budget_timer;
	uint64_t		 doomed;	/* connections to end */
	struct user_sessions_tree user_sessions;
	struct mcpd_status	 stats;
	struct resources	 identity;	/* roles and users */
	const struct user	**users;	/* of identity, by name */
	size_t			 nusers;
	struct resources	 pending;	/* the snapshot coming */
	TAILQ_HEAD(, mconn)	 blocked;
	char			*ca_pem;
	char			 ca_fpr[FINGERPRINT_LEN + 1];
	int			 audit_failing;	/* the last record failed */
	int			 audit_paused;	/* sessions wait for auditd */
	int			 draining;	/* the daemon is stopping */
};

extern struct mcpd		*mcpd;
extern const struct sandbox_policy mcpd_sandbox;

void	 mcpd_main(int, int) __attribute__((noreturn));
int	 mcpd_dispatch_parent(struct imsg *);
void	 mcpd_dispatch_netd(int, short, void *);
void	 mcpd_dispatch_auditd(int, short, void *);

/* jsonrpc.c */
size_t	 json_count_values(const char *, size_t, size_t);
void	 rpc_parse(const char *, size_t, size_t, struct rpc *);
void	 rpc_free(struct rpc *);
json_t	*rpc_error(json_t *, int, const char *);
json_t	*rpc_result(json_t *, json_t *);
json_t	*rpc_notification(const char *);

/* policy.c */
void	 policy_compile(const struct resources *);
int	 policy_app(const struct user *, const struct app *,
	    struct decision *);
int	 policy_tool(const struct user *, const struct app *, const char *,
	    struct decision *);
void	 policy_tool_patterns(const struct user *, const struct app *,
	    json_t *, json_t *);

/* apps.c */
size_t	 apps_count(void);
const struct app *apps_get(size_t);
const struct app *apps_find(const char *);
const char *apps_gone(const struct app *, char *, size_t);
void	 apps_snapshot_take(const struct resources *);
json_t	*apps_tools_json(const struct user *, const struct app *);
void	 apps_answer(struct mconn *);

/* demo.c */
extern const struct app	 demo_app;

/* audit.c */
json_t	*audit_session_fields(struct mconn *, const char *);
json_t	*audit_params(json_t *);
void	 audit_string(json_t *, const char *, const char *);
void	 audit_send(json_t *, struct mconn *);
void	 audit_acked(uint32_t, const struct audit_ack *);
uint64_t audit_next_serial(void);
int	 audit_congested(void);
void	 audit_drained(void);

/* session.c */
void	 session_connect(struct mconn *, struct request *);
void	 session_input(struct mconn *);
void	 session_line(struct mconn *, char *, size_t);
const struct user *session_user(struct mconn *);
void	 session_audited(struct mconn *, int);
void	 session_recheck(struct mconn *);
void	 session_end(struct mconn *, const char *, const char *);
void	 session_free(struct mconn *, const char *, const char *);
void	 session_send(struct mconn *, json_t *);
void	 session_send_raw(struct mconn *, const char *, size_t);
void	 session_activity(struct mconn *);
void	 session_arm_activity(struct mconn *);
uint64_t session_count(const char *);

/* relay.c */
int	 relay_is_stdio(const struct app *);
void	 relay_start(struct mconn *, json_t *);
int	 relay_dispatch_parent(struct imsg *);
void	 relay_client(struct mconn *, struct rpc *, const char *, size_t);
void	 relay_forward(struct mconn *, json_t *);
int	 relay_ready(struct mconn *);
int	 relay_client_done(struct mconn *);
void	 relay_resume(struct mconn *);
size_t	 relay_held(const struct session *);
int	 relay_park(struct mconn *, json_t *);
size_t	 relay_endings(void);
void	 relay_tools_digest(struct mconn *, struct buf *);
void	 relay_server_line(struct mconn *, char *, size_t);
void	 relay_lost(struct mconn *, const char *, const char *);
void	 relay_answer_pending(struct mconn *, json_t *, const char *);
void	 relay_http_done(const struct http_ref *);

/* remote.c */
struct remote *remote_new(struct mconn *, const struct app_http *);
int	 remote_start(struct mconn *);
int	 remote_ready(const struct remote *);
size_t	 remote_held(const struct remote *);
void	 remote_post(struct mconn *, const char *, size_t, json_t *, int);
void	 remote_initialized(struct mconn *);
void	 remote_resume(struct mconn *);
int	 remote_dispatch_netd(struct imsg *);
uint64_t remote_park(struct mconn *, json_t *);
int	 remote_endpoint_path(const char *, const char *, size_t, char *,
	    size_t);

/* mcp.c */
void	 mcp_message(struct mconn *, char *, size_t);
void	 mcp_release(struct mconn *, int);
void	 mcp_tools_digest(struct mconn *, char [SHA256_HEX_LEN + 1]);
int	 mcp_has_structured(const struct session *);

/* request.c */
int	 request_parse(const char *, size_t, struct request *, const char **,
	    char *, size_t);
void	 request_free(struct request *);

/* identity.c */
const struct user *identity_user(const char *);
const struct user *identity_check(const struct conn_open *, const char **,
	    char *, size_t);
void	 identity_snapshot(const void *, size_t);
void	 identity_snapshot_end(void);
size_t	 identity_traits_size(const struct user *);
void	 identity_traits_set(json_t *, const struct user *);

/* login.c */
void	 login_start(struct mconn *, struct request *);
void	 login_result(uint32_t, const void *, size_t);
void	 whoami(struct mconn *);

/* mconn.c */
void	 mconn_recheck(void);
struct mconn *mconn_find(uint32_t);
void	 mconn_open(uint32_t, const struct conn_open *);
void	 mconn_data(uint32_t, const unsigned char *, size_t);
void	 mconn_ack(uint32_t, uint64_t);
void	 mconn_eof(uint32_t);
void	 mconn_closed(uint32_t);
void	 mconn_resume_blocked(void);
void	 mconn_resume_sessions(void);
void	 mconn_drain(void);
void	 mconn_answer(struct mconn *, json_t *);
void	 mconn_error(struct mconn *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 mconn_request(struct mconn *, const char *, size_t);
void	 mconn_input(struct mconn *);
void	 mconn_send_line(struct mconn *, json_t *);
void	 mconn_close(struct mconn *);
void	 mconn_abort(struct mconn *, const char *, const char *);
void	 mconn_account(struct mconn *);
void	 mconn_budget_init(void);
int	 mconn_budget_room(struct mconn *, uint64_t);
void	 mconn_doom(struct mconn *);
void	 mconn_send_raw(struct mconn *, const char *, size_t);
int	 mconn_app_held(const struct app *);

#endif
