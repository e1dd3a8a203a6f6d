;; two exports whose names differ only in case
;; want: component: at byte offset 0x26: export name "FOO-bar" conflicts with previous name "foo-bar" (names must differ in more than case and annotations)
(component
  (import "f" (func $f))
  (export "foo-bar" (func $f))
  (export "FOO-bar" (func $f))
)
