/*
 * Everything that crosses a process boundary inside mcpgated: the imsg
 * types, one enum for all, and their payloads.  Each type names who sends
 * it and who may receive it; a receiver refuses any other type or a
 * payload of the wrong size, and treats that as a compromised peer.
 */
#ifndef MCPGATE_PROTO_H
#define MCPGATE_PROTO_H

#include <stdint.h>

#include "config.h"
#include "log.h"
#include "sandbox.h"

enum proc_id {
	PROC_PARENT,
	PROC_NETD,
	PROC_MCPD,
	PROC_AUDITD,
	PROC_RESOLVER,
	PROC_MAX
};

/* The channel to the parent is this descriptor in every child. */
#define PROC_PARENT_FD		3

enum imsg_type {
	IMSG_NONE,

	/* Start-up, parent -> child, before the child sandboxes itself. */
	IMSG_INIT_CREDS,	/* parent -> any child: struct sandbox_creds */
	IMSG_INIT_CONF,		/* parent -> any child: struct conf_snapshot */
	IMSG_INIT_PEER,		/* parent -> any child: fd of a channel to
				   another child; struct init_peer */
	IMSG_INIT_LISTEN,	/* parent -> netd: fd of a bound, listening
				   socket; struct init_listen */
	IMSG_INIT_TLS_CERT,	/* parent -> netd: server certificate, PEM */
	IMSG_INIT_TLS_KEY,	/* parent -> netd: server private key, PEM */
	IMSG_INIT_CA_CERT,	/* parent -> netd, mcpd: CA certificate, PEM */
	IMSG_INIT_AUDIT_DIR,	/* parent -> auditd: fd of the audit
				   directory, no payload */
	IMSG_INIT_AUDIT_KEY,	/* parent -> auditd: struct audit_key */
	IMSG_INIT_DONE,		/* parent -> any child: no payload; sandbox
				   yourself and serve */
	IMSG_READY,		/* any child -> parent: no payload; serving */

	/* Running, parent <-> child. */
	IMSG_RECONF,		/* parent -> any child: struct conf_snapshot */
	IMSG_LOG,		/* any child -> parent: struct log_line */
	IMSG_STATUS_REQ,	/* parent -> netd, mcpd, auditd: no payload;
				   peerid is the control request */
	IMSG_STATUS_NETD,	/* netd -> parent: struct netd_status */
	IMSG_STATUS_MCPD,	/* mcpd -> parent: struct mcpd_status */
	IMSG_STATUS_AUDITD,	/* auditd -> parent: struct auditd_status */
	IMSG_STOP,		/* parent -> any child: no payload; the daemon
				   stops cleanly, the channel closes next */
	IMSG_DRAIN,		/* parent -> mcpd: no payload; the daemon is
				   stopping: end every session, take no new
				   one, answer IMSG_DRAINED once their
				   records are written */
	IMSG_DRAINED,		/* mcpd -> parent: no payload */

	/* Connections, netd <-> mcpd; peerid is the connection id. */
	IMSG_CONN_OPEN,		/* netd -> mcpd: struct conn_open */
	IMSG_CONN_DATA,		/* netd <-> mcpd: bytes from or to the peer */
	IMSG_CONN_ACK,		/* netd <-> mcpd: struct conn_ack, bytes the
				   receiver has consumed */
	IMSG_CONN_EOF,		/* netd -> mcpd: no payload; the client
				   closed its side (TLS close_notify) and
				   still reads */
	IMSG_CONN_CLOSE,	/* mcpd -> netd: close once written;
				   netd -> mcpd: the connection is gone */

