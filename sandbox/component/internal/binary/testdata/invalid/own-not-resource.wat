;; own of a type that is not a resource
;; want: component: at byte offset 0xe: type 0 is not a resource type; own and borrow need one
(component
  (type $t (list u8))
  (type (own $t))
)
