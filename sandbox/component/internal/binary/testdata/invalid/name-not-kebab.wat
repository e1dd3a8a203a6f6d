;; an import name that is not kebab case
;; want: component: at byte offset 0x12: `aBc` is not in kebab case
(component
  (import "aBc" (func))
)
