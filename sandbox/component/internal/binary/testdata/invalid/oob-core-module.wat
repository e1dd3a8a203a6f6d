;; an instantiation of a core module that does not exist
;; want: component: at byte offset 0xc: core module index 4 out of range (0 defined so far)
(component
  (core instance (instantiate 4))
)
