/*
 * The spawner's cgroups (privsep/cgroup.c): its readers of
 * /proc/self/cgroup and mountinfo lines, the directory of a cgroup under
 * a mount, and what it decides and writes on a tree made to look like
 * cgroupfs in a temporary directory: v2 delegated, v1, none and why, a
 * server's limits and the failure when a file is not there, its OOM
 * count and its removal.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../privsep/privsep.h"
#include "unit.h"

static int
self(const char *text, const char *ctl, char *path, size_t len)
{
	char	 line[512];

	strlcpy(line, text, sizeof(line));
	return (cgroup_self_line(line, ctl, path, len));
}

static void
test_self_line(void)
{
	char	 path[PATH_MAX], small[8];

	T_ASSERT(self("4:memory:/process_api/3e5d\n", "memory", path,
	    sizeof(path)) == 1 && strcmp(path, "/process_api/3e5d") == 0);
	T_ASSERT(self("2:cpu,cpuacct:/a:b", "cpuacct", path,
	    sizeof(path)) == 1 && strcmp(path, "/a:b") == 0);
	T_ASSERT(self("2:cpu,cpuacct:/a", "cpu", path, sizeof(path)) == 1);
	T_ASSERT(self("2:cpu,cpuacct:/a", "cpuac", path, sizeof(path)) == 0);
	T_ASSERT(self("0::/system.slice/mcpgated.service", NULL, path,
	    sizeof(path)) == 1 &&
	    strcmp(path, "/system.slice/mcpgated.service") == 0);
	T_ASSERT(self("0::/", "memory", path, sizeof(path)) == 0);
	T_ASSERT(self("9:name=systemd:/", NULL, path, sizeof(path)) == 0);
	T_ASSERT(self("8:pids:/", "memory", path, sizeof(path)) == 0);
	T_ASSERT(self("8:pids:/", "pids", path, sizeof(path)) == 1 &&
	    strcmp(path, "/") == 0);
	/* What does not parse is not used. */
	T_ASSERT(self("x:memory:/", "memory", path, sizeof(path)) == -1);
	T_ASSERT(self(":memory:/", "memory", path, sizeof(path)) == -1);
	T_ASSERT(self("-1:memory:/", "memory", path, sizeof(path)) == -1);
	T_ASSERT(self("4:memory", "memory", path, sizeof(path)) == -1);
	T_ASSERT(self("4:memory:relative", "memory", path,
	    sizeof(path)) == -1);
	T_ASSERT(self("", NULL, path, sizeof(path)) == -1);
	T_ASSERT(self("4:memory:/a/long/path", "memory", small,
	    sizeof(small)) == -1);
}

static int
mount_line(const char *text, const char *ctl, char *mnt, char *root)
{
	char	 line[1024];

	strlcpy(line, text, sizeof(line));
	return (cgroup_mount_line(line, ctl, mnt, PATH_MAX, root, PATH_MAX));
}

static void
test_mount_line(void)
{
	char	 mnt[PATH_MAX], root[PATH_MAX];

	T_ASSERT(mount_line("34 30 0:31 / /sys/fs/cgroup/memory rw,relatime "
	    "- cgroup cgroup rw,memory\n", "memory", mnt, root) == 1 &&
	    strcmp(mnt, "/sys/fs/cgroup/memory") == 0 &&
	    strcmp(root, "/") == 0);
	T_ASSERT(mount_line("34 30 0:31 / /sys/fs/cgroup/memory rw,relatime "
	    "- cgroup cgroup rw,memory", "pids", mnt, root) == 0);
	T_ASSERT(mount_line("34 30 0:31 / /sys/fs/cgroup/memory rw,relatime "
	    "- cgroup cgroup rw,memory", NULL, mnt, root) == 0);
	T_ASSERT(mount_line("31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw "
	    "shared:9 - cgroup cgroup rw,cpu,cpuacct", "cpuacct", mnt,
	    root) == 1 && strcmp(mnt, "/sys/fs/cgroup/cpu,cpuacct") == 0);
	/* Optional fields before the separator; a v2 mount. */
	T_ASSERT(mount_line("30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev "
	    "shared:4 master:1 - cgroup2 cgroup2 rw,nsdelegate", NULL, mnt,
	    root) == 1 && strcmp(mnt, "/sys/fs/cgroup") == 0);
	T_ASSERT(mount_line("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 "
	    "cgroup2 rw", "memory", mnt, root) == 0);
	/* A mount of a cgroup of the hierarchy, with a space, escaped. */
	T_ASSERT(mount_line("40 30 0:37 /a\\040b /mnt/my\\040cg rw - cgroup2 "
	    "cgroup2 rw", NULL, mnt, root) == 1 &&
	    strcmp(mnt, "/mnt/my cg") == 0 && strcmp(root, "/a b") == 0);
	T_ASSERT(mount_line("22 1 0:21 / /sys rw - sysfs sysfs rw", NULL,
	    mnt, root) == 0);
	/* What does not parse. */
	T_ASSERT(mount_line("22 1 0:21 / /sys rw sysfs sysfs rw", NULL,
	    mnt, root) == -1);
	T_ASSERT(mount_line("22 1 0:21 / /sys rw - cgroup2 cgroup2", NULL,
	    mnt, root) == -1);
	T_ASSERT(mount_line("22 1 0:21 / /sys rw - cgroup2 cgroup2 rw x",
	    NULL, mnt, root) == -1);
	T_ASSERT(mount_line("22 1 0:21 / rel rw - cgroup2 cgroup2 rw",
	    NULL, mnt, root) == -1);
	T_ASSERT(mount_line("22  1 0:21 / /sys rw - cgroup2 cgroup2 rw",
	    NULL, mnt, root) == -1);
	T_ASSERT(mount_line("", NULL, mnt, root) == -1);
}

