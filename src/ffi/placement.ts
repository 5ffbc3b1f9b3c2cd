// Pollers of runtimes loaded after the worker bound its threads. worker_cpu_affinity binds the
// threads that exist once the conf's plugins are loaded; a runtime loaded later (ngx.load_ffi in a
// handler, as lua-resty-ffi plugins often are) starts its poller with the event loop's CPUs and an
// ordinary policy, so ffi_poller_cpu_affinity next and ffi_poller_sched fifo would miss it. The
// worker sets the hook once bound; each new runtime calls it.
let place: (() => void) | null = null;

/** The worker's placement for pollers, or null (nothing to redo: new threads inherit the caller's CPUs). */
export function setPollerPlacement(fn: (() => void) | null): void {
  place = fn;
}

/** After a runtime started its threads: give its pollers the worker's placement. */
export function placeNewPollers(): void {
  place?.();
}
