;; a value type that refers to a type index that does not exist
;; want: component: at byte offset 0xc: type index 7 out of range (0 defined so far)
(component
  (type (list 7))
)
