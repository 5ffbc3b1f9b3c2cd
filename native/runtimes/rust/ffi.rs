//! The lua-resty-ffi ABI for Rust runtimes: the host's three functions (left
//! undefined here, resolved at load time against the RTLD_GLOBAL host) and
//! `Reply`, a malloc'd response buffer, because the host frees it with free().

use std::os::raw::{c_char, c_int, c_void};

extern "C" {
    pub fn ngx_http_lua_ffi_task_poll(tq: *mut c_void) -> *mut c_void;
    pub fn ngx_http_lua_ffi_get_req(task: *mut c_void, len: *mut c_int) -> *mut c_char;
    pub fn ngx_http_lua_ffi_respond(task: *mut c_void, rc: c_int, rsp: *mut c_char, rsp_len: c_int);
    fn malloc(size: usize) -> *mut c_void;
}

/// A task handle owned by the host; it may be answered from any thread.
pub struct Task(pub *mut c_void);
unsafe impl Send for Task {}

/// A response in malloc'd memory, handed to the host by `respond`.
pub struct Reply {
    ptr: *mut c_char,
    len: c_int,
}

impl Reply {
    /// Copies bytes into a fresh malloc'd buffer (one spare byte, so that an
    /// empty reply is a valid empty NUL-terminated string for rsp_len == 0).
    pub fn copy_of(bytes: &[u8]) -> Result<Reply, String> {
        let len = c_int::try_from(bytes.len()).map_err(|_| "response larger than 2 GiB".to_string())?;
        let ptr = unsafe { malloc(bytes.len() + 1) } as *mut u8;
        if ptr.is_null() {
            return Err("out of memory".into());
        }
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
            *ptr.add(bytes.len()) = 0;
        }
        Ok(Reply { ptr: ptr as *mut c_char, len })
    }
}

/// The request bytes of a task: host memory, valid until the task is answered.
pub unsafe fn request<'a>(task: &Task) -> &'a [u8] {
    let mut len: c_int = 0;
    let p = ngx_http_lua_ffi_get_req(task.0, &mut len);
    if p.is_null() || len <= 0 {
        return &[];
    }
    std::slice::from_raw_parts(p as *const u8, len as usize)
}

/// Answers a task: Ok is rc 0 with the bytes, Err is rc 1 with the message.
pub fn respond(task: Task, result: Result<Reply, String>) {
    let (rc, reply) = match result {
        Ok(r) => (0, Ok(r)),
        Err(msg) => (1, Reply::copy_of(if msg.is_empty() { b"error" } else { msg.as_bytes() })),
    };
    match reply {
        Ok(r) => unsafe { ngx_http_lua_ffi_respond(task.0, rc, r.ptr, r.len) },
        // Not even the message fits in memory: answer with no body rather than never.
        Err(_) => unsafe { ngx_http_lua_ffi_respond(task.0, 1, std::ptr::null_mut(), 0) },
    }
}