static void
test_dir(void)
{
	char	 d[PATH_MAX], small[16];

	T_ASSERT(cgroup_dir("/sys/fs/cgroup", "/", "/a/b", d,
	    sizeof(d)) == 0 && strcmp(d, "/sys/fs/cgroup/a/b") == 0);
	T_ASSERT(cgroup_dir("/sys/fs/cgroup", "/", "/", d, sizeof(d)) == 0 &&
	    strcmp(d, "/sys/fs/cgroup") == 0);
	T_ASSERT(cgroup_dir("/mnt", "/a", "/a/b", d, sizeof(d)) == 0 &&
	    strcmp(d, "/mnt/b") == 0);
	T_ASSERT(cgroup_dir("/mnt", "/a", "/a", d, sizeof(d)) == 0 &&
	    strcmp(d, "/mnt") == 0);
	/* A mount that does not show the cgroup. */
	T_ASSERT(cgroup_dir("/mnt", "/a", "/ab", d, sizeof(d)) == -1);
	T_ASSERT(cgroup_dir("/mnt", "/a", "/b", d, sizeof(d)) == -1);
	T_ASSERT(cgroup_dir("/mnt", "/", "/a/../b", d, sizeof(d)) == -1);
	T_ASSERT(cgroup_dir("/mnt", "/", "/a/..", d, sizeof(d)) == -1);
	T_ASSERT(cgroup_dir("/sys/fs/cgroup", "/", "/long", small,
	    sizeof(small)) == -1);
}

/* dir/file with text, made. */
static int
put(const char *dir, const char *file, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((f = fopen(path, "w")) == NULL)
		return (-1);
	fputs(text, f);
	return (fclose(f) == 0 ? 0 : -1);
}

/* dir/file removed. */
static int
unlink_in(const char *dir, const char *file)
{
	char	 path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path))
		return (-1);
	return (unlink(path));
}

/* What dir/file holds, into buf. */
static const char *
get(const char *dir, const char *file, char *buf, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	buf[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return (buf);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

static char	 t_tree[64];

/* A tree: self and mountinfo files, and the hierarchies they name. */
static int
tree(const char *controllers)
{
	char	 p[PATH_MAX], mi[4 * PATH_MAX];

	strlcpy(t_tree, "/tmp/mgcgroup.XXXXXX", sizeof(t_tree));
	if (mkdtemp(t_tree) == NULL)
		return (-1);
	snprintf(mi, sizeof(mi),
	    "22 1 0:21 / /sys rw - sysfs sysfs rw\n"
	    "30 22 0:27 / %s/v2 rw shared:4 - cgroup2 cgroup2 rw\n"
	    "34 30 0:31 / %s/mem rw - cgroup cgroup rw,memory\n"
	    "38 30 0:35 / %s/pids rw - cgroup cgroup rw,pids\n",
	    t_tree, t_tree, t_tree);
	if (put(t_tree, "mountinfo", mi) == -1 ||
	    put(t_tree, "self", "9:name=systemd:/\n8:pids:/p\n"
	    "4:memory:/m/n\n0::/svc\n") == -1)
		return (-1);
	snprintf(p, sizeof(p), "%s/v2", t_tree);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/v2/svc", t_tree);
	mkdir(p, 0755);
	if (put(p, "cgroup.controllers", controllers) == -1 ||
	    put(p, "cgroup.subtree_control", "") == -1)
		return (-1);
	snprintf(p, sizeof(p), "%s/mem", t_tree);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/mem/m", t_tree);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/mem/m/n", t_tree);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/pids", t_tree);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/pids/p", t_tree);
	return (mkdir(p, 0755));
}

