#define _GNU_SOURCE
#include "core.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

int pc_listen(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, host, &a.sin_addr);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 511) < 0) { close(fd); return -errno; }
  return fd;
}

int pc_init(pc_engine *e, int lfd, int with_doorbell) {
  memset(e, 0, sizeof *e);
  e->epfd = epoll_create1(EPOLL_CLOEXEC);
  e->lfd = lfd;
  struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = lfd };
  epoll_ctl(e->epfd, EPOLL_CTL_ADD, lfd, &ev);
  e->evfd = -1;
  if (with_doorbell) {
    e->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event dv = { .events = EPOLLIN, .data.fd = e->evfd };
    epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->evfd, &dv);
  }
  return e->epfd;
}

static void conn_close(pc_engine *e, pc_conn *c) {
  epoll_ctl(e->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  e->conns[c->fd] = NULL;
  free(c->pend);
  free(c);
}

static void accept_all(pc_engine *e) {
  for (;;) {
    int fd = accept4(e->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (fd >= PC_MAX_FD) { close(fd); continue; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pc_conn *c = calloc(1, sizeof *c);
    c->fd = fd;
    e->conns[fd] = c;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev);
  }
}

/* Cuts complete heads off the read buffer into records. */
static int scan(pc_conn *c, char *out, uint32_t cap, uint32_t *used) {
  int n = 0;
  uint32_t start = 0;
  for (;;) {
    char *p = c->rbuf + start;
    uint32_t avail = c->rlen - start;
    char *end = memmem(p, avail, "\r\n\r\n", 4);
    if (!end) break;
    char *sp1 = memchr(p, ' ', end - p);
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', end - sp1 - 1) : NULL;
    if (!sp2) { start = c->rlen; break; }
    uint32_t ml = sp1 - p, ul = sp2 - sp1 - 1;
    uint32_t need = (8 + ml + ul + 3) & ~3u;
    if (*used + need > cap) break;
    char *r = out + *used;
    memcpy(r, &c->fd, 4);
    uint16_t m16 = ml, u16 = ul;
    memcpy(r + 4, &m16, 2);
    memcpy(r + 6, &u16, 2);
    memcpy(r + 8, p, ml);
    memcpy(r + 8 + ml, sp1 + 1, ul);
    *used += need;
    n++;
    start = (end + 4) - c->rbuf;
  }
  if (start > 0) {
    memmove(c->rbuf, c->rbuf + start, c->rlen - start);
    c->rlen -= start;
  }
  return n;
}

int pc_run(pc_engine *e, int timeout_ms, char *out, uint32_t cap, uint32_t *used, int *woken) {
  struct epoll_event evs[256];
  int total = 0;
  int n = epoll_wait(e->epfd, evs, 256, timeout_ms);
  for (int i = 0; i < n; i++) {
    int fd = evs[i].data.fd;
    if (fd == e->lfd) { accept_all(e); continue; }
    if (fd == e->evfd) { uint64_t v; if (read(fd, &v, 8) > 0 && woken) *woken = 1; continue; }
    pc_conn *c = e->conns[fd];
    if (!c) continue;
    if (evs[i].events & EPOLLOUT) { pc_send(e, fd, NULL, 0); if (!e->conns[fd]) continue; }
    if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
    ssize_t r = read(fd, c->rbuf + c->rlen, PC_RBUF - c->rlen);
    if (r <= 0) {
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      conn_close(e, c);
      continue;
    }
    c->rlen += r;
    total += scan(c, out, cap, used);
    if (c->rlen == PC_RBUF) conn_close(e, c);
  }
  return total;
}

void pc_send(pc_engine *e, int fd, const char *p, uint32_t n) {
  pc_conn *c = e->conns[fd];
  if (!c) return;
  if (c->plen > c->poff) {
    // Earlier bytes wait: queue behind them, then try to write them all.
    if (n) {
      if (c->plen + n > c->pcap) { c->pcap = (c->plen + n) * 2; c->pend = realloc(c->pend, c->pcap); }
      memcpy(c->pend + c->plen, p, n);
      c->plen += n;
    }
    ssize_t w = write(fd, c->pend + c->poff, c->plen - c->poff);
    if (w < 0 && errno != EAGAIN) { conn_close(e, c); return; }
    if (w > 0) c->poff += w;
    if (c->poff == c->plen) {
      c->poff = c->plen = 0;
      struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
      epoll_ctl(e->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    return;
  }
  if (!n) return;
  ssize_t w = write(fd, p, n);
  if (w == (ssize_t)n) return;
  if (w < 0) { if (errno != EAGAIN) { conn_close(e, c); return; } w = 0; }
  uint32_t rest = n - w;
  if (rest > c->pcap) { c->pcap = rest * 2; c->pend = realloc(c->pend, c->pcap); }
  memcpy(c->pend, p + w, rest);
  c->plen = rest;
  c->poff = 0;
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = fd };
  epoll_ctl(e->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void pc_flush(pc_engine *e, const char *buf, uint32_t len) {
  uint32_t off = 0;
  while (off + 8 <= len) {
    uint32_t fd, n;
    memcpy(&fd, buf + off, 4);
    memcpy(&n, buf + off + 4, 4);
    pc_send(e, fd, buf + off + 8, n);
    off += (8 + n + 3) & ~3u;
  }
}
