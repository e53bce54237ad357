/*
 * Fuzz the configuration parser: the input is a whole mcpgated.conf, read
 * by libyaml and checked key by key.  Whatever the file holds, parsing
 * must end with either a configuration whose values are in range or a
 * list of NUL-terminated messages, and must leak nothing.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Both are large; keep them off the fuzzer's stack. */
static struct mcpgated_conf	 conf;
static struct conf_errors	 errs;

static void
check_str(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
}

/* Apps: bounded, named uniquely, each able to run. */
static void
check_apps(void)
{
	const struct app_res	*a;
	size_t			 i, j;

	if (conf.napps > CONF_MAXAPPS || (conf.napps > 0 && conf.apps == NULL))
		abort();
	for (i = 0; i < conf.napps; i++) {
		a = &conf.apps[i];
		check_str(a->name, sizeof(a->name));
		check_str(a->run_as, sizeof(a->run_as));
		if (!app_name_ok(a->name) || !a->from_config ||
		    a->uri == NULL)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(a->name, conf.apps[j].name) == 0)
				abort();
		/* An HTTP or SSE app: reached, not run. */
		if (a->transport != APP_STDIO) {
			if (a->command != NULL || a->run_as[0] != '\0' ||
			    a->remote.url == NULL || a->remote.path == NULL ||
			    a->remote.timeout < RES_APP_TIMEOUT_MIN ||
			    a->remote.timeout > RES_APP_TIMEOUT_MAX ||
			    a->remote.headers.n > APP_HEADERS_MAX ||
			    (!a->remote.tls && (a->remote.insecure ||
			    a->remote.ca_file != NULL)))
				abort();
			continue;
		}
		if (a->command == NULL || a->command[0] != '/' ||
		    a->run_as[0] == '\0' || strcmp(a->run_as, "root") == 0 ||
		    a->init_timeout == 0 ||
		    a->args.n > RES_ADMIN_MAXARGS ||
		    a->nenv > RES_ADMIN_MAXENV ||
		    a->nlabels > RES_ADMIN_MAXLABELS ||
		    a->sandbox.read_only.n > RES_ADMIN_MAXPATHS ||
		    a->sandbox.writable.n > RES_ADMIN_MAXPATHS)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;
	int	 i, ret;

	/* An exact copy, not NUL-terminated, so that overreads show. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(buf, data, size);
	ret = config_parse_buffer("fuzz.conf", buf, size, &conf, &errs);
	free(buf);

	if (errs.n < 0 || errs.n > CONF_MAXERRORS || errs.dropped < 0)
		abort();
	if ((ret == 0) != (errs.n == 0))
		abort();
	for (i = 0; i < errs.n; i++)
		check_str(errs.msg[i], sizeof(errs.msg[i]));
	if (ret == -1) {
		/* A refused file hands back no app. */
		if (conf.apps != NULL || conf.napps != 0)
			abort();
		return (0);
	}
	check_apps();

	check_str(conf.path, sizeof(conf.path));
	check_str(conf.user, sizeof(conf.user));
	check_str(conf.audit_user, sizeof(conf.audit_user));
	check_str(conf.chroot, sizeof(conf.chroot));
	check_str(conf.state_dir, sizeof(conf.state_dir));
	check_str(conf.control_socket, sizeof(conf.control_socket));
	check_str(conf.name, sizeof(conf.name));
	check_str(conf.public_addr, sizeof(conf.public_addr));
	check_str(conf.audit_dir, sizeof(conf.audit_dir));
	if (conf.nlisten < 0 || conf.nlisten > CONF_MAXLISTEN)
		abort();
	if (conf.proxy_enabled && conf.nlisten == 0)
		abort();
	for (i = 0; i < conf.nlisten; i++) {
		check_str(conf.listen[i].text, sizeof(conf.listen[i].text));
		if (conf.listen[i].sslen == 0 ||
		    conf.listen[i].sslen > sizeof(conf.listen[i].ss))
			abort();
	}
	if (strcmp(config_fsync_name(conf.audit_fsync), "?") == 0 ||
	    strcmp(config_log_level_name(conf.log_level), "?") == 0)
		abort();
	if (strcmp(conf.user, conf.audit_user) == 0)
		abort();

	/* Defaults and accepted values alike lie within the key's range. */
	if (conf.cert_ttl < 60 * 1000ULL ||
	    conf.cert_ttl > 30 * 86400 * 1000ULL ||
	    conf.audit_max_file_size < 64 * 1024ULL ||
	    conf.audit_max_file_size > 1ULL << 40 ||
	    conf.max_message_size < 64 * 1024ULL ||
	    conf.max_message_size > 256 * 1024 * 1024ULL ||
	    conf.max_connections < 1 || conf.max_connections > 1000000 ||
	    conf.handshake_timeout < 100 ||
	    conf.handshake_timeout > 300 * 1000ULL)
		abort();
	if (conf.throttle_failures < 1 || conf.throttle_failures > 1000 ||
	    conf.throttle_prefix_failures < 1 ||
	    conf.throttle_prefix_failures > 1000000 ||
	    conf.throttle_delay < 100 ||
	    conf.throttle_max_delay < conf.throttle_delay ||
	    conf.throttle_max_delay > 86400 * 1000ULL ||
	    conf.failure_memory <= conf.throttle_max_delay ||
	    conf.failure_memory > 7 * 86400 * 1000ULL ||
	    conf.throttle_entries < 16 || conf.throttle_entries > 1000000 ||
	    conf.lock_failures < 1 || conf.lock_prefixes < 1 ||
	    conf.lock_prefixes > CONF_LOCK_PREFIXES ||
	    conf.lock_duration < 1000)
		abort();
	config_free(&conf);
	return (0);
}