	/* Audit; peerid is the sender's request id. */
	IMSG_AUDIT_RECORD,	/* parent, mcpd -> auditd: a JSON object with
				   "event" and the event's fields */
	IMSG_AUDIT_ACK,		/* auditd -> parent, mcpd: struct audit_ack */
	IMSG_AUDIT_RECORD_NOWAIT, /* mcpd -> auditd: a record as above that
				   nothing holds for; with fsync always it
				   is written at once and shares the next
				   sync, at most AUDITD_BATCH_SYNC_MS later */
	IMSG_AUDIT_ANCHOR,	/* auditd -> parent: struct audit_anchor, a
				   checkpoint written and synced; the parent
				   keeps it in state_dir/audit.anchor */
	IMSG_AUDIT_SEAL,	/* parent -> auditd: no payload; the daemon
				   stops: write and sync a final checkpoint,
				   report it, answer IMSG_AUDIT_SEALED */
	IMSG_AUDIT_SEALED,	/* auditd -> parent: no payload */
	IMSG_AUDIT_SYSLOG,	/* parent -> auditd: struct audit_syslog,
				   with the fd of a datagram socket
				   connected to /dev/log, or none; at start
				   (before IMSG_INIT_DONE) and at each
				   reload, replacing the one before */

	/* Identity. */
	IMSG_SNAPSHOT,		/* parent -> mcpd: a part of the roles and
				   users, whole YAML documents without
				   credentials; at set-up and after every
				   change */
	IMSG_SNAPSHOT_END,	/* parent -> mcpd: no payload; the parts
				   since the last end are the snapshot */
	IMSG_LOGIN_REQ,		/* mcpd -> parent: struct login_req; peerid
				   is the connection */
	IMSG_LOGIN_RESULT,	/* parent -> mcpd: struct login_result, then
				   the certificate in PEM when ok */

	/*
	 * stdio MCP servers, mcpd <-> parent; peerid is the connection.
	 * mcpd names an app; the parent alone decides what runs.
	 */
	IMSG_APP_START,		/* mcpd -> parent: struct app_start */
	IMSG_APP_STDIN,		/* parent -> mcpd: fd, the write end of the
				   server's stdin; struct app_ref */
	IMSG_APP_STARTED,	/* parent -> mcpd: fd, the read end of the
				   server's stdout; struct app_started;
				   follows IMSG_APP_STDIN */
	IMSG_APP_FAILED,	/* parent -> mcpd: struct app_failed; it
				   could not start, nothing runs */
	IMSG_APP_STOP,		/* mcpd -> parent: struct app_ref; the
				   session ended (mcpd closed its
				   descriptors): end the server, SIGTERM
				   after APP_TERM_MS, SIGKILL of its
				   namespace after APP_KILL_MS */
	IMSG_APP_EXITED,	/* parent -> mcpd: struct app_exited; the
				   server is gone and reaped, after
				   IMSG_APP_STARTED or IMSG_APP_STOP */

	/*
	 * The spawner, parent <-> spawner; peerid is the parent's number
	 * for the server.  The parent makes the pipes; the spawner forks
	 * the sandbox and execs.
	 */
	IMSG_SPAWN_FD,		/* parent -> spawner: fd, the server's end of
				   a pipe; struct spawn_fd */
	IMSG_SPAWN_START,	/* parent -> spawner: struct spawn_req, then
				   its strings; after three IMSG_SPAWN_FD */
	IMSG_SPAWN_STARTED,	/* spawner -> parent: struct spawn_started */
	IMSG_SPAWN_FAILED,	/* spawner -> parent: struct spawn_failed;
				   nothing runs */
	IMSG_SPAWN_STOP,	/* parent -> spawner: no payload; end it */
	IMSG_SPAWN_EXITED,	/* spawner -> parent: struct spawn_exited;
				   gone and reaped */

