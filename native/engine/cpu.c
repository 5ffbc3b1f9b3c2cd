/*
 * worker_cpu_affinity (src/master/cpu-affinity.ts chooses the CPUs). nginx binds a worker process
 * that has one thread; a tresty worker has many (V8's platform threads, libuv's pool, FFI
 * pollers), so every thread present is bound, and threads made later inherit the binding from
 * their creator. Binding a worker's pollers to its own core turns a hand-off into a switch on one
 * core instead of a wake-up of another (bench/README.md, issue 10).
 */
#define NAPI_VERSION 8
#include "cpu.h"
#include "addon.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

napi_value te_js_pin_threads(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1];
    bool is_array = false;
    uint32_t n = 0;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1
        || napi_is_array(env, a[0], &is_array) != napi_ok || !is_array
        || napi_get_array_length(env, a[0], &n) != napi_ok || n == 0)
        return te_num(env, -EINVAL);
    cpu_set_t set;
    CPU_ZERO(&set);
    for (uint32_t i = 0; i < n; i++) {
        napi_value v;
        uint32_t cpu;
        if (napi_get_element(env, a[0], i, &v) != napi_ok || napi_get_value_uint32(env, v, &cpu) != napi_ok
            || cpu >= CPU_SETSIZE)
            return te_num(env, -EINVAL);
        CPU_SET(cpu, &set);
    }
    DIR *d = opendir("/proc/self/task");
    if (!d) return te_num(env, -errno);
    int pinned = 0, err = 0;
    for (struct dirent *t; (t = readdir(d));) {
        pid_t tid = (pid_t)atoi(t->d_name);
        if (tid <= 0) continue;
        if (sched_setaffinity(tid, sizeof set, &set) == 0) pinned++;
        else if (errno != ESRCH) err = errno; /* ESRCH: the thread ended meanwhile */
    }
    closedir(d);
    return te_num(env, err ? -err : pinned);
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
