;; resource.rep of an imported resource
;; want: component: at byte offset 0x14: canon resource.rep: resource type 0 ("r") is not defined by this component; only its definer may create handles or read representations
(component
  (import "r" (type $r (sub resource)))
  (core func (canon resource.rep $r))
)
