/*
 * A small stdio MCP server for the tests: newline-delimited JSON-RPC on
 * standard input and output, with probes of its own sandbox and faults
 * for the relay's tests, chosen by its arguments, in order:
 *
 *   id              uid, gid, groups, pid, NoNewPrivs and Seccomp
 *   env, cwd        its environment, its working directory
 *   write=PATH      create and write PATH          read=PATH   read it
 *   connect=PORT    connect to 127.0.0.1:PORT
 *   ptrace, unshare, mount   a forbidden call and what it gave
 *   grandchild=MARK a setsid'd grandchild that ignores SIGTERM, shown by
 *                   ps as "stdioserver hang MARK"
 *   stderr=N        N lines on standard error
 *   ignore-term     ignore SIGTERM        ignore-eof   wait on at EOF
 *   exit=N          exit now with status N
 *   alloc=MIB       allocate MIB MiB, touching every page: "alloc ok
 *                   MIB" once all are, if it is not killed first
 *   fork=N          start N children that wait: "fork ok N", or "fork
 *                   got K of N: why" (a cgroup's pids.max); they end
 *                   with it
 *   probes-on-stderr  what the probes print goes to standard error
 *
 * and faults of the MCP part: no-init (never answer initialize),
 * exit-mid-call (exit on tools/call), garbage (a line that is not JSON
 * before each answer), bigline (echo answers with a 10 MB line), flood
 * (lines without end after initialize), unknown-ids (answers carry ids
 * nobody sent), ask=METHOD (after initialize, a request of the server's
 * to the client, id "srv-1"; the client's answer is copied to standard
 * error).  Each probe prints one line: "NAME ok ..." or "NAME
 * failed: why".
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char	**environ;

static int	 no_init, exit_mid_call, garbage, bigline, flood, unknown_ids;
static int	 ignore_eof;
static const char *ask;

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
status_line(const char *key, char *out, size_t outlen)
{
	FILE	*f;
	char	 line[256];
	size_t	 klen = strlen(key);

	out[0] = '\0';
	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, outlen, "%s", line + klen + 1);
			while (*out == '\t' || *out == ' ')
				memmove(out, out + 1, strlen(out));
		}
	fclose(f);
}

static void
probe_id(void)
{
	char		 nnp[32], sc[32], groups[128];
	status_line("NoNewPrivs", nnp, sizeof(nnp));
	status_line("Seccomp", sc, sizeof(sc));
	FILE		*f;
	unsigned long	 in = 0, out = 0, n = 0;

	status_line("Groups", groups, sizeof(groups));
	if ((f = fopen("/proc/self/uid_map", "r")) != NULL) {
		if (fscanf(f, "%lu %lu %lu", &in, &out, &n) != 3)
			in = out = n = 0;
		fclose(f);
	}
	say("id ok uid=%u euid=%u gid=%u pid=%d nonewprivs=%s seccomp=%s "
	    "groups=%s uidmap=%lu:%lu:%lu", (unsigned)getuid(),
	    (unsigned)geteuid(), (unsigned)getgid(), (int)getpid(), nnp, sc,
	    groups, in, out, n);
}

static void
probe_write(const char *path)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		say("write failed: %s: %s", path, strerror(errno));
		return;
	}
	if (write(fd, "x\n", 2) != 2)
		say("write failed: %s: %s", path, strerror(errno));
	else
		say("write ok %s", path);
	close(fd);
}

static void
probe_read(const char *path)
{
	char	 buf[64];
	int	 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || read(fd, buf, 1) == -1) {
		say("read failed: %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	say("read ok %s", path);
	close(fd);
}

static void
probe_connect(const char *port)
{
	struct sockaddr_in	 sin;
	int			 s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(port));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		say("connect failed: socket: %s", strerror(errno));
		return;
	}
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		say("connect failed: %s", strerror(errno));
	else
		say("connect ok %s", port);
	close(s);
}

static void
probe_grandchild(const char *self, const char *mark)
{
	char	*argv[] = { "stdioserver", "hang", (char *)mark, NULL };
	pid_t	 pid;
	int	 st;

	switch (pid = fork()) {
	case -1:
		say("grandchild failed: fork: %s", strerror(errno));
		return;
	case 0:
		setsid();
		if (fork() != 0)
			_exit(0);
		/* The grandchild, orphaned, in its own session. */
		close(STDIN_FILENO);
		close(STDOUT_FILENO);
		execv(self, argv);
		_exit(1);
	default:
		waitpid(pid, &st, 0);
		say("grandchild ok %s", mark);
	}
}

