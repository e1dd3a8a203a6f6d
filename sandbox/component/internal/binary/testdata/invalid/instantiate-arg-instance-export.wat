;; an instance argument missing an export the import needs
;; want: component: at byte offset 0x4f: instantiation argument "i" of component 0: the instance has no export "f"
(component
  (import "g" (instance $g))
  (component $c (import "i" (instance (export "f" (func)))))
  (instance (instantiate $c (with "i" (instance $g))))
)
