;; A component type importing a name that is not kebab case.
;; want: component: at byte offset 0x13: `not_kebab` is not in kebab case
(component
  (type (component (import "not_kebab" (func))))
)