/* MiB touched a page at a time, as a server that leaks would. */
static void
probe_alloc(const char *arg)
{
	long	 mib = atol(arg), i;
	char	*p;

	for (i = 0; i < mib; i++) {
		if ((p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
			say("alloc failed after %ld MiB: %s", i,
			    strerror(errno));
			return;
		}
		memset(p, 0xa5, 1 << 20);
	}
	say("alloc ok %ld", mib);
}

/* Children that wait for the server's end (its pipe closing). */
static void
probe_fork(const char *arg)
{
	int	 n = atoi(arg), i, p[2];
	char	 c;

	if (pipe(p) == -1) {
		say("fork failed: pipe: %s", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		switch (fork()) {
		case -1:
			say("fork got %d of %d: %s", i, n, strerror(errno));
			close(p[0]);
			return;
		case 0:
			close(p[1]);
			while (read(p[0], &c, 1) == -1 && errno == EINTR)
				;
			_exit(0);
		default:
			break;
		}
	}
	close(p[0]);
	say("fork ok %d", n);
}

/* A grandchild's life: ignore SIGTERM, wait. */
static void __attribute__((noreturn))
hang(void)
{
	signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
}

/* The raw value of "key": in a line (a string's or a number's text). */
static int
json_raw(const char *line, const char *key, char *out, size_t outlen)
{
	char		 pat[64];
	const char	*p, *e;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if ((p = strstr(line, pat)) == NULL)
		return (-1);
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p == '"') {
		for (e = p + 1; *e != '\0' && *e != '"'; e++)
			if (*e == '\\' && e[1] != '\0')
				e++;
		if (*e == '"')
			e++;
	} else
		for (e = p; *e != '\0' && *e != ',' && *e != '}'; e++)
			;
	if ((size_t)(e - p) >= outlen)
		return (-1);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return (0);
}

static void
answer(const char *id, const char *result)
{
	char	 uid[64];

	if (garbage)
		say("this is not JSON");
	if (unknown_ids) {
		snprintf(uid, sizeof(uid), "\"unknown-%ld\"", random());
		id = uid;
	}
	say("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":%s}", id, result);
}

static void
echo(const char *id, const char *line)
{
	char	 text[4096], uid[64];
	size_t	 i;

	if (unknown_ids) {
		snprintf(uid, sizeof(uid), "\"unknown-%ld\"", random());
		id = uid;
	}
	if (bigline) {
		printf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":"
		    "[{\"type\":\"text\",\"text\":\"", id);
		for (i = 0; i < 10 * 1024 * 1024; i++)
			putchar('a');
		say("\"}]}}");
		return;
	}
	if (json_raw(line, "text", text, sizeof(text)) == -1 ||
	    text[0] != '"')
		strlcpy(text, "\"\"", sizeof(text));
	printf("%s{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":"
	    "[{\"type\":\"text\",\"text\":%s}]}}\n", garbage ?
	    "this is not JSON\n" : "", id, text);
	fflush(stdout);
}

static void
serve(void)
{
	char	*line = NULL, id[256], method[128];
	size_t	 cap = 0;
	ssize_t	 n;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		if (json_raw(line, "method", method, sizeof(method)) == -1) {
			/* A response: to ask's request; shown. */
			fprintf(stderr, "answer %s", line);
			continue;
		}
		if (json_raw(line, "id", id, sizeof(id)) == -1)
			continue;		/* a notification */
		if (strcmp(method, "\"initialize\"") == 0) {
			if (no_init)
				continue;
			answer(id, "{\"protocolVersion\":\"2025-06-18\","
			    "\"capabilities\":{\"tools\":{}},\"serverInfo\":"
			    "{\"name\":\"stdioserver\",\"version\":\"1\"}}");
			if (ask != NULL)
				say("{\"jsonrpc\":\"2.0\",\"id\":\"srv-1\","
				    "\"method\":\"%s\",\"params\":{}}", ask);
			while (flood)
				say("{\"jsonrpc\":\"2.0\",\"method\":"
				    "\"notifications/message\",\"params\":"
				    "{\"level\":\"info\",\"data\":\"flood\"}}");
		} else if (strcmp(method, "\"tools/list\"") == 0)
			answer(id, "{\"tools\":[{\"name\":\"echo\","
			    "\"description\":\"Echo the text\",\"inputSchema\":"
			    "{\"type\":\"object\",\"properties\":{\"text\":"
			    "{\"type\":\"string\"}}}},{\"name\":\"add\","
			    "\"inputSchema\":{\"type\":\"object\"}},{\"name\":"
			    "\"delete_all\",\"inputSchema\":{\"type\":"
			    "\"object\"}}]}");
		else if (strcmp(method, "\"tools/call\"") == 0) {
			if (exit_mid_call)
				exit(3);
			echo(id, line);
		} else if (strcmp(method, "\"ping\"") == 0)
			answer(id, "{}");
		else
			say("{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":"
			    "{\"code\":"
			    "-32601,\"message\":\"Method not found\"}}", id);
	}
	free(line);
	while (ignore_eof)
		pause();
}

