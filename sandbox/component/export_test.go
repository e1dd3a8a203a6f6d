package component

// MemoriesReleased reports whether inst gave back its memories' backing
// store.
func MemoriesReleased(inst *Instance) bool {
	b := inst.link.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.released
}
