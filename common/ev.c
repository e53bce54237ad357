#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/tree.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "ev.h"

#define EV_BATCH	64

RB_HEAD(ev_timers, ev_timer);

static int		 ev_epfd = -1;
static int		 ev_stop;
static uint64_t		 ev_seq;
static struct ev_timers	 ev_timers = RB_INITIALIZER(&ev_timers);
static struct epoll_event ev_batch[EV_BATCH];
static int		 ev_nbatch;
static void		(*ev_prepoll_fn)(void);

static int
ev_timer_cmp(struct ev_timer *a, struct ev_timer *b)
{
	if (a->when != b->when)
		return (a->when < b->when ? -1 : 1);
	if (a->seq != b->seq)
		return (a->seq < b->seq ? -1 : 1);
	return (0);
}

RB_GENERATE_STATIC(ev_timers, ev_timer, entry, ev_timer_cmp)

uint64_t
ev_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

int
ev_init(void)
{
	if (ev_epfd != -1)
		close(ev_epfd);
	ev_stop = 0;
	RB_INIT(&ev_timers);
	if ((ev_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return (-1);
	return (0);
}

void
ev_set(struct event *ev, int fd, ev_fd_cb cb, void *arg)
{
	memset(ev, 0, sizeof(*ev));
	ev->fd = fd;
	ev->cb = cb;
	ev->arg = arg;
}

/* Watch for events (EV_READ | EV_WRITE), replacing what was watched. */
int
ev_add(struct event *ev, short events)
{
	struct epoll_event	 ee;

	/* Nothing to watch: leave epoll, or a hang-up would spin the loop. */
	if (events == 0) {
		ev_del(ev);
		return (0);
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = (events & EV_READ ? EPOLLIN : 0) |
	    (events & EV_WRITE ? EPOLLOUT : 0);
	ee.data.ptr = ev;
	if (ev->added) {
		if (ev->events == events)
			return (0);
		if (epoll_ctl(ev_epfd, EPOLL_CTL_MOD, ev->fd, &ee) == -1)
			return (-1);
	} else {
		if (epoll_ctl(ev_epfd, EPOLL_CTL_ADD, ev->fd, &ee) == -1)
			return (-1);
		ev->added = 1;
	}
	ev->events = events;
	return (0);
}

/*
 * Stop watching.  Events of this batch not yet delivered are forgotten,
 * so the owner may free ev at once.
 */
void
ev_del(struct event *ev)
{
	int	 i;

	if (ev->added) {
		epoll_ctl(ev_epfd, EPOLL_CTL_DEL, ev->fd, NULL);
		ev->added = 0;
		ev->events = 0;
	}
	for (i = 0; i < ev_nbatch; i++)
		if (ev_batch[i].data.ptr == ev)
			ev_batch[i].data.ptr = NULL;
}

void
ev_timer_set(struct ev_timer *t, ev_timer_cb cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
}

/* Fire once, msec from now; an armed timer is re-armed. */
void
ev_timer_add(struct ev_timer *t, uint64_t msec)
{
	if (t->pending)
		RB_REMOVE(ev_timers, &ev_timers, t);
	t->when = ev_now_ms() + msec;
	t->seq = ev_seq++;
	t->pending = 1;
	RB_INSERT(ev_timers, &ev_timers, t);
}

void
ev_timer_del(struct ev_timer *t)
{
	if (t->pending) {
		RB_REMOVE(ev_timers, &ev_timers, t);
		t->pending = 0;
	}
}

int
ev_timer_pending(const struct ev_timer *t)
{
	return (t->pending);
}

/*
 * Run fn before each wait: what the last turn queued goes out together,
 * and a channel needs to watch for writing only when the kernel would
 * not take it all.
 */
void
ev_prepoll(void (*fn)(void))
{
	ev_prepoll_fn = fn;
}

void
ev_break(void)
{
	ev_stop = 1;
}

static void
ev_run_timers(void)
{
	struct ev_timer	*t;
	uint64_t	 now = ev_now_ms();

	while ((t = RB_MIN(ev_timers, &ev_timers)) != NULL && t->when <= now) {
		RB_REMOVE(ev_timers, &ev_timers, t);
		t->pending = 0;
		t->cb(t->arg);
	}
}

/*
 * Run until ev_break(); -1 if epoll itself fails.  A later call runs
 * again, until the next ev_break().
 */
int
ev_dispatch(void)
{
	struct ev_timer	*t;
	struct event	*ev;
	uint64_t	 now;
	int		 i, n, timeout;
	short		 what;

	while (!ev_stop) {
		if (ev_prepoll_fn != NULL)
			ev_prepoll_fn();
		timeout = -1;
		if ((t = RB_MIN(ev_timers, &ev_timers)) != NULL) {
			now = ev_now_ms();
			timeout = t->when <= now ? 0 :
			    (t->when - now > 60000 ? 60000 :
			    (int)(t->when - now));
		}
		n = epoll_wait(ev_epfd, ev_batch, EV_BATCH, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		ev_nbatch = n;
		for (i = 0; i < n && !ev_stop; i++) {
			if ((ev = ev_batch[i].data.ptr) == NULL)
				continue;
			what = 0;
			if ((ev->events & EV_READ) && (ev_batch[i].events &
			    (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
				what |= EV_READ;
			if ((ev->events & EV_WRITE) && (ev_batch[i].events &
			    (EPOLLOUT | EPOLLHUP | EPOLLERR)))
				what |= EV_WRITE;
			if (what == 0)
				continue;
			ev->cb(ev->fd, what, ev->arg);
		}
		ev_nbatch = 0;
		if (!ev_stop)
			ev_run_timers();
	}
	ev_stop = 0;
	return (0);
}
