/*
 * Fuzz the spawner's reader of the parent's request to start a server
 * (privsep/server_sandbox.c, spawn_spec_parse): a fixed struct
 * spawn_req, then its NUL-terminated strings.  What is accepted must be
 * whole: absolute command and paths, NUL-terminated names, variables
 * with a name, an argv that ends with NULL.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../privsep/privsep.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spawn_spec	 sp;
	char			 err[128];
	uint32_t		 i;

	if (spawn_spec_parse(&sp, data, size, err, sizeof(err)) == -1) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return (0);
	}
	if (sp.command[0] != '/' || sp.args[0] != sp.command ||
	    sp.args[sp.req.nargs + 1] != NULL ||
	    (sp.cwd != NULL && sp.cwd[0] != '/') ||
	    memchr(sp.req.app, '\0', sizeof(sp.req.app)) == NULL ||
	    memchr(sp.req.run_as, '\0', sizeof(sp.req.run_as)) == NULL)
		abort();
	for (i = 0; i < sp.req.nenv; i++)
		if (strchr(sp.env[i], '=') == NULL || sp.env[i][0] == '=')
			abort();
	for (i = 0; i < sp.req.nread_only; i++)
		if (sp.read_only[i][0] != '/')
			abort();
	for (i = 0; i < sp.req.nwritable; i++)
		if (sp.writable[i][0] != '/')
			abort();
	spawn_spec_free(&sp);
	return (0);
}
