/*
 * The YAML resources of the access model: roles, users, join tokens and
 * apps, as administrators write them (mcpgatectl create), as the parent
 * keeps them in the state directory, and as mcpd receives them (without
 * any secret, and of an app only what users may see).  One parser and
 * one writer serve all three; the configuration's app_service.apps
 * shares the parser of an app's fields.  See mcpgate-roles(5).
 */
#ifndef MCPGATE_RESOURCE_H
#define MCPGATE_RESOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "yamldoc.h"

#define RES_NAMELEN	64
#define RES_MAXLIST	256	/* values in one list */
#define RES_MAXMAP	64	/* keys of app_labels or traits */
#define RES_MAXDOCS	100000	/* in one stream */

/* What mcpgatectl create takes in one resource; see mcpgate-roles(5). */
#define RES_ADMIN_MAXROLES	64	/* roles of a user */
#define RES_ADMIN_MAXTRAITS	16	/* traits of a user */
#define RES_ADMIN_MAXTRAITVALS	64	/* values of one trait */
#define RES_ADMIN_TRAITLEN	256	/* bytes of one trait value */
#define RES_ADMIN_MAXLABELS	32	/* app_labels of one rule */
#define RES_ADMIN_MAXLABELVALS	64	/* values of one label */
#define RES_ADMIN_MAXTOOLS	256	/* mcp.tools of one rule */
#define RES_ADMIN_USER_BYTES	(16 * 1024)	/* all its strings */
#define RES_ADMIN_ROLE_BYTES	(64 * 1024)
#define RES_ADMIN_APP_BYTES	(64 * 1024)
#define RES_ADMIN_MAXARGS	256	/* mcp.args of an app */
#define RES_ADMIN_MAXENV	64	/* mcp.env of an app */
#define RES_ADMIN_MAXPATHS	64	/* each list of paths of a sandbox */
#define RES_APP_LABELLEN	256	/* bytes of one label value */
#define RES_APP_INIT_TIMEOUT	(30 * 1000)	/* ms, the default */
#define RES_APP_INIT_MIN	100		/* ms */
#define RES_APP_INIT_MAX	(3600 * 1000)	/* ms */
#define RES_APP_MEMORY_MIN	(1024 * 1024)	/* bytes */
#define RES_APP_MEMORY_MAX	(1ULL << 40)
#define RES_APP_TASKS_MAX	1000000
#define RES_APP_URI_STDIO	"mcp+stdio://"
#define RES_APP_DEMO		"mcpgate-demo"	/* the built-in server's */
#define RES_VALUELEN	1024
#define RES_HASHLEN	64	/* SHA-256, hex */
#define RES_PWHASHLEN	255	/* an Argon2id encoded hash */
#define RES_GENLEN	16	/* a user's generation, hex */

/* Where a document comes from decides what it may hold. */
#define RES_ADMIN	0x01	/* mcpgatectl create: roles, users, apps */
#define RES_STATE	0x02	/* the state directory: everything */
#define RES_SNAPSHOT	0x04	/* the parent to mcpd: no credentials */

struct strlist {
	char		**v;
	size_t		  n;
};

/* A key and its values: a role's app label rule, a user's trait. */
struct keyed_list {
	char		*key;
	struct strlist	 values;
};

struct role_rules {
	struct keyed_list *labels;	/* app_labels */
	size_t		   nlabels;
	struct strlist	   tools;	/* mcp.tools */
};

struct role {
	char		 name[RES_NAMELEN];
	char		*description;
	struct role_rules allow;
	struct role_rules deny;
};

struct user {
	char		 name[RES_NAMELEN];
	char		*description;
	struct strlist	 roles;
	struct keyed_list *traits;
	size_t		 ntraits;
	/* status, kept by the gateway */
	int64_t		 created;	/* seconds */
	/*
	 * Random, new at creation and at every reset; certificates carry it
	 * in the top 64 bits of their serial, and one that carries another
	 * is refused.
	 */
	char		 generation[RES_GENLEN + 1];
	int		 locked;
	/* credentials, in the state directory only */
	char		 password[RES_PWHASHLEN + 1];	/* "" until set */
	char		 invite[RES_HASHLEN + 1];	/* "" when none */
	int64_t		 invite_expires;
};

struct token {
	char		 name[RES_NAMELEN];
	char		 type[16];
	int64_t		 created;
	int64_t		 expires;
	char		 hash[RES_HASHLEN + 1];
};

enum app_network {
	APP_NET_HOST,		/* the host's network (the default) */
	APP_NET_NONE,		/* a network namespace with loopback only */
};

