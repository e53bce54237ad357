/*
 * mcpgate(1): the user's command.  It logs in to a gateway, keeps the
 * profile (key, certificate, pinned CA) under $MCPGATE_HOME, and later
 * bridges MCP clients to the gateway.
 */
#ifndef MCPGATE_CLIENT_H
#define MCPGATE_CLIENT_H

#include <getopt.h>
#include <limits.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "util.h"
#include "wire.h"

#define CLIENT_EXIT_OK		0
#define CLIENT_EXIT_FAIL	1
#define CLIENT_EXIT_USAGE	2

#define GW_TIMEOUT_MS		15000	/* an answer, a handshake */
#define GW_CONNECT_MS		10000	/* a TCP connection */

/*
 * The global options, which every command's table of long options ends
 * with; a command's own long options without a short one take values
 * from CLIENT_OPT_FIRST on.
 */
#define CLIENT_OPT_FORMAT	0x100
#define CLIENT_OPT_FIRST	0x101
#define CLIENT_LONGOPTS							\
	{ "format",	required_argument,	NULL,	CLIENT_OPT_FORMAT }, \
	{ "help",	no_argument,		NULL,	'h' }

enum client_format {
	CFMT_TEXT,
	CFMT_JSON,
	CFMT_YAML,		/* mcp ls only */
};

struct profile {
	char	 dir[PATH_MAX];
	char	 proxy[300];		/* host:port as given */
	char	 user[64];
	char	 ca_fingerprint[FINGERPRINT_LEN + 1];
	int	 have;			/* a profile file was read */
};

struct gw_addr {
	char	 host[256];
	char	 port[16];
	char	 text[300];		/* host:port, [v6]:port */
};

extern enum client_format	 client_format;
extern const char		*client_argv0;

void	 client_usage(int) __attribute__((noreturn));
int	 client_getopt(int, char **, const char *, const struct option *);
void	 client_noargs(int, char **);

/* profile.c */
int	 profile_dir(struct profile *);
int	 profile_find(struct profile *, char *, size_t);
int	 profile_load(struct profile *);
int	 profile_save(struct profile *);
int	 profile_path(const struct profile *, const char *, char *, size_t);
int	 profile_write(const struct profile *, const char *, const void *,
	    size_t, mode_t);
char	*profile_read(const struct profile *, const char *, size_t *);
int	 profile_remove(const struct profile *, const char *);

/* gateway.c */
int	 gw_parse_addr(const char *, struct gw_addr *);
SSL	*gw_connect(const struct gw_addr *, const char *, const char *,
	    const char *, char *, size_t);
json_t	*gw_request(SSL *, json_t *, char *, size_t);
void	 gw_close(SSL *);
void	 gw_ssl_error(SSL *, int, const char *, char *, size_t);
int	 gw_check_server(SSL *, const char *, const char *);
SSL	*gw_profile_connect(char *, size_t);
const char *gw_advice(const char *, const char *);
int64_t	 cert_not_after(const char *);

/* login.c */
int	 cmd_login(int, char **);
int	 cmd_status(int, char **);
int	 cmd_logout(int, char **);
void	 fmt_when(int64_t, char *, size_t);

/* mcp.c */
json_t	*mcp_apps(int *, char *, size_t);
int	 app_labels_parse(json_t *, const char *);
int	 app_labels_select(json_t *, json_t *);
int	 self_path(char *, size_t);

/* ls.c */
int	 cmd_mcp_ls(int, char **);

/* mcpconfig.c */
int	 cmd_mcp_config(int, char **);

/* jsonout.c */
char	*json_text(json_t *, int, size_t *);
int	 json_key_pos(const char *, size_t, const char *, int *, int *);
void	 json_text_pos(const char *, size_t, size_t, int *, int *);

/* bridge.c */
int	 cmd_mcp_connect(int, char **);

#endif
