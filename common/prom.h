/*
 * The Prometheus text exposition format, version 0.0.4: what mcpgatectl
 * status --format prometheus prints for node_exporter's textfile
 * collector.
 */
#ifndef MCPGATE_PROM_H
#define MCPGATE_PROM_H

#include <stdio.h>

#include <jansson.h>

#define PROM_FAMILIES_MAX	64
#define PROM_NAME_MAX		64

/* A writer: each family's HELP and TYPE once, then its samples. */
struct prom {
	FILE		*fp;
	char		 family[PROM_NAME_MAX];	/* the current one */
	char		 seen[PROM_FAMILIES_MAX][PROM_NAME_MAX];
	int		 nseen;
	int		 error;			/* a family twice, or bad */
};

void	 prom_init(struct prom *, FILE *);
int	 prom_family(struct prom *, const char *, const char *,
	    const char *);
void	 prom_sample(struct prom *, json_int_t, ...);
void	 prom_escape(FILE *, const char *, int);
int	 prom_name_ok(const char *);
int	 prom_status(FILE *, const json_t *);

#endif
