;; resource.drop of a type that is not a resource
;; want: component: at byte offset 0x11: canon resource.drop: type 0 is a value type, not a resource type
(component
  (type $t (list u8))
  (core func (canon resource.drop $t))
)
