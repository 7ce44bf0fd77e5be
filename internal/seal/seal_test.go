package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
)

// TestSealOpen checks the round trip, that plain values pass through,
// and that a value opens only under its own master key and label.
func TestSealOpen(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	k := NewKeyring(master, "label")
	sealed, err := k.Seal(1, "id", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatalf("sealed value holds the plain text: %q", sealed)
	}
	for _, tc := range []struct {
		name       string
		k          *Keyring
		in         []byte
		want       string
		wantSealed bool
		wantErr    error
	}{
		{"round trip", k, sealed, "secret", true, nil},
		{"plain passes through", k, []byte(`{"a":1}`), `{"a":1}`, false, nil},
		{"other master key", NewKeyring(other, "label"), sealed, "", true, ErrOpen},
		{"other label", NewKeyring(master, "other"), sealed, "", true, ErrOpen},
		{"truncated", k, sealed[:len(sealed)-1], "", true, ErrOpen},
		{"bad header", k, []byte{1, 0xff}, "", true, ErrOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, isSealed, err := tc.k.Open(1, tc.in)
			if !errors.Is(err, tc.wantErr) || isSealed != tc.wantSealed || string(got) != tc.want {
				t.Fatalf("Open = %q, %v, %v; want %q, %v, %v", got, isSealed, err, tc.want, tc.wantSealed, tc.wantErr)
			}
		})
	}
}

// TestDerivation pins the key derivation: batches of encrypted streams
// written before this package existed must still open.
func TestDerivation(t *testing.T) {
	master := bytes.Repeat([]byte{3}, 32)
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("tributary data key\x00my-key"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	head := append([]byte{2, 6}, "my-key"...)
	nonce := make([]byte, a.NonceSize())
	old := a.Seal(append(append([]byte{}, head...), nonce...), nonce, []byte("batch"), head)
	got, sealed, err := NewKeyring(master, "tributary data key").Open(2, old)
	if err != nil || !sealed || string(got) != "batch" {
		t.Fatalf("Open = %q, %v, %v", got, sealed, err)
	}
}
