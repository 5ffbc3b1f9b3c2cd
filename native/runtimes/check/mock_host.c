/*
 * tresty-runtime-check: a stand-in host for trying a runtime without Node.
 * It provides the lua-resty-ffi ABI itself (linked -rdynamic so the runtime
 * resolves the three functions against it), queues every request read from
 * stdin at once, writes the answers in request order, then unloads and checks
 * that the runtime's pollers leave task_poll.
 *
 *   tresty-runtime-check LIB [CFG]   (CFG "-" or absent: cfg is NULL)
 *   stdin:  frames of u32le length + payload
 *   stdout: frames of i32le rc + u32le length + payload
 */
#define _GNU_SOURCE /* accept4, strdup, S_ISSOCK even under -std=c11 */
#include "../ffi_abi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct task {
    char *req;
    int len;
    int done, rc;
    char *rsp;
    size_t rsp_len;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct task *tasks;
static size_t ntasks, next_task, ndone;
static int unloaded, in_poll;

void *ngx_http_lua_ffi_task_poll(void *tq)
{
    void *t = NULL;
    (void)tq;
    pthread_mutex_lock(&mu);
    in_poll++;
    while (next_task == ntasks && !unloaded) pthread_cond_wait(&cv, &mu);
    if (next_task < ntasks) t = &tasks[next_task++];
    in_poll--;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return t;
}

char *ngx_http_lua_ffi_get_req(void *task, int *len)
{
    struct task *t = task;
    /* as the real host: len may be NULL (the request is NUL-terminated), task may be NULL */
    if (len) *len = t ? t->len : 0;
    return t ? t->req : NULL;
}

void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len)
{
    struct task *t = task;
    pthread_mutex_lock(&mu);
    if (t->done) {
        fprintf(stderr, "check: task %zu answered twice\n", (size_t)(t - tasks));
        exit(3);
    }
    t->done = 1;
    t->rc = rc;
    t->rsp = rsp;
    t->rsp_len = rsp == NULL ? 0 : rsp_len > 0 ? (size_t)rsp_len : strlen(rsp);
    ndone++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static int read_all(FILE *f, void *buf, size_t n)
{
    return n == 0 || fread(buf, 1, n, f) == n ? 0 : -1;
}

static void put_u32(uint32_t v)
{
    unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24) };
    fwrite(b, 1, 4, stdout);
}

int main(int argc, char **argv)
{
    size_t cap = 0, i;
    unsigned char hdr[4];
    void *lib;
    int (*init)(char *, void *);
    char *cfg = NULL;
    struct timespec deadline;
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: %s LIB [CFG] < frames\n", argv[0]);
        return 2;
    }
    while (read_all(stdin, hdr, 4) == 0) {
        uint32_t len = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (uint32_t)hdr[3] << 24;
        if (ntasks == cap) {
            cap = cap ? cap * 2 : 64;
            tasks = realloc(tasks, cap * sizeof *tasks);
        }
        memset(&tasks[ntasks], 0, sizeof *tasks);
        tasks[ntasks].req = malloc(len + 1);
        tasks[ntasks].len = (int)len;
        if (read_all(stdin, tasks[ntasks].req, len) != 0) {
            fprintf(stderr, "check: truncated frame on stdin\n");
            return 2;
        }
        ntasks++;
    }

    if (!(lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL))) {
        fprintf(stderr, "check: %s\n", dlerror());
        return 2;
    }
    if (!(init = (int (*)(char *, void *))dlsym(lib, "libffi_init"))) {
        fprintf(stderr, "check: %s has no libffi_init\n", argv[1]);
        return 2;
    }
    /* The host owns cfg and frees it right after init, as tresty does. */
    if (argc > 2 && strcmp(argv[2], "-") != 0) cfg = strdup(argv[2]);
    rc = init(cfg, &tasks);
    free(cfg);
    if (rc != 0) {
        fprintf(stderr, "check: libffi_init returned %d\n", rc);
        return 1;
    }

    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&cv); /* tasks were queued before the pollers existed */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20;
    while (ndone < ntasks)
        if (pthread_cond_timedwait(&cv, &mu, &deadline) != 0) {
            fprintf(stderr, "check: %zu of %zu tasks unanswered after 20 s\n", ntasks - ndone, ntasks);
            return 1;
        }
    pthread_mutex_unlock(&mu);

    for (i = 0; i < ntasks; i++) {
        put_u32((uint32_t)tasks[i].rc);
        put_u32((uint32_t)tasks[i].rsp_len);
        fwrite(tasks[i].rsp, 1, tasks[i].rsp_len, stdout);
        free(tasks[i].rsp); /* the host frees responses: they must come from malloc */
        free(tasks[i].req);
    }
    fflush(stdout);

    /* Unload: every poller must come out of task_poll with NULL. */
    pthread_mutex_lock(&mu);
    unloaded = 1;
    pthread_cond_broadcast(&cv);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    while (in_poll > 0)
        if (pthread_cond_timedwait(&cv, &mu, &deadline) != 0) {
            fprintf(stderr, "check: %d pollers still in task_poll after unload\n", in_poll);
            return 1;
        }
    pthread_mutex_unlock(&mu);
    return 0;
}
