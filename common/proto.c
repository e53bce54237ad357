#include "proto.h"

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
		[IMSG_SNAPSHOT] = "SNAPSHOT",
		[IMSG_SNAPSHOT_END] = "SNAPSHOT_END",
		[IMSG_LOGIN_REQ] = "LOGIN_REQ",
		[IMSG_LOGIN_RESULT] = "LOGIN_RESULT",
	};

	if (type >= IMSG_MAX || names[type] == NULL)
		return ("?");
	return (names[type]);
}
