package secrets

import "fmt"

const (
	maxComponentLen = 128
	maxKeyLen       = 128
)

func validate(component, key string) error {
	if err := validComponent(component); err != nil {
		return err
	}
	return validKey(key)
}

// validComponent accepts ids made of letters, digits, '.', '_' and '-',
// starting with a letter or digit: what component ids are made of, and
// never a '/' (the account "<component>/<key>" must split one way only).
func validComponent(id string) error {
	if id == "" || len(id) > maxComponentLen {
		return fmt.Errorf("component id %q: %w: it must be 1 to %d characters", id, ErrInvalidName, maxComponentLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := isAlnum(c) || (i > 0 && (c == '.' || c == '_' || c == '-'))
		if !ok {
			return fmt.Errorf("component id %q: %w: use letters, digits, '.', '_' and '-', starting with a letter or digit", id, ErrInvalidName)
		}
	}
	return nil
}

// validKey accepts environment-variable names: [A-Za-z_][A-Za-z0-9_]*.
func validKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("secret name %q: %w: it must be 1 to %d characters", key, ErrInvalidName, maxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := c == '_' || isAlpha(c) || (i > 0 && isDigit(c))
		if !ok {
			return fmt.Errorf("secret name %q: %w: use letters, digits and '_', not starting with a digit, like an environment variable", key, ErrInvalidName)
		}
	}
	return nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }
