#include <string.h>

#include "proto.h"
#include "wire.h"

const char *
proc_name(enum proc_id id)
{
	switch (id) {
	case PROC_PARENT:
		return ("parent");
	case PROC_NETD:
		return ("netd");
	case PROC_MCPD:
		return ("mcpd");
	case PROC_AUDITD:
		return ("auditd");
	case PROC_RESOLVER:
		return ("resolver");
	default:
		return ("unknown");
	}
}

const char *
imsg_type_name(uint32_t type)
{
	static const char *const names[IMSG_MAX] = {
		[IMSG_NONE] = "NONE",
		[IMSG_INIT_CREDS] = "INIT_CREDS",
		[IMSG_INIT_CONF] = "INIT_CONF",
		[IMSG_INIT_PEER] = "INIT_PEER",
		[IMSG_INIT_LISTEN] = "INIT_LISTEN",
		[IMSG_INIT_TLS_CERT] = "INIT_TLS_CERT",
		[IMSG_INIT_TLS_KEY] = "INIT_TLS_KEY",
		[IMSG_INIT_CA_CERT] = "INIT_CA_CERT",
		[IMSG_INIT_AUDIT_DIR] = "INIT_AUDIT_DIR",
		[IMSG_INIT_AUDIT_KEY] = "INIT_AUDIT_KEY",
		[IMSG_INIT_DONE] = "INIT_DONE",
		[IMSG_READY] = "READY",
		[IMSG_RECONF] = "RECONF",
		[IMSG_LOG] = "LOG",
		[IMSG_STATUS_REQ] = "STATUS_REQ",
		[IMSG_STATUS_NETD] = "STATUS_NETD",
		[IMSG_STATUS_MCPD] = "STATUS_MCPD",
		[IMSG_STATUS_AUDITD] = "STATUS_AUDITD",
		[IMSG_STOP] = "STOP",
		[IMSG_DRAIN] = "DRAIN",
		[IMSG_DRAINED] = "DRAINED",
		[IMSG_CONN_OPEN] = "CONN_OPEN",
		[IMSG_CONN_DATA] = "CONN_DATA",
		[IMSG_CONN_ACK] = "CONN_ACK",
		[IMSG_CONN_EOF] = "CONN_EOF",
		[IMSG_CONN_CLOSE] = "CONN_CLOSE",
		[IMSG_AUDIT_RECORD] = "AUDIT_RECORD",
		[IMSG_AUDIT_ACK] = "AUDIT_ACK",
		[IMSG_AUDIT_RECORD_NOWAIT] = "AUDIT_RECORD_NOWAIT",
		[IMSG_AUDIT_ANCHOR] = "AUDIT_ANCHOR",
		[IMSG_AUDIT_SEAL] = "AUDIT_SEAL",
		[IMSG_AUDIT_SEALED] = "AUDIT_SEALED",
		[IMSG_AUDIT_SYSLOG] = "AUDIT_SYSLOG",
		[IMSG_SNAPSHOT] = "SNAPSHOT",
		[IMSG_SNAPSHOT_END] = "SNAPSHOT_END",
		[IMSG_LOGIN_REQ] = "LOGIN_REQ",
		[IMSG_LOGIN_RESULT] = "LOGIN_RESULT",
		[IMSG_APP_START] = "APP_START",
		[IMSG_APP_STDIN] = "APP_STDIN",
		[IMSG_APP_STARTED] = "APP_STARTED",
		[IMSG_APP_FAILED] = "APP_FAILED",
		[IMSG_APP_STOP] = "APP_STOP",
		[IMSG_APP_EXITED] = "APP_EXITED",
		[IMSG_SPAWN_FD] = "SPAWN_FD",
		[IMSG_SPAWN_START] = "SPAWN_START",
		[IMSG_SPAWN_STARTED] = "SPAWN_STARTED",
		[IMSG_SPAWN_FAILED] = "SPAWN_FAILED",
		[IMSG_SPAWN_STOP] = "SPAWN_STOP",
		[IMSG_SPAWN_EXITED] = "SPAWN_EXITED",
		[IMSG_HTTP_ORIGIN] = "HTTP_ORIGIN",
		[IMSG_HTTP_ORIGINS_BEGIN] = "HTTP_ORIGINS_BEGIN",
		[IMSG_HTTP_ORIGINS_END] = "HTTP_ORIGINS_END",
		[IMSG_HTTP_SESSION] = "HTTP_SESSION",
		[IMSG_HTTP_SESSION_READY] = "HTTP_SESSION_READY",
		[IMSG_HTTP_SESSION_END] = "HTTP_SESSION_END",
		[IMSG_APP_HTTP] = "APP_HTTP",
		[IMSG_HTTP_REQ] = "HTTP_REQ",
		[IMSG_HTTP_CANCEL] = "HTTP_CANCEL",
		[IMSG_HTTP_ACK] = "HTTP_ACK",
		[IMSG_HTTP_HEAD] = "HTTP_HEAD",
		[IMSG_HTTP_BODY] = "HTTP_BODY",
		[IMSG_HTTP_DONE] = "HTTP_DONE",
		[IMSG_DNS_QUERY] = "DNS_QUERY",
		[IMSG_DNS_ANSWER] = "DNS_ANSWER",
	};

	if (type >= IMSG_MAX || names[type] == NULL)
		return ("?");
	return (names[type]);
}

