package connect

import "testing"

// errors.tolerance is validated case-insensitively (Kafka's
// CaseInsensitiveValidString), so it must also run that way: ALL once
// passed validation and then failed tasks as none.
func TestToleranceSettingIgnoresCase(t *testing.T) {
	for _, tc := range []struct {
		value string
		all   bool
	}{
		{"none", false}, {"NONE", false}, {"all", true}, {"ALL", true}, {"All", true}, {"", false},
	} {
		props := map[string]string{}
		if tc.value != "" {
			props[cfgTolerance] = tc.value
		}
		if got := newTolerance(props, nil, nil, nil, "c", 0).all; got != tc.all {
			t.Errorf("errors.tolerance=%q: all = %v, want %v", tc.value, got, tc.all)
		}
	}
}
