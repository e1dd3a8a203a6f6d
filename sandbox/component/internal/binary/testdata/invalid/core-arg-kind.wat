;; the argument supplies a memory where the module imports a function
;; want: component: at byte offset 0x55: core module 1 import "f" from "env": expected a func, found a memory
(component
  (core module $a (memory (export "f") 1))
  (core module $m (import "env" "f" (func)))
  (core instance $a (instantiate $a))
  (core instance (instantiate $m (with "env" (instance $a))))
)
