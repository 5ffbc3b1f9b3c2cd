// Prototype engine core shared by the three thread layouts in bench/engine-proto/: sockets, a
// minimal request-head scan (GET only, no bodies: enough to measure the hand-off), batch records
// into a caller's buffer, and answers written back from a caller's buffer. Not the real engine.
#ifndef PROTO_CORE_H
#define PROTO_CORE_H
#include <stdint.h>
#include <stddef.h>

#define PC_MAX_FD 65536
#define PC_RBUF 4096

typedef struct pc_conn {
  int fd;
  uint32_t rlen;
  char *pend;          // unsent answer bytes (partial write)
  uint32_t plen, pcap, poff;
  char rbuf[PC_RBUF];
} pc_conn;

typedef struct pc_engine {
  int epfd;
  int lfd;
  int evfd;            // optional doorbell (thread layout), -1 otherwise
  pc_conn *conns[PC_MAX_FD];
} pc_engine;

int pc_listen(const char *host, int port);
int pc_init(pc_engine *e, int lfd, int with_doorbell);
/*
 * Handles every ready event (timeout_ms: 0 = do not wait) and appends one record per complete
 * request to out (at *used, up to cap): u32 fd, u16 method len, u16 url len, method, url, padded
 * to 4. Returns the number of requests; sets *woken when the doorbell fired.
 */
int pc_run(pc_engine *e, int timeout_ms, char *out, uint32_t cap, uint32_t *used, int *woken);
/* Writes answer records: u32 fd, u32 len, bytes padded to 4. Returns bytes consumed. */
void pc_flush(pc_engine *e, const char *buf, uint32_t len);
void pc_send(pc_engine *e, int fd, const char *p, uint32_t n);
#endif
