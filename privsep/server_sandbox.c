/*
 * A stdio MCP server's own sandbox, applied by the init of its PID
 * namespace before it starts the server, so that both are inside: the
 * loopback interface of its network namespace (network: none), its
 * resource limits, Landlock on the paths of its app when it names any,
 * and a seccomp deny-list.  The server runs arbitrary programs (node,
 * python, a shell): the list cannot allow only what one of them needs,
 * so it refuses, with EPERM, what no MCP server has any business doing,
 * and the spawner's own list, inherited, kills on what nothing may do.
 * Also the parser of the spawner's request, which the spawner trusts no
 * further than it checks.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep.h"
#include "sandbox.h"

#define SERVER_NOFILE		4096	/* descriptors, hard limit */
#define SERVER_NOFILE_SOFT	1024
#define SERVER_MAXRULES		(2 * RES_MAXLIST + 1)

/* What a server may not do: each fails with EPERM. */
static const int server_denied[] = {
	SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev),
	SCMP_SYS(mount),
	SCMP_SYS(umount2),
	SCMP_SYS(pivot_root),
	SCMP_SYS(chroot),
	SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load),
	SCMP_SYS(bpf),
	SCMP_SYS(perf_event_open),
	SCMP_SYS(keyctl),
	SCMP_SYS(add_key),
	SCMP_SYS(request_key),
	SCMP_SYS(userfaultfd),
	SCMP_SYS(init_module),
	SCMP_SYS(finit_module),
	SCMP_SYS(delete_module),
	SCMP_SYS(swapon),
	SCMP_SYS(swapoff),
	SCMP_SYS(reboot),
	SCMP_SYS(setns),
	SCMP_SYS(unshare),
	SCMP_SYS(open_by_handle_at),
	SCMP_SYS(name_to_handle_at),
	SCMP_SYS(iopl),
	SCMP_SYS(ioperm),
	SCMP_SYS(acct),
	SCMP_SYS(quotactl),
	SCMP_SYS(lookup_dcookie),
	SCMP_SYS(fsopen),
	SCMP_SYS(fsconfig),
	SCMP_SYS(fsmount),
	SCMP_SYS(fspick),
	SCMP_SYS(move_mount),
	SCMP_SYS(open_tree),
	SCMP_SYS(mount_setattr),
	SCMP_SYS(settimeofday),
	SCMP_SYS(clock_settime),
	SCMP_SYS(clock_adjtime),
	SCMP_SYS(adjtimex),
	SCMP_SYS(sethostname),
	SCMP_SYS(setdomainname),
	SCMP_SYS(syslog),
	SCMP_SYS(vhangup),
};

/* A clone that makes a namespace: as unshare. */
#define SERVER_CLONE_NS	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
	CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | 0x80)

/* The next string of a request, NULL past its end. */
static char *
spec_next(char **p, char *end)
{
	char	*s = *p, *nul;

	if (s >= end || (nul = memchr(s, '\0', (size_t)(end - s))) == NULL)
		return (NULL);
	*p = nul + 1;
	return (s);
}

static int
spec_list(char ***list, uint32_t n, char **p, char *end, int paths)
{
	uint32_t	 i;

	if (n > RES_MAXLIST)
		return (-1);
	if ((*list = calloc((size_t)n + 2, sizeof(char *))) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		if (((*list)[i] = spec_next(p, end)) == NULL)
			return (-1);
		if (paths && (*list)[i][0] != '/')
			return (-1);
	}
	return (0);
}

/*
 * The request as the parent sent it: the fixed part, then its strings,
 * each NUL-terminated, exactly as many as it says.  0, or -1 with why.
 */
