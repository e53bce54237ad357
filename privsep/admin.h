/*
 * The audit-then-apply engine of mcpgatectl's identity commands
 * (admin.c), shared by the commands on users (users.c) and join tokens
 * (tokens.c).  A command makes an admin_op, audits it with
 * admin_op_audit() and answers nothing itself: the engine checks the
 * change again once auditd has written its records, applies it and
 * answers on the control connection.
 */
#ifndef MCPGATE_ADMIN_H
#define MCPGATE_ADMIN_H

#define ADMIN_TTL_MIN	(60 * 1000ULL)	/* ms: invites, tokens */

/*
 * A change waiting for its audit records.  It is checked again when they
 * are written, against the state as it is then: another change may have
 * come in meanwhile.
 */
enum op_kind {
	OP_ADD,		/* new resources, none of which may exist */
	OP_CREATE,	/* mcpgatectl create: new, or replaced with force */
	OP_MUTATE,	/* a change of an existing user */
	OP_DELETE,
};

struct admin_op {
	uint32_t		 ctl;		/* the control connection */
	enum op_kind		 kind;
	struct resources	 put;		/* OP_ADD, OP_CREATE */
	int			 force;
	enum res_kind		 target_kind;	/* OP_MUTATE, OP_DELETE */
	char			 target[RES_NAMELEN];
	void			 (*mutate)(struct admin_op *, struct user *);
	int			 end_login_lock;	/* an unlock */
	int			 lock;		/* the mutations' arguments */
	int			 set_roles;
	struct strlist		 roles;
	int			 set_tools;
	struct strlist		 tools;
	char			 generation[RES_GENLEN + 1];
	char			 invite[RES_HASHLEN + 1];
	int64_t			 invite_expires;
	json_t			*records;	/* what was audited */
	json_t			*answer;	/* when all went well */
	int			 waiting;	/* records not yet written */
	int			 failed;
	int			 error;
};

/* admin.c: the engine */
struct admin_op	*admin_op_new(uint32_t, enum op_kind);
void	 admin_op_free(struct admin_op *);
void	 admin_op_put(struct admin_op *, struct resource *);
void	 admin_op_audit(struct admin_op *, uid_t, json_t *);
void	 admin_record_value(json_t *, const char *, json_t *);
void	 admin_new_secret(char *, size_t, char *);
void	 admin_fmt_secs(int64_t, char *, size_t);
int	 admin_ttl(json_t *, const char *, uint64_t, uint64_t, uint64_t *);
const char *admin_role_missing(const struct strlist *);
void	 admin_rm(uint32_t, uid_t, json_t *);

/* users.c */
void	 admin_users_add(uint32_t, uid_t, json_t *);
void	 admin_users_ls(uint32_t);
void	 admin_users_get(uint32_t, json_t *);
void	 admin_users_update(uint32_t, uid_t, json_t *);
void	 admin_users_status(uint32_t, uid_t, json_t *, const char *);
void	 admin_users_rm(uint32_t, uid_t, json_t *);

/* tokens.c */
void	 admin_tokens_add(uint32_t, uid_t, json_t *);
void	 admin_tokens_ls(uint32_t);
void	 admin_tokens_rm(uint32_t, uid_t, json_t *);

#endif
