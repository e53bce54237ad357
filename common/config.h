/*
 * mcpgated.conf: YAML read with libyaml into struct mcpgated_conf.
 * Unknown keys, wrong types and bad values are errors that name the
 * file, line and column; parsing goes on to report every one of them.
 */
#ifndef MCPGATE_CONFIG_H
#define MCPGATE_CONFIG_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "resource.h"
#include "yamldoc.h"

#define CONF_DEFAULT_PATH	"/etc/mcpgated.conf"
#define CONF_MAXLISTEN		16
#define CONF_NAMELEN		64
#define AUDIT_SYSLOG_TAGLEN	33	/* RFC 3164: at most 32 */
#define CONF_USERLEN		33
#define CONF_ADDRLEN		262	/* [IPv6%scope]:port or host:port */
#define CONF_MAXFILE		(1024 * 1024)
#define CONF_LOCK_PREFIXES	32	/* most auth.lock_prefixes */
#define CONF_MAXAPPS		256	/* most app_service.apps */
#define CONF_SOCKLEN		sizeof(((struct sockaddr_un *)0)->sun_path)

enum audit_fsync {
	AUDIT_FSYNC_ALWAYS,
	AUDIT_FSYNC_BATCH,
	AUDIT_FSYNC_NONE,
};

enum audit_on_failure {
	AUDIT_FAIL_DENY,
	AUDIT_FAIL_ALLOW,
};

struct listen_addr {
	char			 text[CONF_ADDRLEN];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
};

struct mcpgated_conf {
	char			 path[PATH_MAX];

	/* mcpgated */
	char			 user[CONF_USERLEN];
	char			 audit_user[CONF_USERLEN];
	char			 resolver_user[CONF_USERLEN];
	char			 chroot[PATH_MAX];
	char			 state_dir[PATH_MAX];
	char			 control_socket[CONF_SOCKLEN];
	int			 log_level;

	/* proxy_service */
	int			 proxy_enabled;
	char			 name[CONF_NAMELEN];
	struct listen_addr	 listen[CONF_MAXLISTEN];
	int			 nlisten;
	char			 public_addr[CONF_ADDRLEN];
	uint64_t		 cert_ttl;		/* ms */

	/* app_service */
	int			 app_enabled;
	int			 mcp_demo_server;
	struct app_res		*apps;		/* app_service.apps */
	size_t			 napps;

	/* audit */
	char			 audit_dir[PATH_MAX];
	int			 audit_fsync;
	uint64_t		 audit_max_file_size;
	int			 audit_on_failure;
	int			 audit_syslog;		/* syslog.enabled */
	int			 audit_syslog_facility;	/* LOG_AUTHPRIV ... */
	char			 audit_syslog_tag[AUDIT_SYSLOG_TAGLEN];

	/* auth */
	uint64_t		 password_min_length;
	uint64_t		 throttle_failures;
	uint64_t		 throttle_prefix_failures;
	uint64_t		 throttle_delay;	/* ms */
	uint64_t		 throttle_max_delay;	/* ms */
	uint64_t		 throttle_entries;	/* of each table */
	uint64_t		 lock_failures;
	uint64_t		 lock_prefixes;
	uint64_t		 lock_duration;		/* ms */
	uint64_t		 failure_memory;	/* ms */

	/* limits */
	uint64_t		 max_message_size;
	uint64_t		 max_connections;
	uint64_t		 handshake_timeout;	/* ms */
	uint64_t		 max_buffered;		/* bytes, per process */
	uint64_t		 max_json_values;
	uint64_t		 max_sessions_per_user;
	uint64_t		 max_connections_per_address;
	uint64_t		 init_timeout;		/* ms */
	uint64_t		 idle_timeout;		/* ms; 0: none */
};

void	 config_defaults(struct mcpgated_conf *);
void	 config_free(struct mcpgated_conf *);
int	 config_parse_file(const char *, struct mcpgated_conf *,
	    struct conf_errors *);
int	 config_parse_buffer(const char *, const char *, size_t,
	    struct mcpgated_conf *, struct conf_errors *);
const char *config_fsync_name(int);
const char *config_facility_name(int);
const char *config_log_level_name(int);
int	 config_parse_hostport(const char *, struct sockaddr_storage *,
	    socklen_t *);
char	*config_yaml_scalar(const char *);
int	 config_foreach_key(const struct mcpgated_conf *,
	    int (*)(void *, const char *, const char *, const char *), void *);

#endif