	/*
	 * HTTP MCP servers (Streamable HTTP and SSE).  netd alone talks
	 * to them; the parent tells it where it may go and what a
	 * session's identity headers are; mcpd says what to send and
	 * reads what comes back.  A request is named by its session
	 * (peerid: mcpd's connection id, and the struct's app_ref) and
	 * mcpd's number for it.
	 */
	IMSG_HTTP_ORIGIN,	/* parent -> netd: struct http_origin, then
				   its CA certificates in PEM (none: the
				   system's); the whole table follows
				   IMSG_HTTP_ORIGINS_BEGIN at start and at
				   each reload */
	IMSG_HTTP_ORIGINS_BEGIN, /* parent -> netd: no payload */
	IMSG_HTTP_ORIGINS_END,	/* parent -> netd: no payload; the new
				   table replaces the old */
	IMSG_HTTP_SESSION,	/* parent -> netd: struct http_session, then
				   the identity headers, "Name: value\r\n"
				   each */
	IMSG_HTTP_SESSION_READY, /* netd -> parent: struct http_key; netd
				   has the headers: only now does the parent
				   send mcpd IMSG_APP_HTTP, whose requests
				   would otherwise race them */
	IMSG_HTTP_SESSION_END,	/* parent -> netd: struct http_session_end;
				   forget (and zero) the headers */
	IMSG_APP_HTTP,		/* parent -> mcpd: struct app_http; the
				   session's HTTP server may be reached
				   through netd */
	IMSG_HTTP_REQ,		/* mcpd -> netd: struct http_req, then the
				   body */
	IMSG_HTTP_CANCEL,	/* mcpd -> netd: struct http_ref; abort */
	IMSG_HTTP_ACK,		/* mcpd -> netd: struct http_ack; body bytes
				   consumed (flow control, HTTP_WINDOW) */
	IMSG_HTTP_HEAD,		/* netd -> mcpd: struct http_head */
	IMSG_HTTP_BODY,		/* netd -> mcpd: struct http_ref, then bytes
				   of the body */
	IMSG_HTTP_DONE,		/* netd -> mcpd: struct http_done; the
				   request is over, whichever way */

	/* Name lookups, netd <-> resolver; peerid is netd's query. */
	IMSG_DNS_QUERY,		/* netd -> resolver: struct dns_query */
	IMSG_DNS_ANSWER,	/* resolver -> netd: struct dns_answer */

	IMSG_MAX
};

/* What the children need of the configuration; sent again on reload. */
struct conf_snapshot {
	char		 name[CONF_NAMELEN];
	int32_t		 log_level;
	int32_t		 app_enabled;
	int32_t		 mcp_demo_server;
	int32_t		 audit_fsync;
	int32_t		 audit_on_failure;
	uint32_t	 pad;
	uint64_t	 audit_max_file_size;
	uint64_t	 max_message_size;
	uint64_t	 max_connections;
	uint64_t	 handshake_timeout;	/* ms */
	uint64_t	 cert_ttl;		/* ms */
	uint64_t	 password_min_length;
	int64_t		 start_time;		/* us, the daemon's start */
	uint64_t	 max_buffered;		/* bytes */
	uint64_t	 max_json_values;
	uint64_t	 max_sessions_per_user;
	uint64_t	 max_connections_per_address;
	uint64_t	 init_timeout;		/* ms */
	uint64_t	 idle_timeout;		/* ms; 0: none */
};

struct init_peer {
	int32_t		 proc;		/* enum proc_id at the other end */
};

struct init_listen {
	char		 addr[CONF_ADDRLEN];	/* as bound, port resolved */
};

#define AUDIT_KEY_LEN	32
struct audit_key {
	uint8_t		 seed[AUDIT_KEY_LEN];	/* Ed25519 private key */
};

struct log_line {
	int32_t		 pri;
	char		 msg[LOG_LINE_MAX];
};

/*
 * The fixed label sets of the status counters, so that a peer cannot
 * make the parent's answer grow: the refusal codes of common/wire.h,
 * the MCP requests the gateway knows, what became of a request, and why
 * a server process ended.  Anything else counts as "other".  proto.c
 * names them; the order is the wire's, append only.
 */
