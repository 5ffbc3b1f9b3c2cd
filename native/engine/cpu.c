/*
 * worker_cpu_affinity (src/master/cpu-affinity.ts chooses the CPUs). nginx binds a worker process
 * that has one thread; a tresty worker has many (V8's platform threads, libuv's pool, FFI
 * pollers), so every thread present is bound, and threads made later inherit the binding from
 * their creator. ffi_poller_cpu_affinity next puts the pollers (threads named NAME-poll) on the
 * next worker's CPUs instead: then a worker's hand-off does not wait for the worker itself to
 * yield its core (bench/README.md, "Pollers on the other worker's core").
 */
#define NAPI_VERSION 8
#include "cpu.h"
#include "addon.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JS array of CPU numbers as a set; 0, or -EINVAL for anything else or an empty array. */
static int cpu_set_of(napi_env env, napi_value arr, cpu_set_t *set)
{
    bool is_array = false;
    uint32_t n = 0;
    if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array || napi_get_array_length(env, arr, &n) != napi_ok || n == 0)
        return -EINVAL;
    CPU_ZERO(set);
    for (uint32_t i = 0; i < n; i++) {
        napi_value v;
        uint32_t cpu;
        if (napi_get_element(env, arr, i, &v) != napi_ok || napi_get_value_uint32(env, v, &cpu) != napi_ok || cpu >= CPU_SETSIZE)
            return -EINVAL;
        CPU_SET(cpu, set);
    }
    return 0;
}

/* A runtime's poller thread: the C and Rust pools and Go's ffi.ServeNamed name theirs NAME-poll. */
static bool is_poller(pid_t tid)
{
    char path[64], comm[32];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
    FILE *f = fopen(path, "re");
    if (!f) return false;
    bool yes = false;
    if (fgets(comm, sizeof comm, f)) {
        size_t n = strcspn(comm, "\n");
        yes = n >= 5 && memcmp(comm + n - 5, "-poll", 5) == 0;
    }
    fclose(f);
    return yes;
}

/* Calls apply(tid, arg) on every thread of this process: the threads it acted on, or -errno of a
   failure (ESRCH, a thread that ended meanwhile, is none). apply returns 1 when it acted, 0 when
   it skipped the thread, -1 with errno set when it failed. */
static int each_thread(int (*apply)(pid_t tid, void *arg), void *arg)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -errno;
    int done = 0, err = 0;
    for (struct dirent *e; (e = readdir(d));) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid <= 0) continue;
        int r = apply(tid, arg);
        if (r > 0) done++;
        else if (r < 0 && errno != ESRCH) err = errno;
    }
    closedir(d);
    return err ? -err : done;
}

struct pin { const cpu_set_t *all, *pollers; };

static int pin_one(pid_t tid, void *arg)
{
    const struct pin *p = arg;
    const cpu_set_t *to = p->pollers && is_poller(tid) ? p->pollers : p->all;
    return sched_setaffinity(tid, sizeof *to, to) == 0 ? 1 : -1;
}

/* pinThreads(cpus[, pollerCpus]): every thread onto cpus, the pollers onto pollerCpus if given. */
napi_value te_js_pin_threads(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value a[2];
    cpu_set_t set, pollers;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || cpu_set_of(env, a[0], &set) != 0)
        return te_num(env, -EINVAL);
    napi_valuetype t = napi_undefined;
    bool apart = argc > 1 && napi_typeof(env, a[1], &t) == napi_ok && t != napi_undefined;
    if (apart && cpu_set_of(env, a[1], &pollers) != 0) return te_num(env, -EINVAL);
    struct pin p = { &set, apart ? &pollers : NULL };
    return te_num(env, each_thread(pin_one, &p));
}

static int fifo_one(pid_t tid, void *arg)
{
    (void)arg;
    if (!is_poller(tid)) return 0;
    struct sched_param sp = { .sched_priority = 1 };
    return sched_setscheduler(tid, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0 ? 1 : -1;
}

/* fifoPollers(): the NAME-poll threads to SCHED_FIFO at the lowest real-time priority
   (ffi_poller_sched fifo). Bound with their worker on one CPU, a poller then runs the moment the
   worker wakes it, on that CPU, with no idle core to wake and no wait for a time slice; it sleeps
   again once its ring is drained. SCHED_RESET_ON_FORK: threads a runtime starts from its poller
   are ordinary ones. */
napi_value te_js_fifo_pollers(napi_env env, napi_callback_info info)
{
    (void)info;
    return te_num(env, each_thread(fifo_one, NULL));
}

napi_value te_js_allowed_cpus(napi_env env, napi_callback_info info)
{
    (void)info;
    napi_value out;
    napi_create_array(env, &out);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
    uint32_t k = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) napi_set_element(env, out, k++, te_num(env, c));
    return out;
}
