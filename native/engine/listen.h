/* listen.h: listen sockets (listen.c). */
#ifndef TRESTY_ENGINE_LISTEN_H
#define TRESTY_ENGINE_LISTEN_H
#include <stddef.h>
/* A listening TCP socket (non-blocking, close-on-exec; IPv6 only for an IPv6 address; "" = all
   IPv4 addresses). Returns the fd, or -1 with *err = errno. */
int te_listen(const char *host, int port, int backlog, int *err);
/* The local address of a socket as text, and its port (-1 on error). */
int te_local_port(int fd, char *addr, size_t cap);
#endif
