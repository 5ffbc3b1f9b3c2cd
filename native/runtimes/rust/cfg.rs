//! Runtime cfg strings: "threads=4,top=10", or a bare number for the thread count.

use std::ffi::CStr;
use std::os::raw::c_char;

/// Copies the cfg out of host memory (it is freed after libffi_init returns).
pub fn read(cfg: *const c_char) -> String {
    if cfg.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(cfg) }.to_string_lossy().into_owned()
}

/// The integer value of `key`, or `def` when absent or outside [min, max].
pub fn int(cfg: &str, key: &str, def: i64, min: i64, max: i64) -> i64 {
    for item in cfg.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None if key == "threads" => ("threads", item),
            None => continue,
        };
        if k == key {
            return match v.parse::<i64>() {
                Ok(n) if n >= min && n <= max => n,
                _ => def,
            };
        }
    }
    def
}
