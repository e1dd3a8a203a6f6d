;; instantiating a component without an argument for one of its imports
;; want: component: at byte offset 0x39: component 0 imports "f" (a func), but no instantiation argument is named "f"
(component
  (component $c (import "f" (func)))
  (instance (instantiate $c))
)
