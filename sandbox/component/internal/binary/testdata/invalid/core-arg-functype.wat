;; the argument supplies a function of the wrong core type
;; want: component: at byte offset 0x62: core module 1 import "f" from "env": expected type (func (param i32)), found (func (param i64))
(component
  (core module $a (func (export "f") (param i64)))
  (core module $m (import "env" "f" (func (param i32))))
  (core instance $a (instantiate $a))
  (core instance (instantiate $m (with "env" (instance $a))))
)
