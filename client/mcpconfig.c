/*
 * mcpgate mcp config: the entries an MCP client needs to run
 * "mcpgate mcp connect NAME", printed, or merged into the client's JSON
 * configuration file without disturbing anything else in it.  No secret
 * goes into it: the bridge reads the key and certificate from the
 * profile each time it runs.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"

#define MCPCONFIG_MAXFILE	(16 * 1024 * 1024)

enum json_style {
	STYLE_AUTO,
	STYLE_PRETTY,
	STYLE_COMPACT,
};

struct mcpconfig_opts {
	const char	*name;		/* one server */
	json_t		*labels;	/* --labels, or NULL */
	const char	*client;	/* --client-config */
	enum json_style	 style;
	int		 all;
};

/* What goes into each entry. */
struct entry_ctx {
	char		 self[PATH_MAX];	/* this program */
	char		 home[PATH_MAX];	/* MCPGATE_HOME, or "" */
	int		 vscode;		/* "type": "stdio" too */
};

/* A client's configuration file, read and checked. */
struct conf_file {
	char		 path[PATH_MAX];	/* as the user knows it */
	char		 real[PATH_MAX];	/* where it is written */
	const char	*key;			/* mcpServers, servers */
	json_t		*doc;
	mode_t		 mode;
	int		 exists;
	int		 oneline;
};

static const char *
home_dir(void)
{
	struct passwd	*pw;
	const char	*home;

	if ((home = getenv("HOME")) != NULL && home[0] == '/')
		return (home);
	if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL)
		errx(CLIENT_EXIT_FAIL, "no home directory: set HOME");
	return (pw->pw_dir);
}

