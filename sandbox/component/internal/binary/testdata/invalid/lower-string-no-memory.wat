;; lowering a function with a string parameter needs memory
;; want: component: at byte offset 0x1d: canon lower of func(s: string): the memory option is required because a parameter contains a string or list
(component
  (import "f" (func $f (param "s" string)))
  (core func (canon lower (func $f)))
)
