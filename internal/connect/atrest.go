package connect

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Connector records are sealed with AES-256-GCM (internal/seal) under a
// key derived from the server's master key, so the passwords that
// configurations hold are not in the metadata store's files. A record
// written before sealing existed is plain JSON, which starts with '{':
// it still loads, and is sealed when written next (at start-up).
const (
	recordKeyLabel    = "tributary connect record key"
	recordKeyID       = "connect.config"
	recordSealVersion = 1
)

// sealRecord encodes a connector record for the KV.
func (h *Herder) sealRecord(rec connRecord) ([]byte, error) {
	b, err := json.Marshal(rec)
	if err != nil || h.seal == nil {
		return b, err
	}
	return h.seal.Seal(recordSealVersion, recordKeyID, b)
}

// openRecord decodes a connector record from the KV, reporting whether
// it was sealed.
func (h *Herder) openRecord(b []byte) (connRecord, bool, error) {
	var rec connRecord
	sealed := len(b) > 0 && b[0] == recordSealVersion
	if sealed {
		if h.seal == nil {
			return rec, true, errors.New("the record is encrypted and this worker has no master key")
		}
		plain, _, err := h.seal.Open(recordSealVersion, b)
		if err != nil {
			return rec, true, fmt.Errorf("%w (was the server's master key, -master-key-file, changed?)", err)
		}
		b = plain
	}
	return rec, sealed, json.Unmarshal(b, &rec)
}
