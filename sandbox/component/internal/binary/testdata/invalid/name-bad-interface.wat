;; an interface name with an uppercase package
;; want: component: at byte offset 0x12: "wasi:HtTp/types" is not a valid extern name: `HtTp` is not in kebab case
(component
  (import "wasi:HtTp/types" (func))
)
