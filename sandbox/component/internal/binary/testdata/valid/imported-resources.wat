;; The same instance type imported twice: each import gets its own resource.
;; An (eq) bound refers to the same resource as the type it names.
(component
  (type $streams (instance
    (export "output-stream" (type $os (sub resource)))
    (export "alias-stream" (type (eq $os)))
    (type $b (borrow $os))
    (export "[method]output-stream.write" (func (param "self" $b) (param "n" u32) (result u32)))
  ))
  (import "wasi:io/streams@0.2.3" (instance $a (type $streams)))
  (import "my:io/streams@1.0.0-rc.1+build.5" (instance $b (type $streams)))
  (alias export $a "output-stream" (type $a-os))
  (import "own-stream" (type (eq $a-os)))
  (import "plain" (type $plain (sub resource)))
)
