/* Which CPUs a worker runs on (worker_cpu_affinity): N-API functions registered by addon.c. */
#ifndef TE_CPU_H
#define TE_CPU_H
#include <node_api.h>

/* pinThreads([cpu, ...][, [pollerCpu, ...]]) -> threads pinned, or -errno: every thread of the process onto those CPUs, the NAME-poll threads onto the second list if given. */
napi_value te_js_pin_threads(napi_env env, napi_callback_info info);
/* fifoPollers() -> pollers set, or -errno: the NAME-poll threads to SCHED_FIFO, priority 1 (ffi_poller_sched fifo). */
napi_value te_js_fifo_pollers(napi_env env, napi_callback_info info);
/* allowedCpus() -> the CPU numbers this process may run on, ascending ([] when unknown). */
napi_value te_js_allowed_cpus(napi_env env, napi_callback_info info);

#endif
