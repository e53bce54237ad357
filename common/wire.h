/*
 * The client-to-gateway protocol, as mcpgate-protocol(7) describes it:
 * what mcpgate(1) and the daemon (netd's TLS, mcpd's request line and
 * sessions) must spell the same way.  TLS 1.3 with ALPN mcpgate/1; the
 * client's first line is one JSON object with an "op"; the gateway
 * answers one JSON line, {"ok":false,"error":CODE,"message":TEXT} when it
 * refuses; after a connect the stream carries MCP JSON-RPC lines.  Both
 * sides include this header and never write these values again.
 */
#ifndef MCPGATE_WIRE_H
#define MCPGATE_WIRE_H

/* The one ALPN protocol, and its length-prefixed form for OpenSSL. */
#define WIRE_ALPN		"mcpgate/1"
#define WIRE_ALPN_PROTOS	"\x09" WIRE_ALPN
_Static_assert(sizeof(WIRE_ALPN) - 1 == 9, "WIRE_ALPN_PROTOS length byte");

#define WIRE_DEFAULT_PORT	"3080"

/* The request line: at most this many bytes, the newline not counted. */
#define WIRE_REQUEST_LINE_MAX	(16 * 1024)

/* The ops of a request line, {"op":NAME,...}. */
#define WIRE_OP_HELLO		"hello"
#define WIRE_OP_LOGIN		"login"
#define WIRE_OP_WHOAMI		"whoami"
#define WIRE_OP_APPS		"apps"
#define WIRE_OP_CONNECT		"connect"

/* The codes of a refusal, {"ok":false,"error":CODE,...}. */
#define WIRE_ERR_BAD_REQUEST	"bad_request"
#define WIRE_ERR_UNKNOWN_OP	"unknown_op"
#define WIRE_ERR_TIMEOUT	"timeout"
#define WIRE_ERR_ACCESS_DENIED	"access_denied"
#define WIRE_ERR_THROTTLED	"throttled"
#define WIRE_ERR_LOCKED_OUT	"locked_out"
#define WIRE_ERR_BUSY		"busy"
#define WIRE_ERR_WEAK_PASSWORD	"weak_password"
#define WIRE_ERR_LOCKED		"locked"
#define WIRE_ERR_AUDIT_UNAVAILABLE "audit_unavailable"
#define WIRE_ERR_INTERNAL	"internal"
#define WIRE_ERR_CERT_REQUIRED	"cert_required"
#define WIRE_ERR_UNKNOWN_USER	"unknown_user"
#define WIRE_ERR_REVOKED	"revoked"
#define WIRE_ERR_EXPIRED	"expired"
#define WIRE_ERR_UNKNOWN_APP	"unknown_app"
#define WIRE_ERR_TOO_MANY_SESSIONS "too_many_sessions"
#define WIRE_ERR_STOPPING	"stopping"
#define WIRE_ERR_OVER_BUDGET	"over_budget"

/*
 * The reasons of a session's end that the client acts on, besides the
 * refusal codes above that also end a session (expired, locked, ...):
 * the gateway's last line, an error with a null id, carries its reason
 * as the audit log records it, {"data":{"reason":CODE}}.
 */
#define WIRE_END_GATEWAY_STOPPING "gateway_stopping"
#define WIRE_END_SERVER_EXITED	"server_exited"
#define WIRE_END_IDLE_TIMEOUT	"idle_timeout"
/* An HTTP server forgot the session (404), or its stream ended. */
#define WIRE_END_SERVER_SESSION_ENDED "server_session_ended"
#define WIRE_END_SERVER_DISCONNECTED "server_disconnected"

/*
 * JSON-RPC 2.0 error codes in a session, and the one of the
 * implementation-defined range the gateway uses for its own errors (a
 * session that ends, the audit log that cannot be written).
 */
#define RPC_PARSE_ERROR		(-32700)
#define RPC_INVALID_REQUEST	(-32600)
#define RPC_METHOD_NOT_FOUND	(-32601)
#define RPC_INVALID_PARAMS	(-32602)
#define RPC_INTERNAL_ERROR	(-32603)
#define RPC_GATEWAY_ERROR	(-32000)

#endif
