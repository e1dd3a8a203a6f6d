;; a resource destructor of the wrong core type
;; want: component: at byte offset 0x108: resource destructor core func 0 has type (func); it must be (func (param i32))
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
  (type (resource (rep i32) (dtor (core func $i "f0"))))
)
