;; An instance built from exports with a duplicate export name.
;; want: component: at byte offset 0x21: export name "G" conflicts with previous name "g" (names must differ in more than case and annotations)
(component
  (import "f" (func $f))
  (instance (export "g" (func $f)) (export "G" (func $f)))
)