/* The status counters' label sets, in the order of their enums. */
static const char *const status_refusals[STATUS_REF_MAX] = {
	[STATUS_REF_BAD_REQUEST] = WIRE_ERR_BAD_REQUEST,
	[STATUS_REF_UNKNOWN_OP] = WIRE_ERR_UNKNOWN_OP,
	[STATUS_REF_TIMEOUT] = WIRE_ERR_TIMEOUT,
	[STATUS_REF_ACCESS_DENIED] = WIRE_ERR_ACCESS_DENIED,
	[STATUS_REF_THROTTLED] = WIRE_ERR_THROTTLED,
	[STATUS_REF_LOCKED_OUT] = WIRE_ERR_LOCKED_OUT,
	[STATUS_REF_BUSY] = WIRE_ERR_BUSY,
	[STATUS_REF_WEAK_PASSWORD] = WIRE_ERR_WEAK_PASSWORD,
	[STATUS_REF_LOCKED] = WIRE_ERR_LOCKED,
	[STATUS_REF_AUDIT_UNAVAILABLE] = WIRE_ERR_AUDIT_UNAVAILABLE,
	[STATUS_REF_INTERNAL] = WIRE_ERR_INTERNAL,
	[STATUS_REF_CERT_REQUIRED] = WIRE_ERR_CERT_REQUIRED,
	[STATUS_REF_UNKNOWN_USER] = WIRE_ERR_UNKNOWN_USER,
	[STATUS_REF_REVOKED] = WIRE_ERR_REVOKED,
	[STATUS_REF_EXPIRED] = WIRE_ERR_EXPIRED,
	[STATUS_REF_UNKNOWN_APP] = WIRE_ERR_UNKNOWN_APP,
	[STATUS_REF_TOO_MANY_SESSIONS] = WIRE_ERR_TOO_MANY_SESSIONS,
	[STATUS_REF_STOPPING] = WIRE_ERR_STOPPING,
	[STATUS_REF_OVER_BUDGET] = WIRE_ERR_OVER_BUDGET,
	[STATUS_REF_OTHER] = "other",
};

static const char *const status_methods[STATUS_M_MAX] = {
	[STATUS_M_INITIALIZE] = "initialize",
	[STATUS_M_PING] = "ping",
	[STATUS_M_TOOLS_LIST] = "tools/list",
	[STATUS_M_TOOLS_CALL] = "tools/call",
	[STATUS_M_RESOURCES_LIST] = "resources/list",
	[STATUS_M_RESOURCES_TEMPLATES_LIST] = "resources/templates/list",
	[STATUS_M_RESOURCES_READ] = "resources/read",
	[STATUS_M_RESOURCES_SUBSCRIBE] = "resources/subscribe",
	[STATUS_M_RESOURCES_UNSUBSCRIBE] = "resources/unsubscribe",
	[STATUS_M_PROMPTS_LIST] = "prompts/list",
	[STATUS_M_PROMPTS_GET] = "prompts/get",
	[STATUS_M_COMPLETION_COMPLETE] = "completion/complete",
	[STATUS_M_LOGGING_SET_LEVEL] = "logging/setLevel",
	[STATUS_M_OTHER] = "other",
};

static const char *const status_results[STATUS_RES_MAX] = {
	[STATUS_RES_SUCCESS] = "success",
	[STATUS_RES_DENIED] = "denied",
	[STATUS_RES_ERROR] = "error",
};

static const char *const status_exits[STATUS_EXIT_MAX] = {
	[STATUS_EXIT_OK] = "exit_ok",
	[STATUS_EXIT_ERROR] = "exit_error",
	[STATUS_EXIT_SIGNAL] = "signal",
	[STATUS_EXIT_KILLED] = "killed",
	[STATUS_EXIT_OOM] = "oom",
};

enum status_refusal
status_refusal(const char *code)
{
	int	 i;

	for (i = 0; i < STATUS_REF_OTHER; i++)
		if (strcmp(code, status_refusals[i]) == 0)
			return (i);
	return (STATUS_REF_OTHER);
}

const char *
status_refusal_name(int i)
{
	return (i >= 0 && i < STATUS_REF_MAX ? status_refusals[i] : "?");
}

enum status_method
status_method(const char *method)
{
	int	 i;

	if (method == NULL)
		return (STATUS_M_OTHER);
	for (i = 0; i < STATUS_M_OTHER; i++)
		if (strcmp(method, status_methods[i]) == 0)
			return (i);
	return (STATUS_M_OTHER);
}

const char *
status_method_name(int i)
{
	return (i >= 0 && i < STATUS_M_MAX ? status_methods[i] : "?");
}

const char *
status_result_name(int i)
{
	return (i >= 0 && i < STATUS_RES_MAX ? status_results[i] : "?");
}

const char *
status_exit_name(int i)
{
	return (i >= 0 && i < STATUS_EXIT_MAX ? status_exits[i] : "?");
}
