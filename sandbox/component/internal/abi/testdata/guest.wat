;; guest.wat: the core module the abi package's tests call into. It stands in
;; for a component's main module: a memory, a bump-allocating cabi_realloc
;; whose misbehaviour a test can switch on, functions shaped like canon lift
;; targets, and functions that call canon lower imports.
;;
;; Regenerate guest.wasm after editing (wabt from npm):
;;   npx -y -p wabt wat2wasm guest.wat -o guest.wasm
(module
  (import "host" "ping" (func $ping))
  (import "host" "echo" (func $echo (param i32 i32)))
  (import "host" "get1" (func $get1 (result i32)))
  (import "host" "get2" (func $get2 (param i32)))
  (import "host" "sum16" (func $sum16_import
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "host" "sum17" (func $sum17_import (param i32) (result i32)))
  (import "host" "lend" (func $lend (param i32)))
  (import "host" "resource_new" (func $resource_new (param i32) (result i32)))
  (import "host" "resource_rep" (func $resource_rep (param i32) (result i32)))
  (import "host" "resource_drop" (func $resource_drop (param i32)))
  (import "host" "host_drop" (func $host_drop (param i32)))

  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  ;; mode selects misbehaviour: 0 none; realloc: 1 misaligned result,
  ;; 2 out-of-bounds result, 3 trap, 4 call an import; 5 post-return calls an import.
  (global $mode (mut i32) (i32.const 0))
  (global $post_calls (mut i32) (i32.const 0))

  (func (export "set_mode") (param i32) (global.set $mode (local.get 0)))
  (func (export "post_calls") (result i32) (global.get $post_calls))
  ;; reset_heap frees everything cabi_realloc handed out (for benchmarks).
  (func (export "reset_heap") (global.set $heap (i32.const 1024)))

  (func $realloc (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (if (i32.eq (global.get $mode) (i32.const 3)) (then unreachable))
    (if (i32.eq (global.get $mode) (i32.const 4)) (then call $ping))
    (if (i32.eq (global.get $mode) (i32.const 2)) (then (return (i32.const 0xfffffff0))))
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.shr_u
                  (i32.add
                    (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
                    (i32.const 65535))
                  (i32.const 16)))
              (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (if (local.get $old)
      (then
        (memory.copy (local.get $ptr) (local.get $old)
          (select (local.get $old_size) (local.get $new_size)
            (i32.lt_u (local.get $old_size) (local.get $new_size))))))
    (if (i32.eq (global.get $mode) (i32.const 1))
      (then (return (i32.add (local.get $ptr) (i32.const 1)))))
    (local.get $ptr))

  (func (export "post_return") (param i32)
    (global.set $post_calls (i32.add (global.get $post_calls) (i32.const 1)))
    (if (i32.eq (global.get $mode) (i32.const 5)) (then call $ping)))

  (func (export "identity_i32") (param i32) (result i32) (local.get 0))
  (func (export "identity_i64") (param i64) (result i64) (local.get 0))
  (func (export "identity_f32") (param f32) (result f32) (local.get 0))
  (func (export "identity_f64") (param f64) (result f64) (local.get 0))
  (func (export "ignore_i32") (param i32))
  (func (export "trap") unreachable)

  (func (export "sum16")
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (local.get 0) (i32.add (local.get 1) (i32.add (local.get 2) (i32.add (local.get 3)
    (i32.add (local.get 4) (i32.add (local.get 5) (i32.add (local.get 6) (i32.add (local.get 7)
    (i32.add (local.get 8) (i32.add (local.get 9) (i32.add (local.get 10) (i32.add (local.get 11)
    (i32.add (local.get 12) (i32.add (local.get 13) (i32.add (local.get 14) (local.get 15)))))))))))))))))

  ;; sum17: the 17 u32 arguments arrive in memory at $p.
  (func (export "sum17") (param $p i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.eq (local.get $i) (i32.const 17)))
        (local.set $s (i32.add (local.get $s)
          (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s))

  ;; pair returns tuple<u32, u32> (7, 9) through memory.
  (func (export "pair") (result i32)
    (local $p i32)
    (local.set $p (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 8)))
    (i32.store (local.get $p) (i32.const 7))
    (i32.store offset=4 (local.get $p) (i32.const 9))
    (local.get $p))

  ;; call_echo passes its spilled arguments to the echo import and returns
  ;; the import's results from a fresh 4 KiB return area.
  (func (export "call_echo") (param $args i32) (result i32)
    (local $out i32)
    (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 4096)))
    (call $echo (local.get $args) (local.get $out))
    (local.get $out))

  (func (export "call_get1") (result i32) (call $get1))
  (func (export "call_get2") (result i32)
    (local $out i32)
    (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 8)))
    (call $get2 (local.get $out))
    (local.get $out))
  (func (export "call_sum16")
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (call $sum16_import (local.get 0) (local.get 1) (local.get 2) (local.get 3)
      (local.get 4) (local.get 5) (local.get 6) (local.get 7) (local.get 8) (local.get 9)
      (local.get 10) (local.get 11) (local.get 12) (local.get 13) (local.get 14) (local.get 15)))
  (func (export "call_sum17") (param i32) (result i32) (call $sum17_import (local.get 0)))

  ;; lend_then_drop lends handle $h to the lend import, then drops it.
  (func (export "lend_then_drop") (param $h i32)
    (call $lend (local.get $h))
    (call $host_drop (local.get $h)))
  (func (export "drop_host") (param $h i32) (call $host_drop (local.get $h)))

  (func (export "res_new") (param i32) (result i32) (call $resource_new (local.get 0)))
  (func (export "res_rep") (param i32) (result i32) (call $resource_rep (local.get 0)))
  (func (export "res_drop") (param i32) (call $resource_drop (local.get 0)))
  ;; res_rep_plus_one takes a borrow of the guest's own resource, which
  ;; arrives as the rep itself.
  (func (export "rep_plus_one") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
)
