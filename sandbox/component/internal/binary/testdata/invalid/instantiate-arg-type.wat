;; an instantiation argument whose function type differs from the import
;; want: component: at byte offset 0x4e: instantiation argument "f" of component 0: expected function type func(x: u64), found func(x: u32)
(component
  (import "g" (func $g (param "x" u32)))
  (component $c (import "f" (func (param "x" u64))))
  (instance (instantiate $c (with "f" (func $g))))
)
