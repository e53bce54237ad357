/*
 * A small event loop over epoll with one-shot timers, the one loop every
 * mcpgate process runs.  Level-triggered; callbacks may add, change and
 * delete any event or timer, including their own.
 */
#ifndef MCPGATE_EV_H
#define MCPGATE_EV_H

#include <sys/tree.h>

#include <stdint.h>

#define EV_READ		0x001	/* EPOLLIN */
#define EV_WRITE	0x004	/* EPOLLOUT */

typedef void	(*ev_fd_cb)(int, short, void *);
typedef void	(*ev_timer_cb)(void *);

struct event {
	int		 fd;
	short		 events;
	int		 added;
	ev_fd_cb	 cb;
	void		*arg;
};

struct ev_timer {
	RB_ENTRY(ev_timer) entry;
	uint64_t	 when;
	uint64_t	 seq;
	int		 pending;
	ev_timer_cb	 cb;
	void		*arg;
};

int		 ev_init(void);
void		 ev_set(struct event *, int, ev_fd_cb, void *);
int		 ev_add(struct event *, short);
void		 ev_del(struct event *);
void		 ev_timer_set(struct ev_timer *, ev_timer_cb, void *);
void		 ev_timer_add(struct ev_timer *, uint64_t);
void		 ev_timer_del(struct ev_timer *);
int		 ev_timer_pending(const struct ev_timer *);
int		 ev_dispatch(void);
void		 ev_break(void);
void		 ev_prepoll(void (*)(void));
uint64_t	 ev_now_ms(void);

#endif
