package abi

import (
	"encoding/binary"
	"errors"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// FuzzLift lifts random bytes as random types, from linear memory and from
// flat core values. Whatever the bytes, lifting must not panic, and every
// failure must be a Trap: the bytes are what a hostile guest controls.
//
// The input's first byte says how many of the following bytes choose the type
// and the string encoding; the rest is linear memory.
func FuzzLift(f *testing.F) {
	f.Add([]byte{4, 12, 0, 1, 0, 8, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		n := min(int(data[0])%48, len(data)-1)
		c := &byteChoices{b: data[1 : 1+n]}
		mem := data[1+n:]
		typ := genType(c, 3, true)
		enc := encodings[c.intn(len(encodings))]

		inst := NewInstance()
		// A few live handles, so handle indices in the bytes can hit them.
		inst.table.add(&handleEntry{rt: testHostResource, host: &hostObject{}, own: true})
		inst.table.add(&handleEntry{rt: testGuestResource, rep: 5, own: true})
		inst.table.add(&handleEntry{rt: testHostResource, scope: &callScope{}})
		inst.guestResource(testGuestResource)

		newLifter := func() *lifter {
			const limit = 1 << 20
			return &lifter{inst: inst, enc: enc, mem: mem, hasMem: true, scope: &callScope{}, budget: limit, limit: limit}
		}
		checkErr := func(how string, err error) {
			var trap *Trap
			if err != nil && !errors.As(err, &trap) {
				t.Fatalf("lifting %s %s: error is not a Trap: %v", typ, how, err)
			}
		}

		for _, ptr := range []uint32{0, AlignTo(uint32(len(mem))/2, Align(typ))} {
			if checkRange("fuzz", ptr, uint64(Size(typ)), Align(typ), len(mem)) == nil {
				_, err := newLifter().load(ptr, typ)
				checkErr("from memory", err)
			}
		}

		flat := make([]uint64, flatCount(typ))
		for i := range flat {
			if len(mem) >= 8*(i+1) {
				flat[i] = binary.LittleEndian.Uint64(mem[8*i:])
			}
		}
		_, err := newLifter().liftFlat(&flatReader{vals: flat}, typ)
		checkErr("flat", err)
	})
}

// TestGenTypeValid checks the fuzz and property generators only make types
// the canonical ABI accepts (no zero-size records, at most 32 flags).
func TestGenTypeValid(t *testing.T) {
	var check func(typ *types.Type)
	check = func(typ *types.Type) {
		switch typ.Kind {
		case types.Record, types.Tuple:
			if len(typ.Fields) == 0 {
				t.Fatalf("generated an empty %s", typ.Kind)
			}
			for _, f := range typ.Fields {
				check(f.Type)
			}
		case types.Flags:
			if len(typ.Labels) == 0 || len(typ.Labels) > 32 {
				t.Fatalf("generated flags with %d labels", len(typ.Labels))
			}
		case types.List, types.Option:
			check(typ.Elem)
		case types.Variant, types.Result, types.Enum:
			if len(Cases(typ)) == 0 {
				t.Fatalf("generated a %s with no cases", typ.Kind)
			}
			for _, c := range Cases(typ) {
				if c != nil {
					check(c)
				}
			}
		}
	}
	for seed := range 256 {
		check(genType(&byteChoices{b: []byte{byte(seed), byte(seed * 7), byte(seed * 13), byte(seed * 31)}}, 3, true))
	}
}
