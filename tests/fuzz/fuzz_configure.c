/*
 * Fuzz mcpgated configure's writer: the input is an --app NAME=COMMAND
 * (split on spaces; a NUL in the input ends it).  What configure_app_parse()
 * accepts is written as mcpgated.conf by configure_write(), which quotes
 * by hand (config_yaml_scalar()); when the daemon's parser accepts that
 * file, it must read back every word exactly as given.  Not a parser of
 * untrusted input: the one writer of YAML the project has besides
 * libyaml's emitter.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "../../privsep/configure.h"
#include "../../privsep/privsep.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* app_check() is linked with privsep/apps.c, which sends: never here. */
struct parent		*parent;

void
parent_send(enum proc_id id, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	(void)id; (void)type; (void)peerid; (void)fd; (void)data; (void)len;
	abort();
}

void
parent_sendv(enum proc_id id, uint32_t type, uint32_t peerid,
    const struct iovec *iov, int iovcnt)
{
	(void)id; (void)type; (void)peerid; (void)iov; (void)iovcnt;
	abort();
}

static struct mcpgated_conf	 conf;
static struct conf_errors	 errs;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct configure_opts	 o;
	struct configure_app	 app;
	char			*spec, *buf = NULL, err[512];
	size_t			 len = 0, i;
	FILE			*fp;

	if (size > 4096 || (spec = strndup((const char *)data, size)) == NULL)
		return (0);
	if (configure_app_parse(spec, &app, err, sizeof(err)) == -1) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		free(spec);
		return (0);
	}
	memset(&o, 0, sizeof(o));
	o.run_as = "nobody";
	o.apps = &app;
	o.napps = 1;
	if ((fp = open_memstream(&buf, &len)) == NULL)
		abort();
	if (configure_write(fp, &o) == -1)
		abort();
	fclose(fp);
	if (config_parse_buffer("fuzz", buf, len, &conf, &errs) == 0) {
		if (conf.napps != 1 ||
		    strcmp(conf.apps[0].name, app.name) != 0 ||
		    strcmp(conf.apps[0].command, app.command) != 0 ||
		    conf.apps[0].args.n != app.nargs)
			abort();
		for (i = 0; i < app.nargs; i++)
			if (strcmp(conf.apps[0].args.v[i], app.args[i]) != 0)
				abort();
		config_free(&conf);
	}
	free(buf);
	configure_app_free(&app);
	free(spec);
	return (0);
}
