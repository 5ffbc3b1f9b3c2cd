//! The thread scaffold shared by the Rust runtimes: one poller thread drains the
//! host's queue and either answers each task itself (workers == 0, for work
//! cheaper than a hand-off) or sends it to a pool of worker threads.

use crate::ffi::{self, Reply, Task};
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

pub type Handler = dyn Fn(&[u8]) -> Result<Reply, String> + Send + Sync;

struct Queue(*mut c_void);
unsafe impl Send for Queue {}

fn run(handler: &Handler, task: Task) {
    let req = unsafe { ffi::request(&task) };
    // A panic must not unwind into the host or kill the thread: answer it as a failure.
    let result = catch_unwind(AssertUnwindSafe(|| handler(req)))
        .unwrap_or_else(|_| Err("runtime panicked".to_string()));
    ffi::respond(task, result);
}

/// Starts the poller (and `workers` workers) for the queue `tq`.
pub fn start(name: &str, tq: *mut c_void, workers: usize, handler: Arc<Handler>) -> Result<(), String> {
    let (tx, rx) = mpsc::channel::<Task>();
    let rx = Arc::new(Mutex::new(rx));
    let mut joins = Vec::with_capacity(workers);
    for i in 0..workers {
        let (rx, handler) = (rx.clone(), handler.clone());
        let j = thread::Builder::new()
            .name(format!("{name}-w{i}")) // Linux shows 15 bytes: keep names short
            .spawn(move || loop {
                // The lock is held only while taking one task, never while working.
                let next = rx.lock().map(|r| r.recv());
                match next {
                    Ok(Ok(task)) => run(&*handler, task),
                    _ => return, // poller gone and queue drained
                }
            })
            .map_err(|e| e.to_string())?;
        joins.push(j);
    }
    let q = Queue(tq);
    // The new thread names itself before it runs: start returns once it has, so that a worker that
    // loads this runtime after binding its threads finds the poller by its name at once.
    let (named, is_named) = mpsc::channel::<()>();
    thread::Builder::new()
        // The name shortened so that "-poll" survives Linux's 15 bytes: the engine finds pollers by
        // it (ffi_poller_cpu_affinity, ffi_poller_sched).
        .name(format!("{}-poll", name.get(..10).unwrap_or(name)))
        .spawn(move || {
            let q = q;
            let _ = named.send(());
            loop {
                let t = unsafe { ffi::ngx_http_lua_ffi_task_poll(q.0) };
                if t.is_null() {
                    break; // unloaded
                }
                if workers == 0 {
                    run(&*handler, Task(t));
                } else if let Err(mpsc::SendError(task)) = tx.send(Task(t)) {
                    run(&*handler, task); // every worker died: answer here instead
                }
            }
            // Dropping the sender lets the workers drain what they were handed, then exit.
            drop(tx);
            for j in joins {
                let _ = j.join();
            }
        })
        .map(|_| {
            let _ = is_named.recv();
        })
        .map_err(|e| e.to_string())
}
