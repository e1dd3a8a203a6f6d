;; an export whose ascribed type differs from the exported function's type
;; want: component: at byte offset 0x2c: export "f" does not match its ascribed type: expected function type func(x: u64), found func(x: u32)
(component
  (import "g" (func $g (param "x" u32)))
  (export "f" (func $g) (func (param "x" u64)))
)
