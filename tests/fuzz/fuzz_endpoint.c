/*
 * Fuzz mcpd/remote.c's reading of an SSE MCP server's endpoint event:
 * the input is the stream's path, a NUL, then the endpoint as the server
 * sent it.  Whatever it names, what is taken must be a path of the same
 * origin that netd accepts: from '/', not "//", visible ASCII only, no
 * fragment and no dot segment before the query, and within bounds.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mcpd/mcpd.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 base[1024], out[1024], path[1024];
	const char	*nul, *uri;
	size_t		 blen, len, i, n;

	if ((nul = memchr(data, '\0', size)) == NULL)
		return (0);
	blen = (size_t)(nul - (const char *)data);
	if (blen >= sizeof(base))
		return (0);
	memcpy(base, data, blen);
	base[blen] = '\0';
	uri = nul + 1;
	len = size - blen - 1;
	if (remote_endpoint_path(base, uri, len, out, sizeof(out)) == -1)
		return (0);
	n = strlen(out);
	if (n == 0 || n >= sizeof(out) || out[0] != '/' || out[1] == '/' ||
	    base[0] != '/')
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x21 ||
		    (unsigned char)out[i] > 0x7e || out[i] == '#')
			abort();
	strlcpy(path, out, sizeof(path));
	path[strcspn(path, "?")] = '\0';
	n = strlen(path);
	if (strstr(path, "/../") != NULL || strstr(path, "/./") != NULL ||
	    (n >= 3 && strcmp(path + n - 3, "/..") == 0) ||
	    (n >= 2 && strcmp(path + n - 2, "/.") == 0))
		abort();
	/* An absolute endpoint is taken as it is. */
	if (len > 0 && uri[0] == '/' && (len != strlen(out) ||
	    memcmp(out, uri, len) != 0))
		abort();
	return (0);
}
