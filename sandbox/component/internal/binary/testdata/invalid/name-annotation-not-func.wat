;; an annotated name on an import that is not a function
;; want: component: at byte offset 0x18: import "[static]r.x": a name with a [constructor], [method] or [static] annotation must be a function, not an instance
(component
  (import "r" (type $r (sub resource)))
  (import "[static]r.x" (instance))
)
