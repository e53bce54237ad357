/*
 * A growable byte buffer with a hard cap, for text built piece by piece.
 */
#ifndef MCPGATE_BUF_H
#define MCPGATE_BUF_H

#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated while it lives */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* 0: no cap */
	int	 failed;	/* out of memory or over the cap */
};

void	 buf_init(struct buf *, size_t);
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*buf_release(struct buf *, size_t *);
void	 buf_free(struct buf *);

#endif