enum status_refusal {
	STATUS_REF_BAD_REQUEST,
	STATUS_REF_UNKNOWN_OP,
	STATUS_REF_TIMEOUT,
	STATUS_REF_ACCESS_DENIED,
	STATUS_REF_THROTTLED,
	STATUS_REF_LOCKED_OUT,
	STATUS_REF_BUSY,
	STATUS_REF_WEAK_PASSWORD,
	STATUS_REF_LOCKED,
	STATUS_REF_AUDIT_UNAVAILABLE,
	STATUS_REF_INTERNAL,
	STATUS_REF_CERT_REQUIRED,
	STATUS_REF_UNKNOWN_USER,
	STATUS_REF_REVOKED,
	STATUS_REF_EXPIRED,
	STATUS_REF_UNKNOWN_APP,
	STATUS_REF_TOO_MANY_SESSIONS,
	STATUS_REF_STOPPING,
	STATUS_REF_OVER_BUDGET,
	STATUS_REF_OTHER,
	STATUS_REF_MAX
};

enum status_method {
	STATUS_M_INITIALIZE,
	STATUS_M_PING,
	STATUS_M_TOOLS_LIST,
	STATUS_M_TOOLS_CALL,
	STATUS_M_RESOURCES_LIST,
	STATUS_M_RESOURCES_TEMPLATES_LIST,
	STATUS_M_RESOURCES_READ,
	STATUS_M_RESOURCES_SUBSCRIBE,
	STATUS_M_RESOURCES_UNSUBSCRIBE,
	STATUS_M_PROMPTS_LIST,
	STATUS_M_PROMPTS_GET,
	STATUS_M_COMPLETION_COMPLETE,
	STATUS_M_LOGGING_SET_LEVEL,
	STATUS_M_OTHER,
	STATUS_M_MAX
};

enum status_result {
	STATUS_RES_SUCCESS,		/* answered, or passed on */
	STATUS_RES_DENIED,		/* the roles refused it */
	STATUS_RES_ERROR,		/* answered with an error here */
	STATUS_RES_MAX
};

enum status_exit {
	STATUS_EXIT_OK,			/* exited 0 */
	STATUS_EXIT_ERROR,		/* exited non-zero */
	STATUS_EXIT_SIGNAL,		/* a signal ended it */
	STATUS_EXIT_KILLED,		/* the gateway killed its namespace */
	STATUS_EXIT_OOM,		/* its cgroup ran out of memory */
	STATUS_EXIT_MAX
};

enum status_refusal status_refusal(const char *);
const char	*status_refusal_name(int);
enum status_method status_method(const char *);
const char	*status_method_name(int);
const char	*status_result_name(int);
const char	*status_exit_name(int);

/* Counters are since the start. */
struct netd_status {
	uint64_t	 conns;		/* open connections */
	uint64_t	 handshaking;
	uint64_t	 accepted;
	uint64_t	 refused;	/* over max_connections */
	uint64_t	 refused_address; /* over max_connections_per_address */
	uint64_t	 tls_failed;	/* handshakes failed or timed out */
	uint64_t	 handshake_timeouts;
	uint64_t	 close_timeouts; /* closed with output the client did
					   not read in time */
	uint64_t	 bytes_in;	/* from clients, after TLS */
	uint64_t	 bytes_out;	/* to clients */
	uint64_t	 http_requests;	/* to HTTP apps' servers, started */
	uint64_t	 http_failed;	/* of those, failed before an answer
					   ended: refused, TLS, timeout */
	uint64_t	 http_bytes_in;	/* response bodies from them */
	uint64_t	 http_bytes_out; /* request bodies to them */
};

/*
 * Sessions by app: the first STATUS_APPS_MAX - 1 apps that had one get a
 * slot each (configured apps, few); the last slot, named "", counts the
 * rest.  The parent checks the names and napps.
 */
#define STATUS_APPS_MAX		64
struct status_app {
	char		 name[64];		/* RES_NAMELEN */
	uint64_t	 open;
	uint64_t	 started;
};

