/*
 * The request line: the first line a client sends, one JSON object of at
 * most WIRE_REQUEST_LINE_MAX bytes with an "op".  This is the only parser of
 * network input before a session starts, and it has a fuzz target.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mcpd.h"

static const struct {
	const char	*name;
	enum request_op	 op;
} ops[] = {
	{ WIRE_OP_HELLO, OP_HELLO },
	{ WIRE_OP_LOGIN, OP_LOGIN },
	{ WIRE_OP_WHOAMI, OP_WHOAMI },
	{ WIRE_OP_APPS, OP_APPS },
	{ WIRE_OP_CONNECT, OP_CONNECT },
};

/*
 * Parse one line (without its newline).  Returns 0 with req filled, or
 * -1 with an error code for the client in *code and a sentence in err.
 */
int
request_parse(const char *line, size_t len, struct request *req,
    const char **code, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*obj, *op;
	const char	*name;
	size_t		 i;

	memset(req, 0, sizeof(*req));
	*code = WIRE_ERR_BAD_REQUEST;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		snprintf(err, errlen, "empty request line");
		return (-1);
	}
	if (len > WIRE_REQUEST_LINE_MAX) {
		snprintf(err, errlen, "request line longer than %d bytes",
		    WIRE_REQUEST_LINE_MAX);
		return (-1);
	}
	if ((obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(err, errlen, "request line is not valid JSON: %s",
		    jerr.text);
		return (-1);
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		snprintf(err, errlen, "request line must be a JSON object");
		return (-1);
	}
	op = json_object_get(obj, "op");
	if (!json_is_string(op)) {
		json_decref(obj);
		snprintf(err, errlen, "request needs \"op\" as a string");
		return (-1);
	}
	name = json_string_value(op);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(ops[i].name, name) == 0) {
			req->op = ops[i].op;
			req->obj = obj;
			return (0);
		}
	}
	*code = WIRE_ERR_UNKNOWN_OP;
	snprintf(err, errlen, "unknown op '%.64s'; this gateway knows hello, "
	    "login, whoami, apps and connect", name);
	json_decref(obj);
	return (-1);
}

void
request_free(struct request *req)
{
	json_decref(req->obj);
	req->obj = NULL;
}
