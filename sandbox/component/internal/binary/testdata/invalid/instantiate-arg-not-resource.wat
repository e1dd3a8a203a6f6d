;; a value type given for a resource import
;; want: component: at byte offset 0x37: instantiation argument "r" of component 0: expected a resource type, found a value type
(component
  (type $t (list u8))
  (component $c (import "r" (type (sub resource))))
  (instance (instantiate $c (with "r" (type $t))))
)
