;; the task.return built-in
;; want: component: at byte offset 0xb: canonical built-in task.return (0x9) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (core func (canon task.return))
)
