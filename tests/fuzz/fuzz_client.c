/*
 * Fuzz what the client makes of text it did not write: a line from the
 * gateway or from the AI client, as the stdio bridge reads it
 * (client/rpc.c), and a JSON file of an AI client's configuration, as
 * `mcpgate mcp config` edits it (client/jsonout.c).  Checks:
 * - rpc_classify is consistent with the message: a request or a response
 *   has a string or integer id, a request or a notification a method;
 *   an error answer to a request carries its id back; the pending ids
 *   count each use of an id, added and answered;
 * - what reconnection reads: an end's reason code comes only with an
 *   end; an answer to initialize is a response, with its server's name
 *   and protocol version as strings; the transient codes are a few
 *   exact strings;
 * - json_text writes a value that reads back as the same value, reals
 *   included (it rewrites them in their shortest form);
 * - json_key_pos finds the value of a plainly written top-level key
 *   where that value really starts.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../client/client.h"
#include "../../client/rpc.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_reconnect(json_t *msg, enum bridge_rpc_kind kind)
{
	const char	*code, *name = NULL, *proto = NULL, *m;

	code = rpc_end_code(msg);
	if (code != NULL && rpc_end_reason(msg) == NULL)
		abort();
	/* Transient: only the few codes, and never an empty one. */
	if (rpc_end_transient(code) && (code == NULL || code[0] == '\0' ||
	    (strcmp(code, "gateway_stopping") != 0 &&
	    strcmp(code, "server_exited") != 0 &&
	    strcmp(code, "expired") != 0 &&
	    strcmp(code, "audit_unavailable") != 0)))
		abort();
	if (rpc_refusal_transient(NULL) || rpc_refusal_transient("") ||
	    rpc_end_transient(NULL))
		abort();
	if (rpc_init_result(msg, &name, &proto) && (kind != BRPC_RESPONSE ||
	    name == NULL || proto == NULL ||
	    !json_is_object(json_object_get(msg, "result"))))
		abort();
	m = json_string_value(json_object_get(msg, "method"));
	if (rpc_is_method(msg, "initialize") != (m != NULL &&
	    strcmp(m, "initialize") == 0))
		abort();
}

static void
check_rpc(json_t *msg)
{
	struct pending		*p;
	enum bridge_rpc_kind	 kind = rpc_classify(msg);
	json_t			*id, *back;
	char			*line;
	size_t			 len;

	id = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
	if ((kind == BRPC_REQUEST || kind == BRPC_RESPONSE) &&
	    !json_is_string(id) && !json_is_integer(id))
		abort();
	if ((kind == BRPC_REQUEST || kind == BRPC_NOTIFICATION) &&
	    json_object_get(msg, "method") == NULL)
		abort();
	if (kind == BRPC_NOTIFICATION && id != NULL)
		abort();
	if (rpc_end_reason(msg) != NULL && kind != BRPC_OTHER)
		abort();
	if (rpc_cancelled(msg) != NULL && kind != BRPC_NOTIFICATION)
		abort();
	check_reconnect(msg, kind);
	if (kind != BRPC_REQUEST)
		return;

	/* The bridge answers a request it cannot pass on with its id. */
	line = rpc_error_line(id, -32000, "retry", &len);
	if (len == 0 || line[len - 1] != '\n' ||
	    (back = json_loadb(line, len, 0, NULL)) == NULL ||
	    !json_equal(json_object_get(back, "id"), id) ||
	    rpc_classify(back) != BRPC_RESPONSE)
		abort();
	json_decref(back);
	free(line);

	if ((p = pending_new()) == NULL)
		abort();
	/* A client may reuse an id: each use is answered once. */
	pending_add(p, id);
	pending_add(p, id);
	if (pending_count(p) != 2)
		abort();
	pending_del(p, id);
	if (pending_count(p) != 1 || (back = pending_take(p)) == NULL ||
	    !json_equal(back, id) || pending_count(p) != 0 ||
	    pending_take(p) != NULL)
		abort();
	json_decref(back);
	pending_add(p, id);
	pending_destroy(p);	/* frees what still waits */
}

static void
check_text(json_t *v)
{
	json_t	*back;
	char	*text;
	size_t	 len;
	int	 pretty;

	for (pretty = 0; pretty <= 1; pretty++) {
		text = json_text(v, pretty, &len);
		if (len == 0 || text[len - 1] != '\n' ||
		    (back = json_loadb(text, len, JSON_DECODE_ANY, NULL)) ==
		    NULL || !json_equal(back, v))
			abort();
		json_decref(back);
		free(text);
	}
}

/* The byte offset of a line and column as json_text_pos counts them. */
static size_t
offset_of(const char *text, size_t len, int line, int col)
{
	size_t	 i;
	int	 l = 1, c = 1;

	for (i = 0; i < len; i++) {
		if (l == line && c == col)
			return (i);
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			c++;
	}
	return (len);
}

static void
check_key_pos(const char *text, size_t len, json_t *obj)
{
	const char	*key;
	json_t		*v, *at;
	size_t		 off;
	int		 line, col;

	json_object_foreach(obj, key, v) {
		/* Only keys that cannot be written in another way. */
		if (key[0] == '\0' || strspn(key, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(key))
			continue;
		if (json_key_pos(text, len, key, &line, &col) == -1)
			continue;	/* written with \u escapes */
		if (line < 1 || col < 1)
			abort();
		off = offset_of(text, len, line, col);
		if (off >= len || (at = json_loadb(text + off, len - off,
		    JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL)) == NULL)
			abort();
		if (!json_equal(at, v))
			abort();
		json_decref(at);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data;
	json_t		*v;

	/* As the bridge reads a line, and as mcp config reads a file. */
	if ((v = json_loadb(text, size, 0, NULL)) != NULL) {
		check_rpc(v);
		json_decref(v);
	}
	if ((v = json_loadb(text, size, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, NULL)) != NULL) {
		check_text(v);
		if (json_is_object(v))
			check_key_pos(text, size, v);
		json_decref(v);
	}
	return (0);
}
