;; an interface name with a nested package
;; want: component: at byte offset 0x12: "foo:bar/baz/qux" is not a valid extern name: nested namespaces and packages are not supported
(component
  (import "foo:bar/baz/qux" (func))
)
