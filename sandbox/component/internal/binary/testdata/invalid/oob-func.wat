;; canon lower of a component func index that does not exist
;; want: component: at byte offset 0xd: func index 3 out of range (0 defined so far)
(component
  (core func (canon lower (func 3)))
)
