;; an interface name with a malformed version
;; want: component: at byte offset 0x12: "wasi:http/types@1.0" is not a valid extern name: version: "1.0" is not MAJOR.MINOR.PATCH
(component
  (import "wasi:http/types@1.0" (func))
)
