package streams

import "github.com/tributary-data/tributary/internal/seal"

// Encryption at rest: the record batches of a stream with a key id are
// sealed under a data key derived from the master key and that id (see
// internal/seal); reading opens whatever was sealed, so a stream whose
// encryption was started or stopped reads back both kinds of batches.

// encryptedBatchVersion marks a sealed batch: version byte, uvarint length
// and KeyId, nonce, then the AES-GCM ciphertext of a plain batch.
const encryptedBatchVersion = 2

// dataKeyLabel is the label of stream data keys in the master key's
// derivation (seal.NewKeyring).
const dataKeyLabel = "tributary data key"

// keyring seals and opens record batches, with the server's shared
// sealing (internal/seal) and the batch's version byte.
type keyring struct{ keys *seal.Keyring }

func newKeyring(master []byte) *keyring { return &keyring{keys: seal.NewKeyring(master, dataKeyLabel)} }

// seal encrypts a plain batch under keyID.
func (k *keyring) seal(keyID string, plain []byte) ([]byte, error) {
	return k.keys.Seal(encryptedBatchVersion, keyID, plain)
}

// open returns the plain batch of a stored message, decrypting it if it
// is sealed, and whether it was.
func (k *keyring) open(p []byte) (plain []byte, encrypted bool, err error) {
	return k.keys.Open(encryptedBatchVersion, p)
}