struct mcpd_status {
	uint64_t	 conns;		/* open connections */
	uint64_t	 sessions;	/* open sessions */
	uint64_t	 buffered;	/* bytes held for connections here and
					   at netd, against max_buffered */
	uint64_t	 buffered_peak;
	uint64_t	 request_timeouts; /* no request line in time */
	uint64_t	 refused_sessions; /* over max_sessions_per_user */
	uint64_t	 init_timeouts;	/* no initialize in time */
	uint64_t	 idle_timeouts;
	uint64_t	 over_budget;	/* ended to keep within max_buffered */
	uint64_t	 too_large;	/* a message over max_message_size */
	uint64_t	 too_many_values; /* over max_json_values, refused */
	uint64_t	 refusals[STATUS_REF_MAX]; /* by the code sent */
	uint64_t	 logins_ok;
	uint64_t	 logins_failed[STATUS_REF_MAX]; /* by the code */
	uint64_t	 requests[STATUS_M_MAX][STATUS_RES_MAX];
	uint64_t	 tool_denials;	/* tools/call the roles refused */
	uint64_t	 app_denials;	/* connect to an app they hide */
	uint32_t	 napps;
	uint32_t	 pad;
	struct status_app apps[STATUS_APPS_MAX];
};

#define AUDIT_FILE_MAX	64
struct auditd_status {
	char		 file[AUDIT_FILE_MAX];	/* current file, in the dir */
	uint64_t	 seq;			/* last sequence number */
	uint64_t	 records;		/* written since start */
	uint64_t	 failures;		/* records that failed */
	uint64_t	 syncs;
	int32_t		 failing;		/* the last write failed */
	int32_t		 pad;
	uint64_t	 syslog_sent;		/* records sent to syslog */
	uint64_t	 syslog_dropped;	/* not sent: no socket, full,
						   refused */
	uint64_t	 syslog_truncated;	/* sent as a marker: too long */
	int32_t		 syslog_connected;	/* holds a /dev/log socket */
	int32_t		 pad2;
};

/* audit.syslog, as auditd needs it. */
struct audit_syslog {
	int32_t		 enabled;
	int32_t		 facility;		/* LOG_AUTHPRIV and so on */
	char		 tag[AUDIT_SYSLOG_TAGLEN];
};

#define CONN_ADDR_MAX	64
#define CONN_CN_MAX	65
#define CONN_SERIAL_MAX	41
struct conn_open {
	char		 remote[CONN_ADDR_MAX];	/* address:port */
	char		 local[CONN_ADDR_MAX];
	int32_t		 has_cert;		/* verified client cert */
	int32_t		 pad;
	char		 cert_cn[CONN_CN_MAX];
	char		 cert_serial[CONN_SERIAL_MAX];	/* hex */
	int64_t		 cert_not_before;	/* seconds */
	int64_t		 cert_not_after;
};

#define LOGIN_PASSWORD_MAX	512
#define LOGIN_PUBKEY_LEN	32	/* Ed25519 */
#define LOGIN_INVITE_LEN	64	/* hex */
struct login_req {
	char		 user[64];
	char		 password[LOGIN_PASSWORD_MAX + 1];
	char		 invite[LOGIN_INVITE_LEN + 1];
	char		 new_password[LOGIN_PASSWORD_MAX + 1];
	uint8_t		 pubkey[LOGIN_PUBKEY_LEN];
	int32_t		 with_invite;
	int32_t		 pad;
	uint64_t	 ttl;			/* ms; 0: cert_ttl */
	char		 remote[CONN_ADDR_MAX];
};

struct login_result {
	int32_t		 ok;
	int32_t		 pad;
	char		 error[32];		/* the code, when not ok */
	char		 message[256];
	int64_t		 not_after;		/* seconds */
};

struct conn_ack {
	uint64_t	 bytes;
};

/* Flow control: unacknowledged bytes in flight per connection. */
#define CONN_WINDOW	(256 * 1024)

/*
 * The largest message between the parent and mcpd: a part of the
 * snapshot holds one document at least, and the state directory may
 * hold one this large (a resource from before the bounds of mcpgatectl
 * create).  Not limits.max_message_size, which bounds the clients.
 */
