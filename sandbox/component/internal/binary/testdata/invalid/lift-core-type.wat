;; canon lift of a core func whose type is not the flattening of the component type
;; want: component: at byte offset 0x115: canon lift of core func 0: its type is (func (param i32)), but lifting func(a: u32) -> u32 needs (func (param i32) (result i32))
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
  (func (export "f") (param "a" u32) (result u32) (canon lift (core func $i "f-i32")))
)