int
spawn_spec_parse(struct spawn_spec *sp, const void *data, size_t len,
    char *err, size_t errlen)
{
	char		*p, *end, **args;
	uint32_t	 i;

	memset(sp, 0, sizeof(*sp));
	if (len < sizeof(sp->req) || len > SPAWN_REQ_MAX) {
		snprintf(err, errlen, "request of %zu bytes", len);
		return (-1);
	}
	memcpy(&sp->req, data, sizeof(sp->req));
	if ((sp->buf = malloc(len - sizeof(sp->req) + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	memcpy(sp->buf, (const char *)data + sizeof(sp->req),
	    len - sizeof(sp->req));
	p = sp->buf;
	end = sp->buf + (len - sizeof(sp->req));
	if (memchr(sp->req.app, '\0', sizeof(sp->req.app)) == NULL ||
	    memchr(sp->req.run_as, '\0', sizeof(sp->req.run_as)) == NULL ||
	    (sp->command = spec_next(&p, end)) == NULL ||
	    sp->command[0] != '/' ||
	    (sp->cwd = spec_next(&p, end)) == NULL ||
	    (sp->cwd[0] != '\0' && sp->cwd[0] != '/') ||
	    spec_list(&sp->args, sp->req.nargs, &p, end, 0) == -1 ||
	    spec_list(&sp->env, sp->req.nenv, &p, end, 0) == -1 ||
	    spec_list(&sp->read_only, sp->req.nread_only, &p, end, 1) == -1 ||
	    spec_list(&sp->writable, sp->req.nwritable, &p, end, 1) == -1 ||
	    p != end) {
		snprintf(err, errlen, "malformed request");
		spawn_spec_free(sp);
		return (-1);
	}
	for (i = 0; i < sp->req.nenv; i++)
		if (strchr(sp->env[i], '=') == NULL ||
		    sp->env[i][0] == '=') {
			snprintf(err, errlen, "malformed variable");
			spawn_spec_free(sp);
			return (-1);
		}
	if (sp->cwd[0] == '\0')
		sp->cwd = NULL;
	/* argv: the command first. */
	args = sp->args;
	memmove(args + 1, args, sizeof(char *) * sp->req.nargs);
	args[0] = (char *)sp->command;
	args[sp->req.nargs + 1] = NULL;
	return (0);
}

void
spawn_spec_free(struct spawn_spec *sp)
{
	free(sp->args);
	free(sp->env);
	free(sp->read_only);
	free(sp->writable);
	free(sp->buf);
	memset(sp, 0, sizeof(*sp));
}

/* In a new network namespace, lo is down: bring it up. */
int
server_sandbox_loopback(char *err, size_t errlen)
{
	struct ifreq	 ifr;
	int		 s;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "loopback: socket: %s", strerror(errno));
		return (-1);
	}
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		snprintf(err, errlen, "loopback: %s", strerror(errno));
		close(s);
		return (-1);
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
		snprintf(err, errlen, "loopback up: %s", strerror(errno));
		close(s);
		return (-1);
	}
	close(s);
	return (0);
}

/* No core files; a bounded number of descriptors. */
void
server_sandbox_rlimits(void)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_max > SERVER_NOFILE)
			rl.rlim_max = SERVER_NOFILE;
		rl.rlim_cur = rl.rlim_max < SERVER_NOFILE_SOFT ?
		    rl.rlim_max : SERVER_NOFILE_SOFT;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
rule_path(struct sandbox_fsrule *r, size_t *n, const char *path,
    uint64_t access, char *err, size_t errlen)
{
	int	 fd;

	if (*n == SERVER_MAXRULES) {
		snprintf(err, errlen, "landlock: too many paths");
		return (-1);
	}
	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "landlock: %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	r[*n].fd = fd;
	r[*n].access = access;
	(*n)++;
	return (0);
}

/*
 * Landlock, when the app names paths: read_only_paths may be read and
 * executed, writable_paths read, written, created and removed, and the
 * command itself read and executed; nothing else is visible.  The
 * network is left to the network namespace.
 */
int
server_sandbox_landlock(const struct spawn_spec *sp, char *err,
    size_t errlen)
{
	struct sandbox_fsrule	 rules[SERVER_MAXRULES];
	const uint64_t		 ro = LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE;
	const uint64_t		 rw = ro | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER |
	    LANDLOCK_ACCESS_FS_TRUNCATE;
	size_t			 i, n = 0;
	int			 ret = -1;

	if (!sp->req.restricted)
		return (0);
	if (sandbox_landlock_abi() == 0) {
		snprintf(err, errlen, "the app names sandbox paths, but "
		    "this kernel has no Landlock");
		return (-1);
	}
	if (rule_path(rules, &n, sp->command, ro, err, errlen) == -1)
		goto done;
	for (i = 0; i < sp->req.nread_only; i++)
		if (rule_path(rules, &n, sp->read_only[i], ro, err,
		    errlen) == -1)
			goto done;
	for (i = 0; i < sp->req.nwritable; i++)
		if (rule_path(rules, &n, sp->writable[i], rw, err,
		    errlen) == -1)
			goto done;
	if (sandbox_landlock_rules(rules, n, SB_FS_ONLY | SB_SCOPE_UNIX |
	    SB_SCOPE_SIGNAL) == -1) {
		snprintf(err, errlen, "landlock: %s", strerror(errno));
		goto done;
	}
	ret = 0;
 done:
	for (i = 0; i < n; i++)
		close(rules[i].fd);
	return (ret);
}

/*
 * The deny-list, after no_new_privs: everything else is allowed.
 * clone3 fails with ENOSYS, so that the C library falls back to clone,
 * whose flags the filter sees.
 */
int
server_sandbox_seccomp(char *err, size_t errlen)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 r;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return (-1);
	}
	for (i = 0; i < sizeof(server_denied) / sizeof(server_denied[0]);
	    i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    server_denied[i], 0)) != 0)
			goto fail;
	/* A clone with any one of the flags: a rule a flag. */
	for (i = 0; i < 32; i++) {
		if (!((1UL << i) & SERVER_CLONE_NS))
			continue;
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 1UL << i,
		    1UL << i))) != 0)
			goto fail;
	}
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0)) != 0)
		goto fail;
	if ((r = seccomp_load(ctx)) != 0)
		goto fail;
	seccomp_release(ctx);
	return (0);
 fail:
	snprintf(err, errlen, "seccomp: %s", strerror(-r));
	seccomp_release(ctx);
	return (-1);
}
