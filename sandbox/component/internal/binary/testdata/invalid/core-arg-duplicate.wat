;; two core instantiation arguments with the same name
;; want: component: at byte offset 0x2a: duplicate core instantiation argument "x"
(component
  (core module $a)
  (core instance $a (instantiate $a))
  (core instance (instantiate $a (with "x" (instance $a)) (with "x" (instance $a))))
)
