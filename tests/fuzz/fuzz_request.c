/*
 * Fuzz mcpd's request-line parser, the first thing that reads what a
 * network client sends: the input is one line without its newline.  A
 * line is either refused with a code and a sentence, or accepted as a
 * JSON object with a known "op"; either way nothing may leak.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../mcpd/mcpd.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	 req;
	const char	*code = NULL;
	char		*line, err[256];

	/* An exact copy, not NUL-terminated, so that overreads show. */
	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(line, data, size);
	err[0] = '\0';

	if (request_parse(line, size, &req, &code, err, sizeof(err)) == -1) {
		if (req.obj != NULL || code == NULL || err[0] == '\0' ||
		    memchr(err, '\0', sizeof(err)) == NULL ||
		    (strcmp(code, "bad_request") != 0 &&
		    strcmp(code, "unknown_op") != 0))
			abort();
		free(line);
		return (0);
	}
	free(line);

	if (!json_is_object(req.obj) ||
	    !json_is_string(json_object_get(req.obj, "op")))
		abort();
	switch (req.op) {
	case OP_HELLO:
	case OP_LOGIN:
	case OP_WHOAMI:
	case OP_APPS:
	case OP_CONNECT:
		break;
	default:
		abort();
	}
	request_free(&req);
	if (req.obj != NULL)
		abort();
	return (0);
}
