//! libecho_rust.so: answers each request with its own bytes.
//! cfg: "threads=N" (default 0: the poller answers inline).

mod cfg;
mod ffi;
mod pool;

use std::os::raw::{c_char, c_int, c_void};
use std::sync::Arc;

#[no_mangle]
pub extern "C" fn libffi_init(cfg: *mut c_char, tq: *mut c_void) -> c_int {
    let cfg = cfg::read(cfg);
    let threads = cfg::int(&cfg, "threads", 0, 0, 256) as usize;
    match pool::start("echo_rust", tq, threads, Arc::new(ffi::Reply::copy_of)) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
