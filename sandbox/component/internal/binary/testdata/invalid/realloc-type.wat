;; a realloc option whose core func has the wrong type
;; want: component: at byte offset 0x130: canon lift: realloc core func 1 has type (func (param i32 i32 i32) (result i32)); it must be (func (param i32 i32 i32 i32) (result i32))
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
  (func (export "f") (param "s" string) (canon lift (core func $i "f-i32-i32") (memory $mem) (realloc (core func $i "bad-realloc"))))
)