static void
detect(struct cgroup_host *h, int root)
{
	char	 s[PATH_MAX], m[PATH_MAX];

	snprintf(s, sizeof(s), "%s/self", t_tree);
	snprintf(m, sizeof(m), "%s/mountinfo", t_tree);
	cgroup_detect(h, s, m, root);
}

static void
test_detect(void)
{
	struct cgroup_host	 h;
	char			 want[PATH_MAX], buf[256];

	if (tree("cpu io memory pids\n") == -1)
		T_SKIP("cannot make a tree in /tmp");
	detect(&h, 1);
	snprintf(want, sizeof(want), "%s/v2/svc", t_tree);
	T_ASSERTF(h.mode == CGROUP_V2 && strcmp(h.v2, want) == 0,
	    "mode %d v2 %s why %s", h.mode, h.v2, h.why);
	T_ASSERT(strcmp(get(want, "cgroup.subtree_control", buf,
	    sizeof(buf)), "+memory +pids") == 0);
	detect(&h, 0);
	T_ASSERT(h.mode == CGROUP_NONE &&
	    strcmp(h.why, "not running as root") == 0);
	t_rmtree(t_tree);

	/* A v2 cgroup without the controllers: v1's. */
	if (tree("cpu io\n") == -1)
		T_SKIP("cannot make a tree in /tmp");
	detect(&h, 1);
	snprintf(want, sizeof(want), "%s/mem/m/n", t_tree);
	T_ASSERTF(h.mode == CGROUP_V1 && strcmp(h.mem, want) == 0 &&
	    h.v2[0] == '\0', "mode %d mem %s why %s", h.mode, h.mem, h.why);
	snprintf(want, sizeof(want), "%s/pids/p", t_tree);
	T_ASSERT(strcmp(h.pids, want) == 0);

	/* And no pids cgroup: none, saying what is missing. */
	t_rmtree(want);
	detect(&h, 1);
	T_ASSERTF(h.mode == CGROUP_NONE && strstr(h.why, "no writable memory "
	    "and pids cgroup controllers: ") == h.why &&
	    strstr(h.why, "does not have the memory and pids controllers") !=
	    NULL && strstr(h.why, "/pids/p: No such file") != NULL,
	    "mode %d why %s", h.mode, h.why);
	t_rmtree(t_tree);
}

static void
test_server(void)
{
	struct cgroup_host	 h;
	char			 own[PATH_MAX + 32], srv[PATH_MAX + 64];
	char			 err[256], buf[PATH_MAX + 128];

	if (tree("memory pids\n") == -1)
		T_SKIP("cannot make a tree in /tmp");
	detect(&h, 1);
	T_ASSERT(h.mode == CGROUP_V2);
	/* No limit: nothing made. */
	T_ASSERT(cgroup_server_add(&h, "app", 7, 0, 0, 1234, err,
	    sizeof(err)) == 0);
	snprintf(own, sizeof(own), "%s/mcpgated-%d", h.v2, (int)getpid());
	T_ASSERT(access(own, F_OK) == -1);
	/* A file the kernel would have made is missing: a clear failure. */
	T_ASSERT(cgroup_server_add(&h, "app", 7, 64 << 20, 8, 1234, err,
	    sizeof(err)) == -1);
	T_ASSERTF(strncmp(err, "cannot apply memory_max: ", 25) == 0 &&
	    strstr(err, "/cgroup.subtree_control: No such file") != NULL,
	    "%s", err);
	T_ASSERT(put(own, "cgroup.subtree_control", "") == 0);
	T_ASSERT(cgroup_server_add(&h, "app", 7, 64 << 20, 8, 1234, err,
	    sizeof(err)) == -1);
	T_ASSERTF(strstr(err, "/app-app-7/memory.max: No such file") != NULL,
	    "%s", err);
	/* As the kernel makes them: the limits and the pid go in. */
	snprintf(srv, sizeof(srv), "%s/app-app-7", own);
	T_ASSERT(put(srv, "memory.max", "") == 0 &&
	    put(srv, "memory.swap.max", "") == 0 &&
	    put(srv, "pids.max", "") == 0 &&
	    put(srv, "cgroup.procs", "") == 0);
	T_ASSERTF(cgroup_server_add(&h, "app", 7, 64 << 20, 8, 1234, err,
	    sizeof(err)) == 0, "%s", err);
	T_ASSERT(strcmp(get(own, "cgroup.subtree_control", buf, sizeof(buf)),
	    "+memory +pids") == 0);
	T_ASSERT(strcmp(get(srv, "memory.max", buf, sizeof(buf)),
	    "67108864") == 0);
	T_ASSERT(strcmp(get(srv, "memory.swap.max", buf, sizeof(buf)),
	    "0") == 0);
	T_ASSERT(strcmp(get(srv, "pids.max", buf, sizeof(buf)), "8") == 0);
	T_ASSERT(strcmp(get(srv, "cgroup.procs", buf, sizeof(buf)),
	    "1234") == 0);
	/* Its OOM kills, as memory.events says them. */
	T_ASSERT(cgroup_server_oom(&h, "app", 7) == 0);
	T_ASSERT(put(srv, "memory.events", "low 0\nhigh 0\nmax 12\noom 2\n"
	    "oom_kill 2\noom_group_kill 0\n") == 0);
	T_ASSERT(cgroup_server_oom(&h, "app", 7) == 2);
	T_ASSERT(cgroup_server_oom(&h, "other", 7) == 0);
	/* Removed, and its spawner's with its last. */
	T_ASSERT(unlink_in(srv, "memory.max") == 0);
	T_ASSERT(unlink_in(srv, "memory.swap.max") == 0);
	T_ASSERT(unlink_in(srv, "memory.events") == 0);
	T_ASSERT(unlink_in(srv, "pids.max") == 0);
	T_ASSERT(unlink_in(srv, "cgroup.procs") == 0);
	T_ASSERT(unlink_in(own, "cgroup.subtree_control") == 0);
	T_ASSERT(cgroup_server_remove(&h, "app", 7) == 0);
	T_ASSERT(access(srv, F_OK) == -1 && access(own, F_OK) == -1);
	T_ASSERT(cgroup_server_remove(&h, "app", 7) == 0);
	t_rmtree(t_tree);
}

