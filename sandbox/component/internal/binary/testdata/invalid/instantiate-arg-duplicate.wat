;; two instantiation arguments with the same name
;; want: component: at byte offset 0x40: duplicate instantiation argument "f"
(component
  (import "g" (func $g))
  (component $c)
  (instance (instantiate $c (with "f" (func $g)) (with "f" (func $g))))
)
