/*
 * What every child of mcpgated does the same way: its name in ps and in
 * logs, its signals, its channel to the parent, and receiving its set-up
 * before it sandboxes itself.
 */
#ifndef MCPGATE_CHILD_H
#define MCPGATE_CHILD_H

#include "ev.h"
#include "imsg.h"
#include "proto.h"

/* What a child does with the parent's messages beyond the common ones. */
struct child_ops {
	void	(*init)(struct imsg *);		/* an INIT_* of its own */
	void	(*reconf)(const struct conf_snapshot *);
	int	(*imsg)(struct imsg *);		/* 1 when handled */
};

/* The set-up every child receives. */
struct child_init {
	struct sandbox_creds	 creds;
	struct conf_snapshot	 conf;
};

struct child_chan {
	struct imsgbuf	 ibuf;
	struct event	 ev;
	ev_fd_cb	 cb;
	void		*arg;
	int		 queued;	/* in child_flush's list */
};

void	 child_setup(enum proc_id, int, int);
void	 child_chan_init(struct child_chan *, int, int, ev_fd_cb, void *);
void	 child_chan_events(struct child_chan *);
void	 child_chan_send(struct child_chan *, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 child_chan_io(struct child_chan *, short, const char *);
void	 child_recv(struct child_chan *, struct imsg *);
void	 child_on_stop(void (*)(void));
void	 child_log_level(int);
void	 child_receive_init(struct child_init *, const struct child_ops *);
void	 child_dispatch_parent(int, short, void *);
void	 child_bad_imsg(const char *, struct imsg *)
	    __attribute__((noreturn));
void	 child_imsg_fixed(const char *, struct imsg *, void *, size_t);

extern struct child_chan	 child_parent;

#endif
