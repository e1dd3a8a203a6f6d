;; A start function with no values whose type takes a parameter.
;; want: component: at byte offset 0x1f: start function 0 has type func(x: u32); a start function without values must take and return nothing
(component
  (import "init" (func $init (param "x" u32)))
  (start $init)
)
