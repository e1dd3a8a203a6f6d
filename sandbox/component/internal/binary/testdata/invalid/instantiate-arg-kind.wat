;; an instantiation argument of the wrong kind
;; want: component: at byte offset 0x46: instantiation argument "f" of component 0: expected an instance, found a func
(component
  (import "g" (func $g))
  (component $c (import "f" (instance)))
  (instance (instantiate $c (with "f" (func $g))))
)
