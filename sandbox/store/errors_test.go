package store

import (
	"fmt"
	"testing"
)

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1000, "1000 B"},
		{1024, "1 KiB"},
		{55466, "54.17 KiB"},
		{DefaultMaxBytes, "100 MiB"},
		{3 << 30, "3 GiB"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d", tt.n), func(t *testing.T) {
			if got := humanBytes(tt.n); got != tt.want {
				t.Fatalf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