/* How an app is reached: the scheme of its uri. */
enum app_transport {
	APP_STDIO,		/* mcp+stdio:// or no uri: a command per session */
	APP_HTTP,		/* mcp+http(s)://: Streamable HTTP */
	APP_SSE,		/* mcp+sse+http(s)://: HTTP+SSE (2024-11-05) */
};

/* What the JWT of a session says of the user: rewrite.jwt_claims. */
enum app_jwt_claims {
	APP_JWT_ROLES_TRAITS,	/* "roles-and-traits", the default */
	APP_JWT_ROLES,
	APP_JWT_TRAITS,
	APP_JWT_NONE,		/* sub, aud and times only */
};

#define APP_HEADERS_MAX	32	/* rewrite.headers */
#define APP_HEADER_MAX	1024	/* one "Name: template" */
#define APP_TIMEOUT_DEF	60000	/* ms */
#define RES_APP_TIMEOUT_MIN	1000		/* ms, of timeout */
#define RES_APP_TIMEOUT_MAX	(3600 * 1000)

/* An HTTP or SSE app's server; see mcpgated.conf(5). */
struct app_remote {
	int		 tls;			/* https */
	char		 host[256];		/* a name, or an address
						   without brackets */
	uint16_t	 port;			/* 80 or 443 unless given */
	char		*path;			/* from '/', with any query */
	char		*url;			/* http(s)://host[:port]/path:
						   what is reached, the aud */
	char		*ca_file;		/* NULL: the system's CAs */
	int		 insecure;		/* tls.insecure_skip_verify */
	int		 jwt_claims;		/* enum app_jwt_claims */
	struct strlist	 headers;		/* "Name: template", checked */
	uint64_t	 timeout;		/* ms */
};

/* What an app's server may touch; see mcpgated.conf(5). */
struct app_sandbox {
	int		 network;	/* enum app_network */
	struct strlist	 read_only;	/* absolute paths */
	struct strlist	 writable;	/* absolute paths */
	uint64_t	 memory_max;	/* bytes; 0: no limit */
	uint64_t	 tasks_max;	/* 0: no limit */
	int		 restricted;	/* paths given: Landlock applies */
};

/*
 * An MCP server the gateway offers: from app_service.apps or a kind: app
 * resource.  mcpd receives the name, description, labels and type only.
 */
struct app_res {
	char		 name[RES_NAMELEN];	/* [a-z0-9-] */
	char		*description;
	struct keyed_list *labels;		/* one value each */
	size_t		 nlabels;
	char		*uri;			/* "mcp+stdio://", or an HTTP
						   or SSE app's, as given */
	/* mcp: how a session's server runs; the parent's alone */
	char		*command;		/* absolute */
	struct strlist	 args;
	struct keyed_list *env;			/* one value each */
	size_t		 nenv;
	char		*cwd;			/* NULL: the user's home */
	char		 run_as[RES_NAMELEN];	/* run_as_host_user */
	uint64_t	 init_timeout;		/* ms */
	struct app_sandbox sandbox;
	int		 transport;		/* enum app_transport */
	struct app_remote remote;		/* HTTP and SSE apps */
	int		 from_config;		/* app_service.apps */
};

enum res_kind {
	RES_ROLE,
	RES_USER,
	RES_TOKEN,
	RES_APP,
};
#define RES_KINDS	(RES_APP + 1)

struct resource {
	enum res_kind	 kind;
	size_t		 line;		/* where the document starts */
	union {
		struct role	 role;
		struct user	 user;
		struct token	 token;
		struct app_res	 app;
	} u;
};

struct resources {
	struct resource	*v;
	size_t		 n;
	size_t		 cap;	/* of v, grown by resources_add() */
};

int	 resource_parse(const char *, const char *, size_t, int,
	    struct resources *, struct conf_errors *);
void	 resources_free(struct resources *);
int	 resources_add(struct resources *, struct resource *);
void	 resource_clear(struct resource *);
char	*resource_yaml(const struct resource *, int, size_t *);
const char *resource_kind_name(enum res_kind);
const char *resource_name(const struct resource *);
int	 resource_app_parse(struct ydoc *, yaml_node_t *, struct app_res *);
void	 app_res_free(struct app_res *);
int	 app_name_ok(const char *);
int	 resource_name_ok(const char *);
int	 strlist_add(struct strlist *, const char *);
void	 strlist_free(struct strlist *);
int	 strlist_has(const struct strlist *, const char *);
json_t	*strlist_json(const struct strlist *);

json_t	*traits_json(const struct user *);

extern const char resource_presets[];

#endif
