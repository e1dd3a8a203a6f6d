;; an export whose type mentions a resource that was never exported
;; want: component: at byte offset 0x123: export "f" mentions a resource type this component defines, which this component neither imports nor exports before it; export the resource type first
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
  (type $r (resource (rep i32)))
  (type $own (own $r))
  (func (export "f") (result $own) (canon lift (core func $i "f-ret-i32")))
)
