//! rust-tool: canonical-ABI exports written by hand (no crates, no wit-bindgen), for
//! Debian's rustc 1.63 targeting wasm32-wasi as a `cdylib`.
//!
//! Built twice: `rust-tool` exports `_initialize`, which runs the constructors once as a
//! reactor should; `rust-noinit` is compiled with `--cfg noinit` and leaves it out, so
//! wasm-ld runs the constructors at the start of every export, including inside
//! `cabi_post_*`, where calling an import must trap (a negative test for the host).

use std::alloc::{alloc, dealloc, realloc, Layout};
use std::io::Write;

/// Where a string result goes: a string flattens to two values, more than
/// MAX_FLAT_RESULTS (1), so the export returns a pointer to this (ptr, len) pair.
#[repr(C)]
pub struct RetArea {
    ptr: *mut u8,
    len: usize,
}

static mut RET_AREA: RetArea = RetArea { ptr: std::ptr::null_mut(), len: 0 };

#[cfg(not(noinit))]
extern "C" {
    fn __wasm_call_ctors();
}

#[cfg(not(noinit))]
#[no_mangle]
pub extern "C" fn _initialize() {
    // SAFETY: called once by the component's fixup module before any export.
    unsafe { __wasm_call_ctors() }
}

#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    if new_size == 0 {
        return align as *mut u8;
    }
    let ptr = if old.is_null() || old_size == 0 {
        alloc(Layout::from_size_align_unchecked(new_size, align))
    } else {
        realloc(old, Layout::from_size_align_unchecked(old_size, align), new_size)
    };
    if ptr.is_null() {
        std::process::abort();
    }
    ptr
}

/// Takes ownership of a string the host lowered into memory from cabi_realloc(align 1).
unsafe fn take_string(ptr: *mut u8, len: usize) -> String {
    let bytes = if len == 0 { Vec::new() } else { Vec::from_raw_parts(ptr, len, len) };
    // The host validated the UTF-8 when it lowered the string.
    String::from_utf8_unchecked(bytes)
}

unsafe fn return_string(s: String) -> *mut RetArea {
    let mut bytes = s.into_bytes().into_boxed_slice();
    RET_AREA.len = bytes.len();
    RET_AREA.ptr = if bytes.is_empty() { std::ptr::null_mut() } else { bytes.as_mut_ptr() };
    std::mem::forget(bytes);
    std::ptr::addr_of_mut!(RET_AREA)
}

unsafe fn free_returned(area: *mut RetArea) {
    let area = &mut *area;
    if !area.ptr.is_null() && area.len > 0 {
        dealloc(area.ptr, Layout::from_size_align_unchecked(area.len, 1));
    }
    area.ptr = std::ptr::null_mut();
    area.len = 0;
}

#[no_mangle]
pub extern "C" fn fib(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        let next = a.wrapping_add(b);
        a = b;
        b = next;
    }
    a
}

#[no_mangle]
pub unsafe extern "C" fn upper(ptr: *mut u8, len: usize) -> *mut RetArea {
    return_string(take_string(ptr, len).to_uppercase())
}

#[no_mangle]
pub unsafe extern "C" fn cabi_post_upper(area: *mut RetArea) {
    free_returned(area)
}

#[export_name = "log"]
pub unsafe extern "C" fn log_line(ptr: *mut u8, len: usize) -> u32 {
    let msg = take_string(ptr, len);
    let line = format!("rust-tool: {}\n", msg);
    match std::io::stderr().write_all(line.as_bytes()) {
        Ok(()) => line.len() as u32,
        Err(_) => 0,
    }
}
