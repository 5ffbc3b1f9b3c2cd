//! libwordfreq_rust.so: word frequencies of a UTF-8 text, the kind of
//! string-heavy loop that is several times faster native than in JS.
//!
//! Request: UTF-8 text. Words are runs of alphanumeric characters, lowercased.
//! Response (JSON): {"words":TOTAL,"unique":DISTINCT,"top":[["word",COUNT],...]}
//! with the `top` most frequent words, most frequent first, ties by word.
//! Invalid UTF-8 is a failure (rc 1) naming the byte offset.
//! cfg: "threads=N" (default 2), "top=N" (default 10, 0..10000).

mod cfg;
mod ffi;
mod pool;

use std::collections::HashMap;
use std::fmt::Write;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Arc;

fn count(text: &str, top: usize) -> String {
    let mut freq: HashMap<String, u64> = HashMap::new();
    let mut total = 0u64;
    let mut word = String::new();
    // A trailing separator flushes the last word.
    for ch in text.chars().chain(std::iter::once(' ')) {
        if ch.is_alphanumeric() {
            if ch.is_ascii() {
                word.push(ch.to_ascii_lowercase());
            } else {
                word.extend(ch.to_lowercase());
            }
        } else if !word.is_empty() {
            total += 1;
            match freq.get_mut(word.as_str()) {
                Some(n) => *n += 1,
                None => {
                    freq.insert(word.clone(), 1);
                }
            }
            word.clear();
        }
    }
    let mut ranked: Vec<(&String, &u64)> = freq.iter().collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut out = format!("{{\"words\":{},\"unique\":{},\"top\":[", total, freq.len());
    for (i, (w, n)) in ranked.into_iter().take(top).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("[\"");
        json_escape(&mut out, w);
        let _ = write!(out, "\",{}]", n);
    }
    out.push_str("]}");
    out
}

fn json_escape(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[no_mangle]
pub extern "C" fn libffi_init(cfg: *mut c_char, tq: *mut c_void) -> c_int {
    let cfg = cfg::read(cfg);
    let threads = cfg::int(&cfg, "threads", 2, 0, 256) as usize;
    let top = cfg::int(&cfg, "top", 10, 0, 10_000) as usize;
    let handler = move |req: &[u8]| match std::str::from_utf8(req) {
        Ok(text) => ffi::Reply::copy_of(count(text, top).as_bytes()),
        Err(e) => Err(format!("request is not valid UTF-8 (at byte {})", e.valid_up_to())),
    };
    match pool::start("wordfreq", tq, threads, Arc::new(handler)) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
