;; two imports with the same name
;; want: component: at byte offset 0x21: import name "a" conflicts with previous name "a" (a duplicate)
(component
  (import "a" (func)) (import "a" (func))
)
