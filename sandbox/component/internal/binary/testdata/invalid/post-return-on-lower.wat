;; post-return is only allowed on canon lift
;; want: component: at byte offset 0x11b: canon lower: post-return is only allowed on canon lift
(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
    (func (export "bad-realloc") (param i32 i32 i32) (result i32) i32.const 0)
    (func (export "f0") )
    (func (export "f-i32") (param i32))
    (func (export "f-i32-i32") (param i32 i32))
    (func (export "f-ret-i32") (result i32) i32.const 0)
    (func (export "f-i32-i32-ret-i32") (param i32 i32) (result i32) i32.const 0)
    (func (export "f-i32-ret-i32") (param i32) (result i32) i32.const 0)
  )
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (import "f" (func $f))
  (core func (canon lower (func $f) (post-return (core func $i "f0"))))
)
