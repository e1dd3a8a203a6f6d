package policy

import (
	"fmt"
	"math/big"
	"strings"
)

// Multipliers of Kubernetes-style quantities, longest suffix first so that
// "Mi" is tried before "M".
var quantitySuffixes = []struct {
	suffix string
	mult   int64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
	{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
}

// parseMemory reads a memory quantity ("512Mi", "1G", "1.5Gi", "1048576")
// as bytes, rounding a fraction of a byte up.
func parseMemory(text string) (int64, error) {
	number, mult := text, int64(1)
	for _, s := range quantitySuffixes {
		if n, ok := strings.CutSuffix(text, s.suffix); ok {
			number, mult = n, s.mult
			break
		}
	}
	bytes, ok := scaleDecimal(number, mult)
	if !ok {
		return 0, fmt.Errorf("%q is not a memory size such as 512Mi, 2Gi or 1G", text)
	}
	return bytes, nil
}

// parseCPU reads a CPU quantity ("500m", "2", "0.5") as millicores.
func parseCPU(text string) (int64, error) {
	millis, ok := int64(0), false
	if n, milli := strings.CutSuffix(text, "m"); milli {
		millis, ok = scaleDecimal(n, 1)
	} else {
		millis, ok = scaleDecimal(text, 1000)
	}
	if !ok {
		return 0, fmt.Errorf("%q is not a CPU amount such as 500m or 2", text)
	}
	return millis, nil
}

// scaleDecimal multiplies a plain decimal ("12", "1.5") by mult and rounds
// up. It reports false for anything else, for zero and on overflow.
func scaleDecimal(number string, mult int64) (int64, bool) {
	if number == "" || len(number) > 40 {
		return 0, false
	}
	whole, frac, hasFrac := strings.Cut(number, ".")
	if whole == "" || !allDigits(whole) || hasFrac && (frac == "" || !allDigits(frac)) {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(number)
	if !ok {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if q.Sign() <= 0 || !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
