/*
 * The spawner's sandbox and a server's, each applied in a forked child:
 * the spawner is not dumpable, keeps no_new_privs, may still make the
 * namespaces and change users it needs, and dies on a call that nothing
 * it starts may make; a server's deny-list refuses its calls with EPERM
 * and lets the rest through.  And the spawner's reader of the parent's
 * request.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "../../privsep/privsep.h"
#include "unit.h"

/* Run fn in a child; its wait status. */
static int
spawner_in_child(int (*fn)(void))
{
	pid_t	 pid;
	int	 status;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0)
		_exit(fn());
	if (waitpid(pid, &status, 0) == -1)
		return (-1);
	return (status);
}

/* A fork in new PID and network namespaces, and a user switch in it. */
static int
spawner_needed(void)
{
	pid_t	 pid;
	int	 status;

	spawner_sandbox_enter();
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return (10);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return (11);
	if (geteuid() != 0)
		return (0);
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNET | SIGCHLD,
	    NULL, NULL, NULL, NULL);
	if (pid == -1)
		return (12);
	if (pid == 0) {
		gid_t	 g = 65534;

		if (getpid() != 1 || setgroups(1, &g) == -1 ||
		    setresgid(65534, 65534, 65534) == -1 ||
		    setresuid(65534, 65534, 65534) == -1)
			_exit(13);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return (14);
	return (WEXITSTATUS(status));
}

static int
spawner_mount(void)
{
	spawner_sandbox_enter();
	syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, NULL);
	return (20);
}

static int
spawner_reboot(void)
{
	spawner_sandbox_enter();
	syscall(SYS_reboot, 0, 0, 0, NULL);	/* no magic: EINVAL */
	return (21);
}

static void
test_spawner_sandbox(void)
{
	int	 status;

	status = spawner_in_child(spawner_needed);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the calls it needs: status %d", status);
	status = spawner_in_child(spawner_mount);
	T_ASSERTF(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "mount did not kill it: status %d", status);
	status = spawner_in_child(spawner_reboot);
	T_ASSERTF(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "reboot did not kill it: status %d", status);
}

static int
server_calls(void)
{
	char	 err[256];
	pid_t	 pid;
	int	 s, status;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    server_sandbox_seccomp(err, sizeof(err)) == -1)
		return (30);
	errno = 0;
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != -1 || errno != EPERM)
		return (31);
	if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM)
		return (32);
	if (syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL,
	    NULL) != -1 || errno != EPERM)
		return (33);
	if (syscall(SYS_bpf, 0, NULL, 0) != -1 || errno != EPERM)
		return (34);
	if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
		return (35);
	if (syscall(SYS_setns, 0, 0) != -1 || errno != EPERM)
		return (36);
	/* What servers do. */
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (37);
	close(s);
	if ((pid = fork()) == -1)
		return (38);
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid || status != 0)
		return (39);
	return (0);
}

static void
test_server_sandbox(void)
{
	int	 status = spawner_in_child(server_calls);

	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %d", status);
}

/* A request as the parent builds it. */
static size_t
request(unsigned char *buf, const char *const *strs, size_t nstrs,
    uint32_t nargs, uint32_t nenv, uint32_t nro, uint32_t nw)
{
	struct spawn_req	 req;
	size_t			 len, i;

	memset(&req, 0, sizeof(req));
	strlcpy(req.app, "files", sizeof(req.app));
	strlcpy(req.run_as, "nobody", sizeof(req.run_as));
	req.nargs = nargs;
	req.nenv = nenv;
	req.nread_only = nro;
	req.nwritable = nw;
	memcpy(buf, &req, sizeof(req));
	len = sizeof(req);
	for (i = 0; i < nstrs; i++) {
		memcpy(buf + len, strs[i], strlen(strs[i]) + 1);
		len += strlen(strs[i]) + 1;
	}
	return (len);
}

static void
test_spec_parse(void)
{
	static const char *const good[] = { "/usr/bin/node", "", "a.js",
	    "-v", "FOO=bar", "/usr", "/srv" };
	static const char *const rel[] = { "node", "" };
	static const char *const relpath[] = { "/bin/cat", "", "usr" };
	static const char *const badenv[] = { "/bin/cat", "", "=x" };
	struct spawn_spec	 sp;
	unsigned char		 buf[4096];
	char			 err[128];
	size_t			 len;

	len = request(buf, good, 7, 2, 1, 1, 1);
	T_ASSERTF(spawn_spec_parse(&sp, buf, len, err, sizeof(err)) == 0,
	    "%s", err);
	T_ASSERT(strcmp(sp.args[0], "/usr/bin/node") == 0 &&
	    strcmp(sp.args[1], "a.js") == 0 && strcmp(sp.args[2], "-v") == 0 &&
	    sp.args[3] == NULL && sp.cwd == NULL &&
	    strcmp(sp.env[0], "FOO=bar") == 0 &&
	    strcmp(sp.read_only[0], "/usr") == 0 &&
	    strcmp(sp.writable[0], "/srv") == 0);
	spawn_spec_free(&sp);
	/* One byte short: the last string has no NUL. */
	T_ASSERT(spawn_spec_parse(&sp, buf, len - 1, err, sizeof(err)) == -1);
	/* Trailing bytes. */
	buf[len] = 'x';
	T_ASSERT(spawn_spec_parse(&sp, buf, len + 1, err, sizeof(err)) == -1);
	/* More strings counted than sent. */
	len = request(buf, good, 7, 3, 1, 1, 1);
	T_ASSERT(spawn_spec_parse(&sp, buf, len, err, sizeof(err)) == -1);
	len = request(buf, good, 7, 2, 1, 1, 100000);
	T_ASSERT(spawn_spec_parse(&sp, buf, len, err, sizeof(err)) == -1);
	len = request(buf, rel, 2, 0, 0, 0, 0);
	T_ASSERT(spawn_spec_parse(&sp, buf, len, err, sizeof(err)) == -1);
	len = request(buf, relpath, 3, 0, 0, 1, 0);
	T_ASSERT(spawn_spec_parse(&sp, buf, len, err, sizeof(err)) == -1);
	len = request(buf, badenv, 3, 0, 1, 0, 0);
	T_ASSERT(spawn_spec_parse(&sp, buf, len, err, sizeof(err)) == -1);
	T_ASSERT(spawn_spec_parse(&sp, buf, 10, err, sizeof(err)) == -1);
}

int
main(void)
{
	t_suite = "spawner";
	T_RUN(test_spawner_sandbox);
	T_RUN(test_server_sandbox);
	T_RUN(test_spec_parse);
	return (t_done());
}
