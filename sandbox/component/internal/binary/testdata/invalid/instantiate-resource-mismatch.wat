;; a function argument using a different resource than the resource argument
;; want: component: at byte offset 0x71: instantiation argument "mk" of component 0: expected function type func() -> own<r1>, found func() -> own<r2>
(component
  (import "r1" (type $r1 (sub resource)))
  (import "r2" (type $r2 (sub resource)))
  (type $own2 (own $r2))
  (import "mk" (func $mk (result $own2)))
  (component $c
    (import "r" (type $r (sub resource)))
    (type $own (own $r))
    (import "mk" (func (result $own))))
  (instance (instantiate $c (with "r" (type $r1)) (with "mk" (func $mk))))
)