#define SNAPSHOT_MSG_MAX	(64 * 1024 * 1024)

/* A session's server: the session's serial tells reused ids apart. */
struct app_ref {
	uint64_t	 serial;
	char		 session[33];
	char		 pad[7];
};

struct app_start {
	struct app_ref	 ref;
	char		 app[64];		/* RES_NAMELEN */
	char		 user[CONN_CN_MAX];	/* the certificate's CN */
	char		 pad[7];
	int64_t		 not_after;		/* seconds, the certificate's
						   end: an HTTP session's
						   token ends by then */
};

struct app_started {
	struct app_ref	 ref;
	int32_t		 pid;			/* in the host's namespace */
	int32_t		 pad;
	uint64_t	 init_timeout;		/* ms, the app's */
};

struct app_failed {
	struct app_ref	 ref;
	char		 message[256];		/* why, for the client */
};

struct app_exited {
	struct app_ref	 ref;
	int32_t		 status;		/* as wait(2) gives it */
	int32_t		 killed;		/* ended by SIGKILL of the
						   namespace */
};

/* --- HTTP MCP servers -------------------------------------------------- */

/* What an HTTP app may reach: one origin of the parent's table. */
#define HTTP_HOST_MAX	256
struct http_origin {
	char		 app[64];		/* RES_NAMELEN */
	char		 host[HTTP_HOST_MAX];	/* a name, or an address */
	uint16_t	 port;
	uint8_t		 tls;			/* https */
	uint8_t		 insecure;		/* tls.insecure_skip_verify */
	uint32_t	 pad;
	uint64_t	 timeout;		/* ms, the app's */
};

/* netd's key for a session's requests and headers. */
struct http_key {
	uint32_t	 conn;			/* mcpd's connection id */
	uint32_t	 pad;
	struct app_ref	 ref;
};

/* A session's identity headers, all their lines, at most. */
#define HTTP_HEADERS_MAX	(64 * 1024)
struct http_session {
	struct http_key	 key;
	char		 app[64];
	int64_t		 not_after;		/* seconds; the headers' end */
};

struct http_session_end {
	struct http_key	 key;
};

enum http_transport {
	HTTP_STREAMABLE,			/* 2025-03-26 and later */
	HTTP_SSE,				/* 2024-11-05 */
};

struct app_http {
	struct app_ref	 ref;
	int32_t		 transport;		/* enum http_transport */
	int32_t		 pad;
	uint64_t	 timeout;		/* ms */
	char		 path[1024];		/* of the MCP endpoint, or of
						   the SSE stream */
};

enum http_method {
	HTTP_POST,
	HTTP_GET,
	HTTP_DELETE,
};

/*
 * A request: path (the app's, or an SSE endpoint's, same origin) and
 * the MCP headers, which are all mcpd may set.
 */
#define HTTP_SESSIONID_MAX	256
#define HTTP_EVENTID_MAX	1024		/* SSE_ID_MAX */
struct http_req {
	struct http_key	 key;
	uint64_t	 reqid;			/* mcpd's, per session */
	int32_t		 method;		/* enum http_method */
	int32_t		 stream;		/* a long-lived GET: no timeout */
	char		 path[1024];
	char		 session_id[HTTP_SESSIONID_MAX]; /* Mcp-Session-Id */
	char		 protocol[32];		/* MCP-Protocol-Version */
	char		 last_event_id[HTTP_EVENTID_MAX + 1];
	char		 pad[7];
};

struct http_ref {
	struct http_key	 key;
	uint64_t	 reqid;
};

struct http_ack {
	struct http_ref	 r;
	uint64_t	 bytes;
};

enum http_ctype {
	HTTP_CT_NONE,
	HTTP_CT_JSON,				/* application/json */
	HTTP_CT_SSE,				/* text/event-stream */
	HTTP_CT_OTHER,
};

