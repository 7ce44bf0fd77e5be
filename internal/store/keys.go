package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Metadata keys are NATS subjects under the hood, and a subject is sent
// in a protocol line that the server caps at 4,096 bytes: a longer one
// makes it close the connection, which is this process's only one. So
// callers may use any key, of any length and characters, and the store
// maps it to a subject it can always send:
//
//   - The key is split into tokens at dots. A token keeps its form when
//     it holds only the characters NATS allows in a key ([-/_=A-Za-z0-9]),
//     does not start with '=', and the key up to and including it fits in
//     rawBudget bytes. Every key the store could hold before this scheme
//     existed and that fits in rawBudget is therefore unchanged: no
//     migration.
//   - Any other token becomes '=' and 32 hex digits of its SHA-256. A
//     token's form depends only on the tokens before it, so a key under a
//     prefix is stored under the prefix's stored form, and listing by
//     prefix works for every key.
//   - A key with a hashed token keeps its real spelling in its value,
//     ahead of the caller's bytes (uvarint length, key, value), so that
//     List gives it back.
//   - A key that is still longer than maxKey (thousands of tokens) is
//     refused with ErrInvalidKey before anything is sent.

// ErrInvalidKey is returned for a key the store cannot hold.
var ErrInvalidKey = errors.New("store: invalid key")

const (
	// rawBudget is how long a key may be and keep its own spelling.
	rawBudget = 3072
	// maxKey bounds a stored key: the longest request line it appears in
	// (a listing's consumer-create request) stays well under the
	// server's 4,096-byte limit, which fits keys up to about 3,980 bytes.
	maxKey = 3584
	// hashedMark starts a hashed token; no raw token starts with it.
	hashedMark = '='
	// hashBytes is how much of the SHA-256 a hashed token keeps.
	hashBytes = 16
)

// rawToken reports whether a token may be stored as it is.
func rawToken(t string) bool {
	if t == "" || t[0] == hashedMark {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '/' || c == '_' || c == '=') {
			return false
		}
	}
	return true
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return string(hashedMark) + hex.EncodeToString(sum[:hashBytes])
}

// storedKey is the subject-safe form of key. Tokens "*" and ">" are
// wildcards, kept as they are, when wildcards is set (List's filters);
// otherwise they are ordinary characters and hashed. A filter of a
// prefix and ">" matches exactly the keys under the prefix. Tokens after
// a "*" are mapped as if it were one byte long, so near the raw budget
// such a filter can miss keys; the store's callers list by prefix.
func storedKey(key string, wildcards bool) (string, error) {
	tokens := strings.Split(key, ".")
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case wildcards && (t == "*" || t == ">" && i == len(tokens)-1):
			b.WriteString(t)
		case rawToken(t) && b.Len()+len(t) <= rawBudget:
			b.WriteString(t)
		default:
			b.WriteString(hashToken(t))
		}
	}
	if b.Len() > maxKey {
		return "", fmt.Errorf("%w: %d bytes, %d tokens", ErrInvalidKey, len(key), len(tokens))
	}
	return b.String(), nil
}

// hashed reports whether a stored key has a hashed token, and so a value
// that starts with the key's real spelling.
func hashed(stored string) bool {
	return stored != "" && stored[0] == hashedMark || strings.Contains(stored, "."+string(hashedMark))
}

// wrap is the value stored for key under stored.
func wrap(key, stored string, value []byte) []byte {
	if !hashed(stored) {
		return value
	}
	b := make([]byte, 0, binary.MaxVarintLen64+len(key)+len(value))
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, value...)
}

// unwrap returns the key and value stored under stored.
func unwrap(stored string, value []byte) (string, []byte, error) {
	if !hashed(stored) {
		return stored, value, nil
	}
	n, w := binary.Uvarint(value)
	if w <= 0 || uint64(len(value)-w) < n {
		return "", nil, fmt.Errorf("key %s: value lacks the key's spelling", stored)
	}
	return string(value[w : w+int(n)]), value[w+int(n):], nil
}
