/*
 * The apps the gateway offers, as the parent alone knows them: those of
 * app_service.apps in the configuration and the kind: app resources of
 * the store.  mcpd names an app; what runs, as whom and where is looked
 * up here and nowhere else.
 *
 * A name in both: the configuration wins.  mcpgatectl create refuses an
 * app of a name the configuration holds, but a reload may add one to the
 * configuration that the store already has; that app of the store then
 * stays hidden (and is said so in the log) until the configuration's is
 * removed.  With app_service.enabled false there is no app at all.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "privsep.h"

/* The app of that name in configuration c, or NULL. */
const struct app_res *
app_config(const struct mcpgated_conf *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->napps; i++)
		if (strcmp(c->apps[i].name, name) == 0)
			return (&c->apps[i]);
	return (NULL);
}

/*
 * The app of that name, from the configuration or the store, or NULL.
 * The pointer is good until the next reload or change of the store:
 * copy what must outlive the call.
 */
const struct app_res *
app_lookup(const char *name)
{
	const struct app_res	*a;
	struct resource		*r;

	if (!parent->conf.app_enabled)
		return (NULL);
	if ((a = app_config(&parent->conf, name)) != NULL)
		return (a);
	if ((r = store_find(&parent->store, RES_APP, name)) != NULL)
		return (&r->u.app);
	return (NULL);
}

/* One app for mcpd: what users may see of it, never how it runs. */
static int
app_snapshot_one(struct buf *b, const struct app_res *a,
    void (*part)(const char *, size_t))
{
	struct resource	 res;
	char		*y;
	size_t		 len;

	memset(&res, 0, sizeof(res));
	res.kind = RES_APP;
	res.u.app = *a;		/* borrowed: not cleared */
	y = resource_yaml(&res, RES_SNAPSHOT, &len);
	explicit_bzero(&res, sizeof(res));
	if (y == NULL)
		return (-1);
	if (b->len > 0 && b->len + len + 4 > STORE_SNAPSHOT_PART) {
		part(b->data, b->len);
		b->len = 0;
	}
	buf_puts(b, "---\n");
	buf_add(b, y, len);
	free(y);
	return (b->failed ? -1 : 0);
}

/*
 * The apps users may be offered, for mcpd's snapshot: the
 * configuration's, then the store's that no app of the configuration
 * hides; none when app_service is disabled.
 */
int
apps_snapshot(void (*part)(const char *, size_t))
{
	struct resources	*l = &parent->store.res[RES_APP];
	struct buf		 b;
	size_t			 i;
	int			 ret = 0;

	if (!parent->conf.app_enabled)
		return (0);
	buf_init(&b, 0);
	for (i = 0; ret == 0 && i < parent->conf.napps; i++)
		ret = app_snapshot_one(&b, &parent->conf.apps[i], part);
	for (i = 0; ret == 0 && i < l->n; i++) {
		if (app_config(&parent->conf, l->v[i].u.app.name) != NULL)
			continue;
		ret = app_snapshot_one(&b, &l->v[i].u.app, part);
	}
	if (ret == 0 && b.len > 0)
		part(b.data, b.len);
	buf_free(&b);
	return (ret);
}

/* Say which apps of the store the configuration hides, at start and reload. */
void
apps_log_hidden(void)
{
	struct resources	*l = &parent->store.res[RES_APP];
	size_t			 i;

	for (i = 0; i < l->n; i++)
		if (app_config(&parent->conf, l->v[i].u.app.name) != NULL)
			log_warnx("app %s of the configuration hides the "
			    "app of that name created with mcpgatectl; "
			    "remove one of them", l->v[i].u.app.name);
}
