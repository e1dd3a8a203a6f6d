;; a [constructor] that does not return (own r)
;; want: component: at byte offset 0x1a: import "[constructor]r": a constructor must return (own r) or (result (own r) …)
(component
  (import "r" (type $r (sub resource)))
  (import "[constructor]r" (func (result u32)))
)
