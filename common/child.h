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

struct child_chan {
	struct imsgbuf	 ibuf;
	struct event	 ev;
	ev_fd_cb	 cb;
	void		*arg;
};

void	 child_setup(enum proc_id, int, int);
void	 child_chan_init(struct child_chan *, int, int, ev_fd_cb, void *);
void	 child_chan_events(struct child_chan *);
void	 child_chan_send(struct child_chan *, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 child_chan_io(struct child_chan *, short, const char *);
void	 child_recv(struct child_chan *, struct imsg *);
void	 child_on_stop(void (*)(void));
int	 child_common_imsg(struct imsg *);
void	 child_log_level(int);
void	 child_bad_imsg(const char *, struct imsg *)
	    __attribute__((noreturn));

extern struct child_chan	 child_parent;

#endif
