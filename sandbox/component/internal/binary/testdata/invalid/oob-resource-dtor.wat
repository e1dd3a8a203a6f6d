;; a resource destructor naming a core func that does not exist
;; want: component: at byte offset 0xe: core func index 0 out of range (0 defined so far)
(component
  (type (resource (rep i32) (dtor (core func 0))))
)
