package sigv4

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// LoadCredentials reads a credentials file; see ParseCredentials.
func LoadCredentials(path string) ([]Credential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	defer f.Close()
	creds, err := ParseCredentials(f)
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return creds, nil
}

// ParseCredentials reads credentials, one per line:
//
//	ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID
//
// separated by spaces or tabs. ACCOUNT_ID is a 12-digit number. Blank
// lines and lines starting with # are ignored. A file that lists no key
// is an error: it would lock every client out, which is never intended.
func ParseCredentials(r io.Reader) ([]Credential, error) {
	var creds []Credential
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID, got %d fields", n, len(f))
		}
		if len(f[2]) != 12 || strings.Trim(f[2], "0123456789") != "" {
			return nil, fmt.Errorf("line %d: account id %q is not a 12-digit number", n, f[2])
		}
		if prev, dup := seen[f[0]]; dup {
			return nil, fmt.Errorf("line %d: access key id %s already listed on line %d", n, f[0], prev)
		}
		seen[f[0]] = n
		creds = append(creds, Credential{AccessKeyID: f[0], SecretAccessKey: f[1], Account: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("no credentials listed")
	}
	return creds, nil
}
