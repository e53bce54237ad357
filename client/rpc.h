/*
 * rpc.c: the JSON-RPC the stdio bridge must understand.
 */
#ifndef MCPGATE_RPC_H
#define MCPGATE_RPC_H

#include <jansson.h>

#include "wire.h"


enum bridge_rpc_kind {
	BRPC_REQUEST,
	BRPC_NOTIFICATION,
	BRPC_RESPONSE,
	BRPC_OTHER,
};

struct pending;

struct pending	*pending_new(void);
void		 pending_add(struct pending *, json_t *);
void		 pending_del(struct pending *, json_t *);
size_t		 pending_count(struct pending *);
json_t		*pending_take(struct pending *);
void		 pending_destroy(struct pending *);

enum bridge_rpc_kind	 rpc_classify(json_t *);
const char	*rpc_end_reason(json_t *);
const char	*rpc_end_code(json_t *);
int		 rpc_end_transient(const char *);
int		 rpc_refusal_transient(const char *);
int		 rpc_init_result(json_t *, const char **, const char **);
int		 rpc_is_method(json_t *, const char *);
json_t		*rpc_cancelled(json_t *);
char		*rpc_error_line(json_t *, int, const char *, size_t *);

#endif
