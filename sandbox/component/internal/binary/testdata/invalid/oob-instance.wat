;; an alias of an export of an instance that does not exist
;; want: component: at byte offset 0xd: instance index 2 out of range (0 defined so far)
(component
  (alias export 2 "f" (func))
)
