// Package connecttest lets a connector's tests see what the Connect
// runtime makes of the connector's configuration definition: the reply
// of PUT /connector-plugins/{class}/config/validate, without a worker.
package connecttest

import (
	"context"
	"maps"
	"reflect"
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
)

// Reply is the validate reply for props, with class the only plugin.
func Reply(t *testing.T, class string, newConnector func() connect.Connector, props map[string]string) *connect.ConfigInfos {
	t.Helper()
	r := connect.NewRegistry("test", map[string]func() connect.Connector{class: newConnector})
	infos, err := r.Validate(context.Background(), props)
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

// ValidateCase is one row of a table test of the validate reply: the
// base configuration with Set added and Drop removed, and the errors the
// reply must have, by key.
type ValidateCase struct {
	Name string
	Set  map[string]string
	Drop []string
	Want map[string][]string
}

// Validate runs the cases, each as a subtest, checking the errors, their
// count, the class's name, and that no PASSWORD value given is shown.
func Validate(t *testing.T, class string, newConnector func() connect.Connector, base map[string]string, cases []ValidateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			props := maps.Clone(base)
			maps.Copy(props, tc.Set)
			for _, k := range tc.Drop {
				delete(props, k)
			}
			infos := Reply(t, class, newConnector, props)
			if got := infos.Errors(); !reflect.DeepEqual(got, tc.Want) {
				t.Errorf("errors\n%q\nwant\n%q", got, tc.Want)
			}
			n := 0
			for _, msgs := range tc.Want {
				n += len(msgs)
			}
			if infos.ErrorCount != n || infos.Name != class {
				t.Errorf("name %q error_count %d, want %q %d", infos.Name, infos.ErrorCount, class, n)
			}
			for _, ci := range infos.Configs {
				_, given := props[ci.Value.Name]
				if v := ci.Value.Value; given && ci.Definition.Type == string(connect.ConfigPassword) && (v == nil || *v != "[hidden]") {
					t.Errorf("%s shown as %v", ci.Value.Name, v)
				}
			}
		})
	}
}
