;; a label starting with a digit
;; want: component: at byte offset 0x12: `1-a` is not in kebab case
(component
  (import "1-a" (func))
)