int
main(int argc, char *argv[])
{
	const char	*a;
	int		 i, n, j, saved_stdout = -1;

	if (argc == 3 && strcmp(argv[1], "hang") == 0)
		hang();
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "probes-on-stderr") == 0) {
			/* Behind a relay that wants JSON only on stdout. */
			fflush(stdout);
			if ((saved_stdout = dup(STDOUT_FILENO)) == -1 ||
			    dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
				exit(2);
		} else if (strcmp(a, "id") == 0)
			probe_id();
		else if (strcmp(a, "env") == 0) {
			for (j = 0; environ[j] != NULL; j++)
				say("env %s", environ[j]);
		} else if (strcmp(a, "cwd") == 0) {
			char	 cwd[4096];

			say("cwd %s", getcwd(cwd, sizeof(cwd)) != NULL ? cwd :
			    strerror(errno));
		} else if (strncmp(a, "write=", 6) == 0)
			probe_write(a + 6);
		else if (strncmp(a, "read=", 5) == 0)
			probe_read(a + 5);
		else if (strncmp(a, "connect=", 8) == 0)
			probe_connect(a + 8);
		else if (strcmp(a, "ptrace") == 0) {
			if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1)
				say("ptrace failed: %s", strerror(errno));
			else
				say("ptrace ok");
		} else if (strcmp(a, "unshare") == 0) {
			if (unshare(CLONE_NEWUSER) == -1)
				say("unshare failed: %s", strerror(errno));
			else
				say("unshare ok");
		} else if (strcmp(a, "mount") == 0) {
			say("mount trying");
			if (mount("none", "/mnt", "tmpfs", 0, NULL) == -1)
				say("mount failed: %s", strerror(errno));
			else
				say("mount ok");
		} else if (strncmp(a, "grandchild=", 11) == 0)
			probe_grandchild(argv[0], a + 11);
		else if (strncmp(a, "stderr=", 7) == 0) {
			n = atoi(a + 7);
			for (j = 0; j < n; j++)
				fprintf(stderr, "stderr line %d\n", j);
		} else if (strcmp(a, "ignore-term") == 0)
			signal(SIGTERM, SIG_IGN);
		else if (strcmp(a, "ignore-eof") == 0)
			ignore_eof = 1;
		else if (strncmp(a, "exit=", 5) == 0)
			exit(atoi(a + 5));
		else if (strncmp(a, "alloc=", 6) == 0)
			probe_alloc(a + 6);
		else if (strncmp(a, "fork=", 5) == 0)
			probe_fork(a + 5);
		else if (strncmp(a, "ask=", 4) == 0)
			ask = a + 4;
		else if (strcmp(a, "no-init") == 0)
			no_init = 1;
		else if (strcmp(a, "exit-mid-call") == 0)
			exit_mid_call = 1;
		else if (strcmp(a, "garbage") == 0)
			garbage = 1;
		else if (strcmp(a, "bigline") == 0)
			bigline = 1;
		else if (strcmp(a, "flood") == 0)
			flood = 1;
		else if (strcmp(a, "unknown-ids") == 0)
			unknown_ids = 1;
		else {
			fprintf(stderr, "stdioserver: unknown argument %s\n",
			    a);
			exit(2);
		}
	}
	if (saved_stdout != -1 && dup2(saved_stdout, STDOUT_FILENO) == -1)
		exit(2);
	serve();
	return (0);
}
