;; a lowered function whose flattened type differs from the module's import
;; want: component: at byte offset 0x54: core module 0 import "f" from "env": expected type (func (param i32)), found (func (param i64))
(component
  (import "f" (func $f (param "x" u64)))
  (core func $l (canon lower (func $f)))
  (core instance $host (export "f" (func $l)))
  (core module $m (import "env" "f" (func (param i32))))
  (core instance (instantiate $m (with "env" (instance $host))))
)
