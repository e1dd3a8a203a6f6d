;; an instantiation argument whose parameter names differ from the import
;; want: component: at byte offset 0x4e: instantiation argument "f" of component 0: expected function type func(x: u32), found func(y: u32)
(component
  (import "g" (func $g (param "y" u32)))
  (component $c (import "f" (func (param "x" u32))))
  (instance (instantiate $c (with "f" (func $g))))
)
