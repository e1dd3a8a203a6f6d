;; a post-return core func whose type does not take the lifted results
;; want: component: at byte offset 0x11d: canon lift: post-return core func 1 has type (func); it must be (func (param i32))
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
  (func (export "f") (result u32) (canon lift (core func $i "f-ret-i32") (post-return (core func $i "f0"))))
)
