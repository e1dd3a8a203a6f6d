package abi

import (
	"strings"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// benchRecord is a record shaped like a typical tool argument.
var benchRecord = types.RecordOf(
	types.Field{Name: "name", Type: types.StringType},
	types.Field{Name: "count", Type: types.U32Type},
	types.Field{Name: "ratio", Type: types.F64Type},
	types.Field{Name: "tags", Type: types.ListOf(types.StringType)},
	types.Field{Name: "mode", Type: types.OptionOf(types.EnumOf("fast", "slow"))},
)

var benchRecordValue = []any{"a name", uint32(7), 0.5, []any{"x", "yy", "zzz"}, types.VariantValue{Case: 1, Value: types.VariantValue{Case: 1}}}

var benchString = strings.Repeat("héllo wörld ", 79) // about 1 KiB, mostly ASCII

// resetHeap frees everything the test guest's bump allocator handed out, so
// long benchmarks do not grow its memory without bound.
func (g *guest) resetHeap() {
	if _, err := g.fn("reset_heap").Call(g.ctx); err != nil {
		g.t.Fatal(err)
	}
}

func BenchmarkLowerString(b *testing.B) {
	for _, enc := range encodings {
		b.Run(enc.String(), func(b *testing.B) {
			g := newGuest(b)
			g.opts.Encoding = enc
			lw := g.opts.newLowerer(g.ctx, nil)
			b.SetBytes(int64(len(benchString)))
			for i := 0; b.Loop(); i++ {
				if i%1000 == 0 {
					g.resetHeap()
				}
				if _, _, err := lw.storeStringIntoRange(benchString); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLiftString(b *testing.B) {
	for _, enc := range encodings {
		b.Run(enc.String(), func(b *testing.B) {
			g := newGuest(b)
			g.opts.Encoding = enc
			ptr, units, err := g.opts.newLowerer(g.ctx, nil).storeStringIntoRange(benchString)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(benchString)))
			for b.Loop() {
				s, err := g.opts.newLifter(nil).loadStringRange(ptr, units)
				if err != nil || len(s) != len(benchString) {
					b.Fatalf("lifted %d bytes, %v", len(s), err)
				}
			}
		})
	}
}

func BenchmarkLowerRecord(b *testing.B) {
	g := newGuest(b)
	lw := g.opts.newLowerer(g.ctx, &callScope{})
	size, align := Size(benchRecord), Align(benchRecord)
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			g.resetHeap()
		}
		ptr, err := lw.allocate(align, size)
		if err != nil {
			b.Fatal(err)
		}
		if err := lw.store(benchRecordValue, benchRecord, ptr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLiftRecord(b *testing.B) {
	g := newGuest(b)
	lw := g.opts.newLowerer(g.ctx, &callScope{})
	ptr, err := lw.allocate(Align(benchRecord), Size(benchRecord))
	if err != nil {
		b.Fatal(err)
	}
	if err := lw.store(benchRecordValue, benchRecord, ptr); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.opts.newLifter(nil).load(ptr, benchRecord); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallExportRecord is a whole export call: the record lowered into
// the guest (spilled with padding), an identity core function, and the
// result lifted back.
func BenchmarkCallExportRecord(b *testing.B) {
	g := newGuest(b)
	ft, pad := echoType(benchRecord)
	fn := g.fn("identity_i32")
	args := []any{benchRecordValue, pad}
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			g.resetHeap()
		}
		if _, err := g.opts.CallExport(g.ctx, fn, ft, args); err != nil {
			b.Fatal(err)
		}
	}
}
