;; A start function that returns a value (value definitions are out of scope).
;; want: component: at byte offset 0x1c: start function with 0 arguments and 1 results (values are a gated 🪙 feature) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (import "init" (func $init (result u32)))
  (start $init (result (value $v)))
)
