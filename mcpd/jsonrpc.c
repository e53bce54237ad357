/*
 * JSON-RPC 2.0 messages as MCP sends them: one object per line.  This is
 * the parser of everything a client sends in a session; it checks the
 * shape and says which error a bad line deserves.  It has a fuzz target.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mcpd.h"

/*
 * How many JSON values the text holds, counting each object, array,
 * string (keys too) and scalar once, without building anything: the
 * check before a message is parsed, so that a message of a million empty
 * arrays costs a scan and not a tree.  Stops counting past max.  Text
 * that is not JSON is counted all the same; the parser then says why.
 */
size_t
json_count_values(const char *s, size_t len, size_t max)
{
	size_t	 i, n = 0;
	int	 instr = 0, after_sep = 1;
	char	 ch;

	for (i = 0; i < len && n <= max; i++) {
		ch = s[i];
		if (instr) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				instr = 0;
			continue;
		}
		switch (ch) {
		case '"':
			instr = 1;
			n++;
			after_sep = 0;
			break;
		case '{':
		case '[':
			n++;
			after_sep = 1;
			break;
		case ',':
		case ':':
			after_sep = 1;
			break;
		case '}':
		case ']':
			after_sep = 0;
			break;
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			break;
		default:
			/* A number or a literal starts after a separator. */
			if (after_sep)
				n++;
			after_sep = 0;
			break;
		}
	}
	return (n);
}

/*
 * The id of a message refused before it was parsed, so that the client
 * hears which request it was: the value of "id" at the top level, found
 * by a scan, when it is an integer or a string of at most 256 bytes.
 */
static json_t *
rpc_peek_id(const char *s, size_t len)
{
	json_error_t	 jerr;
	json_t		*id;
	size_t		 i, key = 0, v;
	int		 depth = 0, instr = 0, inkey = 0, want_key = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\') {
				i++;
				continue;
			}
			if (s[i] != '"')
				continue;
			instr = 0;
			if (!inkey)
				continue;
			inkey = 0;
			if (i - key != 2 || memcmp(s + key, "id", 2) != 0)
				continue;
			/* "id": the value after the colon. */
			for (v = i + 1; v < len && strchr(" \t\r\n:", s[v]) !=
			    NULL; v++)
				;
			for (i = v; i < len && i - v <= 258; i++) {
				if (s[v] == '"' ? (i > v && s[i] == '"' &&
				    s[i - 1] != '\\') : strchr(",} \t\r\n",
				    s[i]) != NULL)
					break;
			}
			if (i == len || i - v > 258)
				return (NULL);
			if (s[v] == '"')
				i++;
			id = json_loadb(s + v, i - v, JSON_DECODE_ANY, &jerr);
			if (id != NULL && !json_is_integer(id) &&
			    !json_is_string(id)) {
				json_decref(id);
				id = NULL;
			}
			return (id);
		}
		switch (s[i]) {
		case '{':
			want_key = ++depth == 1;
			break;
		case '[':
			depth++;
			want_key = 0;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ',':
			want_key = depth == 1;
			break;
		case '"':
			instr = 1;
			if (depth == 1 && want_key) {
				inkey = 1;
				key = i + 1;
			}
			want_key = 0;
			break;
		}
	}
	return (NULL);
}

static void
rpc_invalid(struct rpc *r, int code, json_t *id, const char *msg)
{
	r->kind = RPC_INVALID;
	r->error_code = code;
	r->id = id;
	strlcpy(r->error, msg, sizeof(r->error));
}

/*
 * Parse one line (without its newline), refusing one of more than
 * maxvals JSON values before building it.  The result is always filled:
 * a request, a notification, a response, RPC_EMPTY for a blank line, or
 * RPC_INVALID with the JSON-RPC error code and message to answer with,
 * and the id to answer to (JSON null when it could not be read).  Free
 * with rpc_free().
 */
void
rpc_parse(const char *line, size_t len, size_t maxvals, struct rpc *r)
{
	json_error_t	 jerr;
	json_t		*v, *id;
	size_t		 i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len) {
		r->kind = RPC_EMPTY;
		return;
	}
	if (json_count_values(line, len, maxvals) > maxvals) {
		r->peeked_id = rpc_peek_id(line, len);
		rpc_invalid(r, RPC_INVALID_REQUEST, r->peeked_id, "");
		snprintf(r->error, sizeof(r->error), "Invalid Request: the "
		    "message holds more than %zu JSON values, the most this "
		    "gateway takes (limits.max_json_values)", maxvals);
		r->too_many_values = 1;
		return;
	}
	r->msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->msg == NULL) {
		rpc_invalid(r, RPC_PARSE_ERROR, NULL, "Parse error");
		snprintf(r->error, sizeof(r->error), "Parse error: %s",
		    jerr.text);
		return;
	}
	if (json_is_array(r->msg)) {
		rpc_invalid(r, RPC_INVALID_REQUEST, NULL, "Invalid Request: "
		    "batches are not supported");
		return;
	}
	if (!json_is_object(r->msg)) {
		rpc_invalid(r, RPC_INVALID_REQUEST, NULL, "Invalid Request: "
		    "a message is a JSON object");
		return;
	}
	id = json_object_get(r->msg, "id");
	if (id != NULL && !json_is_string(id) && !json_is_integer(id)) {
		rpc_invalid(r, RPC_INVALID_REQUEST, NULL, "Invalid Request: "
		    "\"id\" must be a string or an integer");
		return;
	}
	v = json_object_get(r->msg, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		rpc_invalid(r, RPC_INVALID_REQUEST, id, "Invalid Request: "
		    "\"jsonrpc\" must be \"2.0\"");
		return;
	}
	if ((v = json_object_get(r->msg, "method")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			rpc_invalid(r, RPC_INVALID_REQUEST, id, "Invalid "
			    "Request: \"method\" must be a string");
			return;
		}
		r->method = json_string_value(v);
		r->params = json_object_get(r->msg, "params");
		if (r->params != NULL && !json_is_object(r->params)) {
			rpc_invalid(r, RPC_INVALID_REQUEST, id, "Invalid "
			    "Request: \"params\" must be an object");
			return;
		}
		if (json_object_get(r->msg, "result") != NULL ||
		    json_object_get(r->msg, "error") != NULL) {
			rpc_invalid(r, RPC_INVALID_REQUEST, id, "Invalid "
			    "Request: a request has no result or error");
			return;
		}
		r->id = id;
		r->kind = id != NULL ? RPC_REQUEST : RPC_NOTIFICATION;
		return;
	}
	if (id != NULL && ((json_object_get(r->msg, "result") != NULL) !=
	    (json_object_get(r->msg, "error") != NULL))) {
		r->id = id;
		r->kind = RPC_RESPONSE;
		return;
	}
	rpc_invalid(r, RPC_INVALID_REQUEST, id, "Invalid Request: neither a "
	    "request, a notification nor a response");
}

void
rpc_free(struct rpc *r)
{
	json_decref(r->msg);
	json_decref(r->peeked_id);
	memset(r, 0, sizeof(*r));
}

/* {"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":MSG}} */
json_t *
rpc_error(json_t *id, int code, const char *msg)
{
	return (json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
	    id != NULL ? id : json_null(), "error", "code", code, "message",
	    msg));
}

/* {"jsonrpc":"2.0","id":ID,"result":RESULT}; takes result. */
json_t *
rpc_result(json_t *id, json_t *result)
{
	return (json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id,
	    "result", result));
}

/* {"jsonrpc":"2.0","method":METHOD} */
json_t *
rpc_notification(const char *method)
{
	return (json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method));
}
