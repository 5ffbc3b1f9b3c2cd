/*
 * The thread scaffold every C runtime shares: one poller thread drains the
 * host's task queue and either runs each task itself (threads=0, best for
 * work cheaper than a hand-off, like echo) or hands it to a pool of workers.
 */
#ifndef TRESTY_POOL_H
#define TRESTY_POOL_H

/*
 * Does the work of one task. On success returns 0 and sets *rsp to a malloc'd
 * buffer of *rsp_len bytes (0 = NUL-terminated). On failure returns non-zero
 * and sets *rsp to a malloc'd NUL-terminated message (or NULL).
 */
typedef int (*tr_handler)(void *ctx, const char *req, int len, char **rsp, int *rsp_len);

/* Starts the poller (and nworkers workers) for tq. ctx is passed to the
 * handler and freed with free() when the plugin is unloaded. Threads are named
 * NAME-poll and NAME-wN (at most 15 chars, seen in top -H). Returns 0 or an errno. */
int tr_pool_start(const char *name, void *tq, int nworkers, tr_handler h, void *ctx);

#endif
