package streams

import (
	"regexp"
	"testing"
)

// TestStreamIDForm pins that every stream, including one whose metadata
// was written before StreamIds had AWS's form (a bare 16-hex-digit uid),
// reports a StreamId matching AWS's pattern, the same one on every read,
// and a different one for each incarnation.
func TestStreamIDForm(t *testing.T) {
	form := regexp.MustCompile(`^[a-z0-9]{20}-[a-z0-9]{3}$`)
	seen := map[string]string{}
	for _, uid := range []string{"0123456789abcdef", "fedcba9876543210", newUID(), newUID()} {
		m := &Meta{UID: uid}
		id := m.StreamID()
		if !form.MatchString(id) {
			t.Errorf("uid %s: StreamId %q does not match %s", uid, id, form)
		}
		if again := (&Meta{UID: uid}).StreamID(); again != id {
			t.Errorf("uid %s: StreamId %q, then %q", uid, id, again)
		}
		if other, ok := seen[id]; ok {
			t.Errorf("uids %s and %s share StreamId %s", other, uid, id)
		}
		seen[id] = uid
	}
}
