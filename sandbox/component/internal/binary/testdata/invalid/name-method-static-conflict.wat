;; [method]r.m and [static]r.m conflict
;; want: component: at byte offset 0x3b: import name "[static]r.m" conflicts with previous name "[method]r.m" (names must differ in more than case and annotations)
(component
  (import "r" (type $r (sub resource)))
  (type $b (borrow $r))
  (import "[method]r.m" (func (param "self" $b)))
  (import "[static]r.m" (func))
)
