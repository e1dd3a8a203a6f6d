;; an outer alias of a resource type across a component boundary
;; want: component: at byte offset 0x1d: outer alias of type 0 refers to a resource type across a component boundary
(component
  (type $r (resource (rep i32)))
  (component (alias outer 1 $r (type)))
)
