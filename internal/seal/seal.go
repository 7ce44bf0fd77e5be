// Package seal encrypts what Tributary keeps at rest with AES-256-GCM,
// under keys derived from the server's master key: record batches of
// encrypted streams (internal/kinesis) and connector configurations
// (internal/connect), which may hold passwords.
//
// There is no KMS. The master key is either generated once and kept in
// the metadata bucket or supplied from outside the data directory
// (-master-key-file). Each use derives its own keys from it, by a label
// and a key id, so a stream's KeyId never names a connector's key.
package seal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/tributary-data/tributary/internal/storage"
)

// ErrOpen is returned for a sealed value that does not decrypt: damaged,
// or sealed under another master key.
var ErrOpen = errors.New("sealed value does not open")

// Keyring derives and caches the AEAD of each key id.
type Keyring struct {
	master []byte
	label  string
	mu     sync.Mutex
	aeads  map[string]cipher.AEAD
}

// NewKeyring returns the keyring of one use of the master key. label
// separates uses: a key id's key is HMAC-SHA256(master, label NUL keyID).
func NewKeyring(master []byte, label string) *Keyring {
	return &Keyring{master: master, label: label, aeads: map[string]cipher.AEAD{}}
}

func (k *Keyring) aead(keyID string) (cipher.AEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.aeads[keyID]; ok {
		return a, nil
	}
	mac := hmac.New(sha256.New, k.master)
	mac.Write([]byte(k.label + "\x00" + keyID))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k.aeads[keyID] = a
	return a, nil
}

// Seal encrypts plain under keyID. The result is version, the uvarint
// length of keyID and keyID, a random nonce, then the ciphertext, whose
// authenticated data is everything before the nonce. version marks the
// value as sealed for the reader; it must differ from the first byte
// of any plain value the same place may hold.
func (k *Keyring) Seal(version byte, keyID string, plain []byte) ([]byte, error) {
	a, err := k.aead(keyID)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+binary.MaxVarintLen64+len(keyID)+a.NonceSize()+len(plain)+a.Overhead())
	out = append(out, version)
	out = binary.AppendUvarint(out, uint64(len(keyID)))
	out = append(out, keyID...)
	nonceAt := len(out)
	out = out[:nonceAt+a.NonceSize()]
	if _, err := rand.Read(out[nonceAt:]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return a.Seal(out, out[nonceAt:], plain, out[:nonceAt]), nil
}

// Open returns the plain value of p: decrypted if it starts with
// version (sealed reports that it did), else p itself.
func (k *Keyring) Open(version byte, p []byte) (plain []byte, sealed bool, err error) {
	if len(p) == 0 || p[0] != version {
		return p, false, nil
	}
	n, w := binary.Uvarint(p[1:])
	if w <= 0 || uint64(len(p)-1-w) < n {
		return nil, true, ErrOpen
	}
	head := 1 + w + int(n)
	a, err := k.aead(string(p[1+w : head]))
	if err != nil {
		return nil, true, err
	}
	if len(p) < head+a.NonceSize()+a.Overhead() {
		return nil, true, ErrOpen
	}
	plain, err = a.Open(nil, p[head:head+a.NonceSize()], p[head+a.NonceSize():], p[:head])
	if err != nil {
		return nil, true, ErrOpen
	}
	return plain, true, nil
}

// MasterKey returns configured, the master key given from outside the
// data directory, or else the one kept in the metadata bucket, creating
// it once.
func MasterKey(ctx context.Context, st storage.KV, configured []byte) ([]byte, error) {
	if len(configured) > 0 {
		if len(configured) < 32 {
			return nil, fmt.Errorf("master key: want at least 32 bytes, have %d", len(configured))
		}
		return configured, nil
	}
	return StoredKey(ctx, st, "server.master-key")
}

// StoredKey loads a 32-byte secret kept in the metadata bucket under
// key (the key that seals shard iterators, the master key), creating it
// once, so that it survives restarts.
func StoredKey(ctx context.Context, st storage.KV, key string) ([]byte, error) {
	e, err := st.Get(ctx, key)
	if err == nil {
		return e.Value, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("generating %s: %w", key, err)
	}
	if _, err := st.Create(ctx, key, secret); errors.Is(err, storage.ErrExists) {
		e, err := st.Get(ctx, key)
		return e.Value, err
	} else if err != nil {
		return nil, err
	}
	return secret, nil
}