struct http_head {
	struct http_ref	 r;
	int32_t		 status;
	int32_t		 ctype;			/* enum http_ctype */
	char		 session_id[HTTP_SESSIONID_MAX]; /* "" when none */
	char		 location[1024];	/* of a 3xx, for the message */
};

enum http_error {
	HTTP_OK,				/* the body ended */
	HTTP_ERR_REFUSED,			/* the origin is not the app's */
	HTTP_ERR_RESOLVE,
	HTTP_ERR_CONNECT,
	HTTP_ERR_TLS,
	HTTP_ERR_TIMEOUT,
	HTTP_ERR_TOO_LARGE,			/* unacknowledged past the window */
	HTTP_ERR_BROKEN,			/* the connection broke */
	HTTP_ERR_CANCELLED,
	HTTP_ERR_LIMIT,				/* too many requests in flight */
};

struct http_done {
	struct http_ref	 r;
	int32_t		 error;			/* enum http_error */
	int32_t		 pad;
	char		 message[256];		/* for the log and the client */
};

/* A name for the resolver, and what it found. */
struct dns_query {
	char		 host[HTTP_HOST_MAX];	/* NUL-terminated */
};

#define DNS_ADDRS_MAX	16
struct dns_addr {
	uint8_t		 family;		/* AF_INET or AF_INET6 */
	uint8_t		 pad[3];
	uint8_t		 addr[16];		/* network order */
};

struct dns_answer {
	int32_t		 error;			/* 0, or an EAI_* */
	int32_t		 naddrs;
	struct dns_addr	 addrs[DNS_ADDRS_MAX];
	char		 message[128];		/* when error */
};

/* Body bytes in flight per request before netd stops reading. */
#define HTTP_WINDOW	(256 * 1024)

/* The end of a session's server: stdin closed, then these. */
#define APP_TERM_MS	2000
#define APP_KILL_MS	5000

/* The server's ends of its pipes, in this order. */
#define SPAWN_FD_STDIN	0
#define SPAWN_FD_STDOUT	1
#define SPAWN_FD_STDERR	2
struct spawn_fd {
	int32_t		 which;
};

/*
 * What to run, as the parent's configuration says: followed by the
 * strings, each NUL-terminated, in this order: command, cwd ("": the
 * user's home), nargs arguments, nenv "NAME=value", nread_only and
 * nwritable absolute paths.
 */
#define SPAWN_REQ_MAX	(256 * 1024)
struct spawn_req {
	char		 app[64];		/* RES_NAMELEN */
	char		 run_as[64];
	int32_t		 network;		/* enum app_network */
	int32_t		 restricted;		/* Landlock paths */
	uint64_t	 memory_max;
	uint64_t	 tasks_max;
	uint32_t	 nargs;
	uint32_t	 nenv;
	uint32_t	 nread_only;
	uint32_t	 nwritable;
};

struct spawn_started {
	int32_t		 pid;			/* the server's */
	int32_t		 init;			/* its init's */
};

struct spawn_failed {
	char		 message[256];
};

struct spawn_exited {
	int32_t		 status;		/* wait(2)'s */
	int32_t		 killed;		/* by SIGKILL */
	uint32_t	 oom_kills;		/* in its memory cgroup */
	uint32_t	 pad;
};

#define AUDIT_ACK_OK		0
#define AUDIT_ACK_FAILED	1	/* not written; errno says why */
struct audit_ack {
	int32_t		 status;
	int32_t		 error;		/* errno when failed */
	uint64_t	 seq;		/* the record's number when written */
};

/* The newest checkpoint on disk: its number and the SHA-256 of its line. */
struct audit_anchor {
	uint64_t	 seq;
	char		 sha256[65];		/* lowercase hex */
	char		 file[AUDIT_FILE_MAX];	/* the file that holds it */
	char		 pad[7];
};

const char	*proc_name(enum proc_id);
const char	*imsg_type_name(uint32_t);

#endif
