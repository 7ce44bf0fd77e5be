//go:build clusterfaults

package clusterfaults

import (
	"os"
	"testing"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestMain removes the tributary binary the tests built, once they end.
func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }
