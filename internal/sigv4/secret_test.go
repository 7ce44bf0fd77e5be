package sigv4

import "testing"

func TestCheckSecret(t *testing.T) {
	v, err := New([]Credential{{"AKIDA", "secretA", "111122223333"}, {"AKIDB", "secret/B+", "444455556666"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key, secret string
		ok                bool
		account           string
	}{
		{"right", "AKIDA", "secretA", true, "111122223333"},
		{"second key", "AKIDB", "secret/B+", true, "444455556666"},
		{"other key's secret", "AKIDA", "secret/B+", false, ""},
		{"prefix of the secret", "AKIDA", "secret", false, ""},
		{"secret plus more", "AKIDA", "secretAA", false, ""},
		{"empty secret", "AKIDA", "", false, ""},
		{"unknown key", "AKIDC", "secretA", false, ""},
		{"unknown key, empty secret", "AKIDC", "", false, ""},
		{"empty key", "", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := v.CheckSecret(tc.key, tc.secret)
			if ok != tc.ok || id.Account != tc.account {
				t.Fatalf("CheckSecret(%q, %q) = %+v, %v; want account %q, %v", tc.key, tc.secret, id, ok, tc.account, tc.ok)
			}
		})
	}
}
