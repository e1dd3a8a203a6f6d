package sandbox

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

func TestEnvSource(t *testing.T) {
	pol, err := policy.Parse([]byte(`version: "1.0"
permissions:
  environment:
    allow:
      - key: SECRET_ONE
      - key: PERSON_SET
      - key: FROM_PROCESS
      - key: NOWHERE
      - key: BLOCKED
    deny:
      - key: BLOCKED
`))
	if err != nil {
		t.Fatal(err)
	}
	from := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	src := EnvSource{
		Policy:  func() *policy.Policy { return pol },
		Secret:  from(map[string]string{"SECRET_ONE": "secret", "BLOCKED": "s"}),
		Value:   from(map[string]string{"SECRET_ONE": "not this", "PERSON_SET": "person"}),
		Process: from(map[string]string{"SECRET_ONE": "nor this", "PERSON_SET": "nor this", "FROM_PROCESS": "process", "HOME": "/root", "BLOCKED": "p"}),
	}
	got, err := src.Environment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"FROM_PROCESS", "process"}, {"PERSON_SET", "person"}, {"SECRET_ONE", "secret"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Environment = %v, want %v", got, want)
	}

	t.Run("NoPolicyNoVariables", func(t *testing.T) {
		empty := EnvSource{Process: src.Process}
		if got, _ := empty.Environment(context.Background()); len(got) != 0 {
			t.Errorf("Environment without a policy = %v, want none", got)
		}
	})

	checker := func(verdict error) context.Context {
		return access.WithChecker(context.Background(), checkerFunc(func(ctx context.Context, a policy.Access) error { return verdict }))
	}
	tests := []struct {
		name    string
		ctx     context.Context
		key     string
		want    string
		wantOK  bool
		wantErr error
	}{
		{"ConfigAllowed", checker(nil), "PERSON_SET", "person", true, nil},
		{"ConfigAllowedUnset", checker(nil), "NOWHERE", "", false, nil},
		{"ConfigDeniedReadsUnset", checker(&access.DeniedError{Access: policy.Config{Key: "HOME"}}), "HOME", "", false, nil},
		{"NoCheckerDenies", context.Background(), "PERSON_SET", "", false, nil},
		{"CancelledWhileAsked", checker(context.Canceled), "PERSON_SET", "", false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok, err := src.Get(tt.ctx, tt.key)
			if v != tt.want || ok != tt.wantOK || !errors.Is(err, tt.wantErr) {
				t.Errorf("Get(%s) = %q, %v, %v; want %q, %v, %v", tt.key, v, ok, err, tt.want, tt.wantOK, tt.wantErr)
			}
		})
	}
}

// checkerFunc decides every access with one function.
type checkerFunc func(ctx context.Context, a policy.Access) error

func (f checkerFunc) Check(ctx context.Context, a policy.Access) error { return f(ctx, a) }

func (f checkerFunc) CheckAddress(ctx context.Context, scheme string, ip netip.Addr, port uint16) error {
	return f(ctx, policy.Network{Scheme: scheme, Host: ip.String(), Port: port})
}
