;; an instantiation of a component that does not exist
;; want: component: at byte offset 0xc: component index 1 out of range (0 defined so far)
(component
  (instance (instantiate 1))
)
