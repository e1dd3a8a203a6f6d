;; an alias of an export an instance does not have
;; want: component: at byte offset 0x23: instance 0 has no export "g"
(component
  (import "i" (instance $i (export "f" (func))))
  (alias export $i "g" (func))
)
