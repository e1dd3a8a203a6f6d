package binary

import (
	"strings"
	"testing"
)

// chainTypes returns type section entries for tuple<t, t> nested depth
// times over u8: each level's tree is twice the size of the one below, but
// the DAG is one entry per level.
func chainTypes(depth int) [][]byte {
	entries := [][]byte{{0x6f, 2, 0x7d, 0x7d}}
	for i := 1; i < depth; i++ {
		idx := sleb(int64(i - 1))
		entries = append(entries, cat([]byte{0x6f, 2}, idx, idx))
	}
	return entries
}

func typeSection(entries [][]byte) []byte {
	return section(secType, leb(uint64(len(entries))), cat(entries...))
}

// funcOf returns a functype taking one parameter "p" of type index idx.
func funcOf(idx int) []byte {
	return cat([]byte{0x40}, leb(1), str("p"), sleb(int64(idx)), []byte{0x01, 0x00})
}

// sleb encodes a signed LEB128, as type indices in value types are (s33).
func sleb(n int64) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if (n == 0 && b&0x40 == 0) || (n == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

// TestSharedTypesStayLinear matches two separately built types whose trees
// have 2^25 leaves: comparison, substitution and error messages must work on
// the DAG, not the tree (this test would not finish otherwise).
func TestSharedTypesStayLinear(t *testing.T) {
	const depth = 25
	outer := append(chainTypes(depth), funcOf(depth-1))
	inner := component(
		typeSection(append(chainTypes(depth), funcOf(depth-1))),
		section(secImport, leb(1), []byte{0x00}, str("f"), []byte{0x01}, leb(depth)),
	)
	b := component(
		typeSection(outer),
		section(secImport, leb(1), []byte{0x00}, str("f"), []byte{0x01}, leb(depth)),
		section(secComponent, inner),
		section(secInstance, leb(1), []byte{0x00, 0x00}, leb(1), str("f"), []byte{0x01}, leb(0)),
	)
	if _, err := Decode(b); err != nil {
		t.Fatalf("Decode: %v", err)
	}

	// The same shape with u16 leaves on one side: the mismatch must be
	// reported with a bounded message.
	inner = component(
		typeSection(append(append([][]byte{{0x6f, 2, 0x7b, 0x7b}}, chainTypes(depth)[1:]...), funcOf(depth-1))),
		section(secImport, leb(1), []byte{0x00}, str("f"), []byte{0x01}, leb(depth)),
	)
	b = component(
		typeSection(outer),
		section(secImport, leb(1), []byte{0x00}, str("f"), []byte{0x01}, leb(depth)),
		section(secComponent, inner),
		section(secInstance, leb(1), []byte{0x00, 0x00}, leb(1), str("f"), []byte{0x01}, leb(0)),
	)
	_, err := Decode(b)
	if err == nil || !strings.Contains(err.Error(), "expected function type func(p: tuple<tuple<") {
		t.Fatalf("Decode error %v, want a function type mismatch", err)
	}
	if len(err.Error()) > 2*maxTypeText+200 {
		t.Errorf("error message is %d bytes long; types in messages must be cut short", len(err.Error()))
	}
}

func TestTypeLimits(t *testing.T) {
	deepLists := [][]byte{{0x70, 0x7d}}
	for i := 1; i <= maxTypeDepth; i++ {
		deepLists = append(deepLists, cat([]byte{0x70}, sleb(int64(i-1))))
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"too-large", component(typeSection(chainTypes(30))), "component: at byte offset 0x77: value type is too large: its size in memory is at least 2^28 bytes"},
		{"too-deep", component(typeSection(deepLists)), "component: at byte offset 0xf4: value type is nested more than 100 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Decode error = %v, want %s", err, tt.want)
			}
		})
	}
}

// TestWorkBudget imports one instance type that declares a resource and
// many functions, many times: each import makes fresh resources and so new
// function types, work that grows with the product of the two counts.
func TestWorkBudget(t *testing.T) {
	const funcs, imports = 3000, 1000
	decls := [][]byte{cat([]byte{0x04, 0x00}, str("r"), []byte{0x03, 0x01})} // (export "r" (type (sub resource)))
	decls = append(decls, cat([]byte{0x01, 0x69}, leb(0)))                   // (type (own 0))
	decls = append(decls, cat([]byte{0x01}, funcOf(1)))                      // (type (func (param "p" 1)))
	for i := range funcs {
		decls = append(decls, cat([]byte{0x04, 0x00}, str("f"+itoa(i)), []byte{0x01}, leb(2)))
	}
	instType := cat([]byte{0x42}, leb(uint64(len(decls))), cat(decls...))
	var imps [][]byte
	for i := range imports {
		imps = append(imps, cat([]byte{0x00}, str("i"+itoa(i)), []byte{0x05}, leb(0)))
	}
	b := component(
		section(secType, leb(1), instType),
		section(secImport, leb(imports), cat(imps...)),
	)
	_, err := Decode(b)
	if err == nil || !strings.Contains(err.Error(), "too large to validate") {
		t.Fatalf("Decode error = %v, want the work budget to run out", err)
	}
}

func itoa(i int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	s := ""
	for {
		s = string(letters[i%26]) + s
		i /= 26
		if i == 0 {
			return s
		}
	}
}
