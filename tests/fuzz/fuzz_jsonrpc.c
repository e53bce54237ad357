/*
 * Fuzz mcpd's handling of an MCP session end to end: the input is what
 * an authenticated client sends after {"op":"connect"} (framing, UTF-8,
 * JSON-RPC parsing, the lifecycle, the policy and the demo server), cut
 * into reads as its first byte says, with auditd's answers written or
 * failed as its second byte says.  Every line mcpd writes back must be
 * one JSON object; nothing may crash, leak or exit.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../mcpd/mcpd.h"
#include "log.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct mcpd	 state;
static struct imsgbuf	 netd_peer, auditd_peer;
static int		 ready;

static const char snapshot[] =
    "kind: role\nversion: v1\nmetadata: {name: fuzz}\nspec:\n"
    "  allow:\n    app_labels: {env: demo}\n"
    "    mcp: {tools: ['mcpgate_*', '^mcpgate_(user|x)_info$',"
    " '{{internal.mcp_tools}}']}\n"
    "  deny:\n    mcp: {tools: [mcpgate_demo_info]}\n"
    "---\n"
    "kind: user\nversion: v1\nmetadata: {name: fuzz}\n"
    "spec:\n  roles: [fuzz]\n  traits: {mcp_tools: ['*_info']}\n"
    "status:\n  generation: 00000000000000aa\n";

static void
setup(void)
{
	int	 n[2], a[2];

	log_init(1, LOG_DAEMON);
	log_setlevel(LOG_LVL_ERROR);
	mcpd = &state;
	RB_INIT(&mcpd->conns);
	RB_INIT(&mcpd->user_sessions);
	TAILQ_INIT(&mcpd->blocked);
	strlcpy(mcpd->conf.name, "fuzzgate", sizeof(mcpd->conf.name));
	mcpd->conf.app_enabled = 1;
	mcpd->conf.mcp_demo_server = 1;
	mcpd->conf.max_message_size = 64 * 1024;
	mcpd->conf.handshake_timeout = 10000;
	/* Small, for the fuzzer to reach the refusals. */
	mcpd->conf.max_buffered = 1024 * 1024;
	mcpd->conf.max_json_values = 2000;
	mcpd->conf.max_sessions_per_user = 4;
	mcpd->conf.init_timeout = 30000;
	if (ev_init() == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, n) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a) == -1)
		abort();
	child_chan_init(&mcpd->netd, n[0], 0, NULL, NULL);
	child_chan_init(&mcpd->auditd, a[0], 0, NULL, NULL);
	if (imsgbuf_init(&netd_peer, n[1]) == -1 ||
	    imsgbuf_init(&auditd_peer, a[1]) == -1)
		abort();
	imsgbuf_set_maxmsg(&auditd_peer, 1024 * 1024);
	mconn_budget_init();
	identity_snapshot(snapshot, sizeof(snapshot) - 1);
	identity_snapshot_end();
	ready = 1;
}

/* Every line mcpd wrote to the client is one JSON object. */
static void
check_lines(const char *out, size_t len)
{
	json_error_t	 jerr;
	const char	*p = out, *nl;
	json_t		*o;

	while ((nl = memchr(p, '\n', len - (size_t)(p - out))) != NULL) {
		if ((o = json_loadb(p, (size_t)(nl - p), 0, &jerr)) == NULL ||
		    !json_is_object(o)) {
			fprintf(stderr, "mcpd wrote a bad line: %.*s\n",
			    (int)(nl - p), p);
			abort();
		}
		json_decref(o);
		p = nl + 1;
	}
}

/*
 * Move what mcpd queued to its peers; acknowledge netd's bytes and
 * answer auditd's records.  Returns 1 while something moved.
 */
static int
pump(uint32_t id, int audit_ok, char **out, size_t *outlen)
{
	struct imsg		 imsg;
	struct audit_ack	 ack;
	struct conn_ack		 cack;
	const void		*data;
	size_t			 len;
	int			 moved = 0;

	while (imsgbuf_queuelen(&mcpd->netd.ibuf) > 0 ||
	    imsgbuf_queuelen(&mcpd->auditd.ibuf) > 0) {
		if (imsgbuf_write(&mcpd->netd.ibuf) == -1 ||
		    imsgbuf_write(&mcpd->auditd.ibuf) == -1)
			abort();
		if (imsgbuf_read(&netd_peer) == -1 ||
		    imsgbuf_read(&auditd_peer) == -1)
			abort();
		while (imsgbuf_get(&netd_peer, &imsg) > 0) {
			if (imsg_get_type(&imsg) == IMSG_CONN_DATA) {
				imsg_get_buf(&imsg, &data, &len);
				if ((*out = realloc(*out, *outlen + len)) ==
				    NULL)
					abort();
				memcpy(*out + *outlen, data, len);
				*outlen += len;
				cack.bytes = len;
				mconn_ack(id, cack.bytes);
			}
			imsg_free(&imsg);
			moved = 1;
		}
		while (imsgbuf_get(&auditd_peer, &imsg) > 0) {
			memset(&ack, 0, sizeof(ack));
			ack.status = audit_ok ? AUDIT_ACK_OK :
			    AUDIT_ACK_FAILED;
			ack.error = 28;		/* ENOSPC */
			audit_acked(imsg_get_id(&imsg), &ack);
			imsg_free(&imsg);
			moved = 1;
		}
	}
	return (moved);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t		 id;
	static const char	 connect[] =
	    "{\"op\":\"connect\",\"app\":\"mcpgate-demo\"}\n";
	struct conn_open	 co;
	char			*out = NULL;
	size_t			 outlen = 0, off, chunk, step;
	int			 audit_ok;

	if (!ready)
		setup();
	if (size < 2)
		return (0);
	step = 1 + (size_t)data[0] * 64;
	audit_ok = data[1] != 0xff;
	data += 2;
	size -= 2;

	memset(&co, 0, sizeof(co));
	strlcpy(co.remote, "127.0.0.1:1", sizeof(co.remote));
	co.has_cert = 1;
	strlcpy(co.cert_cn, "fuzz", sizeof(co.cert_cn));
	strlcpy(co.cert_serial, "AA0000000000000001", sizeof(co.cert_serial));
	co.cert_not_after = time(NULL) + 3600;
	if (++id == 0)
		id = 1;
	mconn_open(id, &co);
	mconn_data(id, (const unsigned char *)connect, sizeof(connect) - 1);
	pump(id, audit_ok, &out, &outlen);
	for (off = 0; off < size && mconn_find(id) != NULL; off += chunk) {
		chunk = size - off < step ? size - off : step;
		mconn_data(id, data + off, chunk);
		while (pump(id, audit_ok, &out, &outlen))
			;
	}
	if (mconn_find(id) != NULL)
		mconn_eof(id);
	while (pump(id, audit_ok, &out, &outlen))
		;
	if (mconn_find(id) != NULL)
		mconn_closed(id);
	pump(id, audit_ok, &out, &outlen);
	check_lines(out, outlen);
	free(out);
	return (0);
}
