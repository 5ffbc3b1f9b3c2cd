#define _GNU_SOURCE /* accept4, strdup, S_ISSOCK even under -std=c11 */
#include "pool.h"

#include "../ffi_abi.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pool {
    void *tq;
    tr_handler handler;
    void *ctx;
    char name[16];
    int nworkers;
    pthread_t *workers;

    /* FIFO of tasks handed from the poller to the workers (a growable ring). */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void **q;
    size_t cap, head, count;
    int closing;
};

static void run_task(struct pool *p, void *task)
{
    int len = 0, rsp_len = 0, rc;
    char *req = ngx_http_lua_ffi_get_req(task, &len);
    char *rsp = NULL;

    rc = p->handler(p->ctx, req, len, &rsp, &rsp_len);
    if (rc != 0 && rsp == NULL) {
        rsp = strdup("runtime failed without a message");
        rsp_len = 0;
    }
    ngx_http_lua_ffi_respond(task, rc, rsp, rsp_len);
}

static int push(struct pool *p, void *task)
{
    if (p->count == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 256, i;
        void **nq = malloc(ncap * sizeof *nq);
        if (!nq) return ENOMEM;
        for (i = 0; i < p->count; i++) nq[i] = p->q[(p->head + i) % p->cap];
        free(p->q);
        p->q = nq;
        p->cap = ncap;
        p->head = 0;
    }
    p->q[(p->head + p->count) % p->cap] = task;
    p->count++;
    return 0;
}

/* Named by their creator, so the names are there when tr_pool_start returns: a worker that loads
   the runtime after binding its threads places the new poller by its name at once (engine cpu.c). */
static void name_thread(struct pool *p, pthread_t t, const char *suffix)
{
    char n[16];
    snprintf(n, sizeof n, "%.*s-%s", (int)(sizeof n - 2 - strlen(suffix)), p->name, suffix);
    pthread_setname_np(t, n);
}

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        void *task;
        pthread_mutex_lock(&p->mu);
        while (p->count == 0 && !p->closing) pthread_cond_wait(&p->cv, &p->mu);
        if (p->count == 0) { /* closing and drained */
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        task = p->q[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        pthread_mutex_unlock(&p->mu);
        run_task(p, task);
    }
}

static void destroy(struct pool *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->q);
    free(p->workers);
    free(p->ctx);
    free(p);
}

/* Tells the workers to leave once the queue is empty, and waits for them. */
static void stop_workers(struct pool *p)
{
    int i;

    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->nworkers; i++) pthread_join(p->workers[i], NULL);
}

static void *poller_main(void *arg)
{
    struct pool *p = arg;
    void *task;

    while ((task = ngx_http_lua_ffi_task_poll(p->tq)) != NULL) {
        if (p->nworkers == 0) {
            run_task(p, task);
            continue;
        }
        pthread_mutex_lock(&p->mu);
        if (push(p, task) != 0) {
            pthread_mutex_unlock(&p->mu);
            run_task(p, task); /* out of memory for the queue: do it here rather than drop it */
            continue;
        }
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }

    /* Unloaded: let the workers finish what was handed to them, then leave. */
    stop_workers(p);
    destroy(p);
    return NULL;
}

int tr_pool_start(const char *name, void *tq, int nworkers, tr_handler h, void *ctx)
{
    struct pool *p = calloc(1, sizeof *p);
    pthread_t poller;
    int i, err = 0;

    if (!p) return ENOMEM;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->tq = tq;
    p->handler = h;
    p->ctx = ctx;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (nworkers > 0 && !(p->workers = calloc((size_t)nworkers, sizeof *p->workers))) {
        p->ctx = NULL; /* the caller keeps ctx when start fails */
        destroy(p);
        return ENOMEM;
    }
    for (i = 0; i < nworkers; i++) {
        if ((err = pthread_create(&p->workers[i], NULL, worker_main, p)) != 0) break;
        name_thread(p, p->workers[i], "w");
        p->nworkers++;
    }
    if (i < nworkers || (err = pthread_create(&poller, NULL, poller_main, p)) != 0) {
        stop_workers(p);
        p->ctx = NULL;
        destroy(p);
        return err;
    }
    name_thread(p, poller, "poll");
    pthread_detach(poller);
    return 0;
}
