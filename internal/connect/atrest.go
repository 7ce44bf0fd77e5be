package connect

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Connector records and task configurations are sealed with AES-256-GCM
// (internal/seal) under a key derived from the server's master key, so
// the passwords that configurations hold are not in the metadata store's
// files. A record written before sealing existed is plain JSON, which
// starts with '{': it still loads, and is sealed when written next (at start-up).
const (
	recordKeyLabel    = "tributary connect record key"
	recordKeyID       = "connect.config"
	recordSealVersion = 1
)

// sealValue encodes a connector record or task configuration for the KV.
func (h *Herder) sealValue(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || h.seal == nil {
		return b, err
	}
	return h.seal.Seal(recordSealVersion, recordKeyID, b)
}

// openValue decodes a value sealValue wrote (or a plain one an earlier
// version wrote) into v, reporting whether it was sealed.
func (h *Herder) openValue(b []byte, v any) (bool, error) {
	sealed := len(b) > 0 && b[0] == recordSealVersion
	if sealed {
		if h.seal == nil {
			return true, errors.New("the record is encrypted and this worker has no master key")
		}
		plain, _, err := h.seal.Open(recordSealVersion, b)
		if err != nil {
			return true, fmt.Errorf("%w (was the server's master key, -master-key-file, changed?)", err)
		}
		b = plain
	}
	return sealed, json.Unmarshal(b, v)
}
