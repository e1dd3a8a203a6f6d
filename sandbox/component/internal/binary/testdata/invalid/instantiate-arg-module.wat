;; A core module argument that lacks an export the imported module type needs.
;; want: component: at byte offset 0x6d: instantiation argument "m" of component 0: the core module has no export "f"
(component
  (core module $m (func (export "g")))
  (component $c (import "m" (core module (export "f" (func)))))
  (instance (instantiate $c (with "m" (core module $m))))
)