/* v1: a directory a controller, memsw as the limit when it is there. */
static void
test_server_v1(void)
{
	struct cgroup_host	 h;
	char			 own[PATH_MAX + 32], srv[PATH_MAX + 64];
	char			 err[256], buf[PATH_MAX + 128];

	if (tree("io\n") == -1)
		T_SKIP("cannot make a tree in /tmp");
	detect(&h, 1);
	T_ASSERT(h.mode == CGROUP_V1);
	snprintf(own, sizeof(own), "%s/mcpgated-%d", h.mem, (int)getpid());
	snprintf(srv, sizeof(srv), "%s/app-a-b-1", own);
	T_ASSERT(mkdir(own, 0755) == 0 && mkdir(srv, 0755) == 0);
	T_ASSERT(put(srv, "memory.limit_in_bytes", "") == 0 &&
	    put(srv, "memory.memsw.limit_in_bytes", "") == 0 &&
	    put(srv, "cgroup.procs", "") == 0);
	/* Memory only: no pids cgroup is made. */
	T_ASSERTF(cgroup_server_add(&h, "a-b", 1, 1 << 20, 0, 42, err,
	    sizeof(err)) == 0, "%s", err);
	T_ASSERT(strcmp(get(srv, "memory.limit_in_bytes", buf, sizeof(buf)),
	    "1048576") == 0);
	T_ASSERT(strcmp(get(srv, "memory.memsw.limit_in_bytes", buf,
	    sizeof(buf)), "1048576") == 0);
	T_ASSERT(strcmp(get(srv, "cgroup.procs", buf, sizeof(buf)),
	    "42") == 0);
	snprintf(buf, sizeof(buf), "%s/mcpgated-%d", h.pids, (int)getpid());
	T_ASSERT(access(buf, F_OK) == -1);
	T_ASSERT(put(srv, "memory.oom_control", "oom_kill_disable 0\n"
	    "under_oom 0\noom_kill 1\n") == 0);
	T_ASSERT(cgroup_server_oom(&h, "a-b", 1) == 1);
	/* tasks_max: the pids hierarchy, which lacks the files here. */
	T_ASSERT(cgroup_server_add(&h, "a-b", 2, 0, 5, 42, err,
	    sizeof(err)) == -1);
	T_ASSERTF(strncmp(err, "cannot apply tasks_max: ", 24) == 0 &&
	    strstr(err, "/app-a-b-2/pids.max: No such file") != NULL,
	    "%s", err);
	t_rmtree(t_tree);
}

int
main(void)
{
	t_suite = "cgroup";
	T_RUN(test_self_line);
	T_RUN(test_mount_line);
	T_RUN(test_dir);
	T_RUN(test_detect);
	T_RUN(test_server);
	T_RUN(test_server_v1);
	return (t_done());
}
