;; an alias of an export of a core instance that does not exist
;; want: component: at byte offset 0xe: core instance index 0 out of range (0 defined so far)
(component
  (alias core export 0 "f" (core func))
)
