;; the core instance given as an argument lacks the imported name
;; want: component: at byte offset 0x60: core module 1 imports "f" from module "env", but the core instance given as "env" has no export "f"
(component
  (core module $a (func (export "g")))
  (core module $m (import "env" "f" (func)))
  (core instance $a (instantiate $a))
  (core instance (instantiate $m (with "env" (instance $a))))
)
