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
		"NONE", "INIT_CREDS", "INIT_CONF", "INIT_PEER", "INIT_LISTEN",
		"INIT_TLS_CERT", "INIT_TLS_KEY", "INIT_CA_CERT",
		"INIT_AUDIT_DIR", "INIT_AUDIT_KEY", "INIT_DONE", "READY",
		"RECONF", "LOG", "STATUS_REQ", "STATUS_NETD", "STATUS_AUDITD",
		"STOP", "DRAIN", "DRAINED",
		"CONN_OPEN", "CONN_DATA", "CONN_ACK", "CONN_EOF", "CONN_CLOSE",
		"AUDIT_RECORD", "AUDIT_ACK", "AUDIT_RECORD_NOWAIT", "SNAPSHOT", "LOGIN_REQ",
		"LOGIN_RESULT",
	};

	if (type >= IMSG_MAX)
		return ("?");
	return (names[type]);
}
