package maxwell

import (
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/connecttest"
)

// TestValidateReply: the validate endpoint's errors for the Maxwell
// connector: a single setting's problem on its key, from the one
// definition, once; the rest of Maxwell's checks under "maxwell".
func TestValidateReply(t *testing.T) {
	cases := []connecttest.ValidateCase{
		{Name: "valid", Want: map[string][]string{}},
		{Name: "no stream", Set: map[string]string{"kinesis_stream": ""}, Want: map[string][]string{
			"maxwell": {"set topic or kinesis_stream: the stream Maxwell's rows go to"}}},
		{Name: "port not a number", Set: map[string]string{"port": "x"}, Want: map[string][]string{
			"port": {"Invalid value x for configuration port: Not a number of type INT"}}},
		{Name: "server id zero", Set: map[string]string{"replica_server_id": "0"}, Want: map[string][]string{
			"replica_server_id": {"Invalid value 0 for configuration replica_server_id: a number from 1 to 4294967295 required"}}},
		{Name: "bad boolean", Set: map[string]string{"output_ddl": "yes"}, Want: map[string][]string{
			"output_ddl": {"Invalid value yes for configuration output_ddl: Expected value to be either true or false"}}},
		{Name: "bad bootstrapper and filter", Set: map[string]string{"bootstrapper": "later", "filter": "include foo.bar"}, Want: map[string][]string{
			"maxwell": {"please specify --bootstrapper=async|sync|none\nInvalid filter options: " + filterError(t, "include foo.bar")}}},
		{Name: "a daemon setting's type", Set: map[string]string{"ha": "maybe"}, Want: map[string][]string{
			"maxwell": {"invalid value for ha, true|false required"}}},
	}
	connecttest.Validate(t, ConnectorClass, func() connect.Connector { return NewConnector() },
		map[string]string{"connector.class": ConnectorClass, "name": "m", "kinesis_stream": "rows", "password": "pw"}, cases)
}

func filterError(t *testing.T, spec string) string {
	t.Helper()
	_, err := ParseFilter(spec, "maxwell")
	if err == nil {
		t.Fatalf("filter %q parsed", spec)
	}
	return err.Error()
}

// TestDefinition: the connector shows the Maxwell and Output groups of
// the definition, in order, with Maxwell's defaults; the daemon knows
// the rest, and which keys are booleans, from the same definition.
func TestDefinition(t *testing.T) {
	def := (&connector{}).Config()
	if got := def.Names(); len(got) != 38 || got[0] != "host" || got[len(got)-1] != "exclude_columns" {
		t.Errorf("connector keys %q", got)
	}
	defaults := map[string]string{}
	for _, k := range def {
		defaults[k.Name] = k.Default
		if k.Group != groupMaxwell && k.Group != groupOutput {
			t.Errorf("%s in group %s", k.Name, k.Group)
		}
	}
	for k, want := range map[string]string{"host": "localhost", "port": "3306", "replica_server_id": "6379",
		"client_id": "maxwell", "output_xoffset": "true", "output_ddl": "false", "bootstrapper": "async"} {
		if defaults[k] != want {
			t.Errorf("%s default %q, want %q", k, defaults[k], want)
		}
	}
	for _, k := range []string{"producer", "log_level", KeyKPLProperties, "ha"} {
		if _, ok := def.Lookup(k); ok || !KnownKey(k) {
			t.Errorf("%s: in the connector's keys, or unknown to the daemon", k)
		}
	}
	for k, want := range map[string]bool{"ha": true, "daemon": true, "output_nulls": true, "port": false, "jdbc_options": false} {
		if IsBooleanKey(k) != want {
			t.Errorf("IsBooleanKey(%s) = %v", k, !want)
		}
	}
}
