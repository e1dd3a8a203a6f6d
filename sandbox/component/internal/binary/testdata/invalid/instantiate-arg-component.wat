;; A component argument that imports something the expected component type does not offer.
;; want: component: at byte offset 0x70: instantiation argument "plugin" of component 1: the component imports "needs" (a func), which the expected type does not provide
(component
  (component $arg (import "needs" (func)))
  (component $c (import "plugin" (component)))
  (instance (instantiate $c (with "plugin" (component $arg))))
)