/* An absolute path: a relative one is taken from the current directory. */
static void
absolute(const char *path, char *buf, size_t len)
{
	char	 cwd[PATH_MAX];

	if (path[0] == '/') {
		if (strlcpy(buf, path, len) >= len)
			errx(CLIENT_EXIT_FAIL, "%s: path too long", path);
		return;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		err(CLIENT_EXIT_FAIL, "getcwd");
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if ((size_t)snprintf(buf, len, "%s/%s", strcmp(cwd, "/") == 0 ? "" :
	    cwd, path) >= len)
		errx(CLIENT_EXIT_FAIL, "%s: path too long", path);
}

static void
entry_ctx_init(struct entry_ctx *x, const char *client)
{
	const char	*env;
	size_t		 n;

	if (self_path(x->self, sizeof(x->self)) == -1)
		err(CLIENT_EXIT_FAIL, "cannot find the path of mcpgate");
	n = strlen(x->self);
	if (n > 10 && strcmp(x->self + n - 10, " (deleted)") == 0)
		errx(CLIENT_EXIT_FAIL, "%.*s was replaced while it ran: run "
		    "the command again", (int)(n - 10), x->self);
	x->home[0] = '\0';
	if ((env = getenv("MCPGATE_HOME")) != NULL && env[0] != '\0' &&
	    realpath(env, x->home) == NULL)
		absolute(env, x->home, sizeof(x->home));
	x->vscode = client != NULL && strcmp(client, "vscode") == 0;
}

/*
 * Make or update one entry in place: command, args and MCPGATE_HOME are
 * ours; every other key of it, and its place among the others, stay.
 */
static int
entry_set(json_t *servers, const char *key, const char *app,
    const struct entry_ctx *x)
{
	json_t	*e, *env;
	int	 existed;

	e = json_object_get(servers, key);
	if (!(existed = json_is_object(e))) {
		e = json_object();
		json_object_set_new(servers, key, e);
	}
	if (x->vscode)
		json_object_set_new(e, "type", json_string("stdio"));
	json_object_set_new(e, "command", json_string(x->self));
	json_object_set_new(e, "args", json_pack("[s,s,s]", "mcp",
	    "connect", app));
	env = json_object_get(e, "env");
	if (x->home[0] != '\0') {
		if (!json_is_object(env)) {
			env = json_object();
			json_object_set_new(e, "env", env);
		}
		json_object_set_new(env, "MCPGATE_HOME",
		    json_string(x->home));
	} else if (json_is_object(env)) {
		/* The default profile now: an old one must not linger. */
		json_object_del(env, "MCPGATE_HOME");
		if (json_object_size(env) == 0)
			json_object_del(e, "env");
	}
	return (existed);
}

/* The servers asked for, from those the gateway lets the user see. */
static json_t *
select_apps(const struct mcpconfig_opts *o)
{
	json_t		*apps, *sel, *app;
	char		 errbuf[1024];
	size_t		 i;
	int		 offered;

	if ((apps = mcp_apps(&offered, errbuf, sizeof(errbuf))) == NULL)
		errx(CLIENT_EXIT_FAIL, "%s", errbuf);
	if ((sel = json_array()) == NULL)
		err(CLIENT_EXIT_FAIL, NULL);
	json_array_foreach(apps, i, app) {
		if (jstr(app, "name")[0] == '\0')
			continue;
		if (o->all || (o->name != NULL && strcmp(o->name,
		    jstr(app, "name")) == 0) || (o->labels != NULL &&
		    app_labels_select(app, o->labels)))
			json_array_append(sel, app);
	}
	json_decref(apps);
	if (json_array_size(sel) > 0)
		return (sel);
	if (offered == 0)
		errx(CLIENT_EXIT_FAIL, "the gateway offers no MCP servers yet; "
		    "ask your administrator to set one up");
	if (o->name != NULL)
		errx(CLIENT_EXIT_FAIL, "there is no MCP server '%s' that you "
		    "may use: 'mcpgate mcp ls' lists those you may", o->name);
	if (o->all)
		errx(CLIENT_EXIT_FAIL, "you may not use any MCP server on this "
		    "gateway; ask your administrator for a role that allows "
		    "one");
	errx(CLIENT_EXIT_FAIL, "none of the MCP servers you may use has those "
	    "labels: 'mcpgate mcp ls' shows their labels");
}

/* Tell about servers whose tools are all out of reach. */
static void
warn_no_tools(json_t *apps)
{
	json_t	*app, *tools;
	size_t	 i;

	json_array_foreach(apps, i, app) {
		tools = json_object_get(app, "tools");
		if (!json_is_true(json_object_get(tools, "all")) &&
		    json_array_size(json_object_get(tools, "allowed")) == 0)
			fprintf(stderr, "mcpgate: warning: your roles allow "
			    "no tool of %s; ask your administrator for a "
			    "role that allows some\n", jstr(app, "name"));
	}
}

/* A word for the shell, quoted when it needs to be. */
static void
shell_word(const char *s)
{
	const char	*p;

	if (s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-") == strlen(s)) {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	putchar('\'');
}

/* Claude Code keeps its own files: print the commands that add them. */
static int
claude_code(json_t *apps, const struct entry_ctx *x)
{
	json_t		*app;
	char		 entry[300], env[PATH_MAX + 20];
	size_t		 i;

	json_array_foreach(apps, i, app) {
		snprintf(entry, sizeof(entry), "mcpgate-%s",
		    jstr(app, "name"));
		fputs("claude mcp add --transport stdio ", stdout);
		shell_word(entry);
		if (x->home[0] != '\0') {
			snprintf(env, sizeof(env), "MCPGATE_HOME=%s",
			    x->home);
			fputs(" --env ", stdout);
			shell_word(env);
		}
		fputs(" -- ", stdout);
		shell_word(x->self);
		fputs(" mcp connect ", stdout);
		shell_word(jstr(app, "name"));
		putchar('\n');
	}
	fprintf(stderr, "mcpgate: run %s where Claude Code should use the "
	    "server%s (add --scope user for every project)\n",
	    json_array_size(apps) > 1 ? "these commands" : "this command",
	    json_array_size(apps) > 1 ? "s" : "");
	return (CLIENT_EXIT_OK);
}

/* Where a client keeps its servers, and under which key. */
static void
client_file(const char *client, struct conf_file *f)
{
	const char	*xdg;
	char		 buf[PATH_MAX];
	int		 r;

	f->key = "mcpServers";
	if (strcmp(client, "claude") == 0) {
#ifdef __APPLE__
		r = snprintf(buf, sizeof(buf), "%s/Library/Application "
		    "Support/Claude/claude_desktop_config.json", home_dir());
#else
		/* Electron keeps an app's files under XDG_CONFIG_HOME. */
		if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL &&
		    xdg[0] == '/')
			r = snprintf(buf, sizeof(buf), "%s/Claude/"
			    "claude_desktop_config.json", xdg);
		else
			r = snprintf(buf, sizeof(buf), "%s/.config/Claude/"
			    "claude_desktop_config.json", home_dir());
#endif
	} else if (strcmp(client, "cursor") == 0)
		r = snprintf(buf, sizeof(buf), "%s/.cursor/mcp.json",
		    home_dir());
	else if (strcmp(client, "vscode") == 0) {
		r = snprintf(buf, sizeof(buf), ".vscode/mcp.json");
		f->key = "servers";
	} else
		r = snprintf(buf, sizeof(buf), "%s", client);
	(void)xdg;
	if (r < 0 || (size_t)r >= sizeof(buf))
		errx(CLIENT_EXIT_FAIL, "the path of %s's configuration is too "
		    "long", client);
	absolute(buf, f->path, sizeof(f->path));
	strlcpy(f->real, f->path, sizeof(f->real));
}

/* A refusal that names the place in the file; nothing was changed. */
static void __attribute__((noreturn))
file_refuse(const struct conf_file *f, const char *text, size_t len,
    const char *key, const char *what)
{
	int	 line = 1, col = 1;

	if (key == NULL || json_key_pos(text, len, key, &line, &col) == -1)
		json_text_pos(text, len, strspn(text, " \t\r\n"), &line,
		    &col);
	errx(CLIENT_EXIT_FAIL, "%s:%d:%d: %s; the file was not changed",
	    f->path, line, col, what);
}

/*
 * Read the existing configuration, or none yet.  It must be a JSON
 * object whose server key, if there, is an object too; anything else is
 * refused, and left as it is.
 */
static void
client_read(struct conf_file *f)
{
	struct stat	 st;
	json_error_t	 jerr;
	json_t		*servers;
	char		*text, what[600];
	size_t		 len;

	f->mode = 0600;
	f->doc = NULL;
	if (lstat(f->path, &st) == -1) {
		if (errno != ENOENT)
			err(CLIENT_EXIT_FAIL, "%s", f->path);
		f->doc = json_object();
		return;
	}
	/* Write through a link (dotfiles kept elsewhere), not over it. */
	if (S_ISLNK(st.st_mode) && realpath(f->path, f->real) == NULL)
		err(CLIENT_EXIT_FAIL, "%s", f->path);
	if (read_file(f->real, MCPCONFIG_MAXFILE, &text, &len) == -1)
		err(CLIENT_EXIT_FAIL, "%s", f->path);
	if (stat(f->real, &st) == 0)
		f->mode = st.st_mode & 07777;
	f->exists = 1;
	if (strspn(text, " \t\r\n") == len) {
		free(text);
		f->doc = json_object();		/* empty: a new file */
		return;
	}
	f->oneline = memchr(text, '\n', len) == NULL ||
	    strspn(strchr(text, '\n'), " \t\r\n") == strlen(strchr(text,
	    '\n'));
	if ((f->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		errx(CLIENT_EXIT_FAIL, "%s:%d:%d: not valid JSON: %s; the "
		    "file was not changed (mcpgate does not edit files with "
		    "comments or trailing commas: add the entry by hand, see "
		    "'mcpgate mcp config NAME')", f->path, jerr.line,
		    jerr.column, jerr.text);
	if (!json_is_object(f->doc))
		file_refuse(f, text, len, NULL, "the top level is not a JSON "
		    "object");
	servers = json_object_get(f->doc, f->key);
	if (servers != NULL && !json_is_object(servers)) {
		snprintf(what, sizeof(what), "\"%s\" is not a JSON object",
		    f->key);
		file_refuse(f, text, len, f->key, what);
	}
	free(text);
}

/* Missing directories above a file, each made 0700. */
static void
make_parents(const char *path)
{
	char	 dir[PATH_MAX], *p;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		errx(CLIENT_EXIT_FAIL, "%s: path too long", path);
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			err(CLIENT_EXIT_FAIL, "mkdir %s", dir);
		*p = '/';
	}
}

static void
report(const struct conf_file *f, json_t *added, json_t *updated)
{
	json_t	*o;
	char	*s;
	size_t	 len, i;

	if (client_format == CFMT_JSON) {
		o = json_pack("{s:s,s:O,s:O}", "path", f->path, "added", added,
		    "updated", updated);
		s = json_text(o, 1, &len);
		fputs(s, stdout);
		free(s);
		json_decref(o);
		return;
	}
	printf("Updated %s:", f->path);
	for (i = 0; i < json_array_size(added); i++)
		printf("%s %s", i == 0 ? " added" : ",",
		    json_string_value(json_array_get(added, i)));
	for (i = 0; i < json_array_size(updated); i++)
		printf("%s%s %s", i > 0 ? "," : json_array_size(added) > 0 ?
		    ";" : "", i == 0 ? " updated" : "",
		    json_string_value(json_array_get(updated, i)));
	printf(".\n");
}

/* Add or update the entries of the file read, and write it whole. */
static int
client_write(struct conf_file *f, const char *client, json_t *apps,
    const struct entry_ctx *x, enum json_style style)
{
	json_t			*servers, *app, *added, *updated;
	char			 key[300], *text;
	size_t			 i, len;

	if ((servers = json_object_get(f->doc, f->key)) == NULL) {
		servers = json_object();
		json_object_set_new(f->doc, f->key, servers);
	}
	added = json_array();
	updated = json_array();
	json_array_foreach(apps, i, app) {
		snprintf(key, sizeof(key), "mcpgate-%s", jstr(app, "name"));
		json_array_append_new(entry_set(servers, key, jstr(app,
		    "name"), x) ? updated : added, json_string(key));
	}
	if (style == STYLE_AUTO)
		style = f->exists && f->oneline ? STYLE_COMPACT : STYLE_PRETTY;
	text = json_text(f->doc, style == STYLE_PRETTY, &len);
	make_parents(f->real);
	if (write_file_atomic(f->real, text, len, f->mode) == -1)
		err(CLIENT_EXIT_FAIL, "%s", f->path);
	free(text);
	report(f, added, updated);
	if (strcmp(client, "claude") == 0 || strcmp(client, "cursor") == 0)
		fprintf(stderr, "mcpgate: restart %s to use %s\n",
		    client[1] == 'l' ? "Claude Desktop" : "Cursor",
		    json_array_size(apps) > 1 ? "them" : "it");
	json_decref(added);
	json_decref(updated);
	json_decref(f->doc);
	return (CLIENT_EXIT_OK);
}

/* No file named: print the entries, and say where they go. */
static int
print_entries(json_t *apps, const struct entry_ctx *x,
    enum json_style style)
{
	json_t	*doc, *servers, *app;
	char	 key[300], *text;
	size_t	 i, len;

	servers = json_object();
	doc = json_pack("{s:o}", "mcpServers", servers);
	json_array_foreach(apps, i, app) {
		snprintf(key, sizeof(key), "mcpgate-%s", jstr(app, "name"));
		entry_set(servers, key, jstr(app, "name"), x);
	}
	text = json_text(doc, style != STYLE_COMPACT, &len);
	fputs(text, stdout);
	free(text);
	json_decref(doc);
	fprintf(stderr, "mcpgate: add the entr%s above to \"mcpServers\" in "
	    "your MCP client's configuration\n(Claude Desktop: "
	    "~/.config/Claude/claude_desktop_config.json on Linux,\n"
	    "~/Library/Application Support/Claude/claude_desktop_config.json "
	    "on macOS;\nCursor: ~/.cursor/mcp.json), or let --client-config "
	    "claude, cursor, vscode,\nclaude-code or the file's path do "
	    "it\n", json_array_size(apps) > 1 ? "ies" : "y");
	return (CLIENT_EXIT_OK);
}

enum {
	OPT_ALL = CLIENT_OPT_FIRST,
	OPT_LABELS,
	OPT_CLIENT_CONFIG,
	OPT_JSON_FORMAT,
};

static void
mcpconfig_args(int argc, char **argv, struct mcpconfig_opts *o)
{
	static const struct option	 longopts[] = {
		{ "all",	   no_argument,		NULL,	OPT_ALL },
		{ "labels",	   required_argument,	NULL,	OPT_LABELS },
		{ "client-config", required_argument,	NULL,
		    OPT_CLIENT_CONFIG },
		{ "json-format",   required_argument,	NULL,
		    OPT_JSON_FORMAT },
		CLIENT_LONGOPTS,
		{ NULL,		   0,			NULL,	0 }
	};
	int	 ch;

	memset(o, 0, sizeof(*o));
	while ((ch = client_getopt(argc, argv, "h", longopts)) != -1) {
		switch (ch) {
		case OPT_ALL:
			o->all = 1;
			break;
		case OPT_LABELS:
			if (o->labels == NULL && (o->labels = json_object()) ==
			    NULL)
				err(CLIENT_EXIT_FAIL, NULL);
			if (app_labels_parse(o->labels, optarg) == -1)
				errx(CLIENT_EXIT_USAGE, "--labels: '%s' is not "
				    "K=V[,K=V...]", optarg);
			break;
		case OPT_CLIENT_CONFIG:
			if (optarg[0] == '\0')
				errx(CLIENT_EXIT_USAGE, "--client-config: "
				    "name a client or a file");
			o->client = optarg;
			break;
		case OPT_JSON_FORMAT:
			if (strcmp(optarg, "pretty") == 0)
				o->style = STYLE_PRETTY;
			else if (strcmp(optarg, "compact") == 0)
				o->style = STYLE_COMPACT;
			else if (strcmp(optarg, "auto") == 0)
				o->style = STYLE_AUTO;
			else
				errx(CLIENT_EXIT_USAGE, "--json-format is "
				    "pretty, compact or auto");
			break;
		}
	}
	if (optind < argc)
		o->name = argv[optind++];
	if (optind < argc || (o->name != NULL) + o->all +
	    (o->labels != NULL) != 1) {
		warnx("mcp config: name one server, or give --all or "
		    "--labels");
		client_usage(CLIENT_EXIT_USAGE);
	}
}

int
cmd_mcp_config(int argc, char **argv)
{
	struct mcpconfig_opts	 o;
	struct entry_ctx	 x;
	struct conf_file	 f;
	json_t			*apps;
	int			 ret;

	mcpconfig_args(argc, argv, &o);
	entry_ctx_init(&x, o.client);
	/* A file that cannot be edited is refused before anything else. */
	memset(&f, 0, sizeof(f));
	if (o.client != NULL && strcmp(o.client, "claude-code") != 0) {
		client_file(o.client, &f);
		client_read(&f);
	}
	apps = select_apps(&o);
	json_decref(o.labels);
	warn_no_tools(apps);
	if (o.client == NULL)
		ret = print_entries(apps, &x, o.style);
	else if (strcmp(o.client, "claude-code") == 0)
		ret = claude_code(apps, &x);
	else
		ret = client_write(&f, o.client, apps, &x, o.style);
	json_decref(apps);
	return (ret);
}
