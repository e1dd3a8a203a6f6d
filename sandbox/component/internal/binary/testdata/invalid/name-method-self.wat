;; a [method] whose first parameter is not (param "self" (borrow r))
;; want: component: at byte offset 0x1d: import "[method]r.m": a method's first parameter must be (param "self" (borrow r))
(component
  (import "r" (type $r (sub resource)))
  (import "[method]r.m" (func (param "x" u32)))
)
