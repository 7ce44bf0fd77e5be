package debezium

import (
	"context"
	"reflect"
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
)

// validateReply is the runtime's validate reply for props, as PUT
// /connector-plugins/MySqlConnector/config/validate gives it.
func validateReply(t *testing.T, props map[string]string) *connect.ConfigInfos {
	t.Helper()
	r := connect.NewRegistry("test", map[string]func() connect.Connector{ConnectorClass: func() connect.Connector { return NewConnector() }})
	infos, err := r.Validate(context.Background(), props)
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

func replyErrors(infos *connect.ConfigInfos) map[string][]string { return infos.Errors() }

// TestValidateReply: the validate endpoint's errors for Debezium
// configurations, each from the one definition or the connector's
// cross-key checks, each once; a password's value is hidden.
func TestValidateReply(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		drop []string
		want map[string][]string
	}{
		{"valid", nil, nil, map[string][]string{}},
		{"legacy server name", map[string]string{"database.server.name": "old"}, []string{"topic.prefix"}, map[string][]string{}},
		{"no topic prefix", nil, []string{"topic.prefix"}, map[string][]string{
			"topic.prefix": {`Missing required configuration "topic.prefix" which has no default value.`}}},
		{"blank hostname", map[string]string{"database.hostname": " "}, nil, map[string][]string{
			"database.hostname": {`Missing required configuration "database.hostname" which has no default value.`}}},
		{"blank values take defaults", map[string]string{"database.port": "", "snapshot.mode": " ", "topic.heartbeat.prefix": ""}, nil, map[string][]string{
			"database.port": {"Invalid value  for configuration database.port: Not a number of type INT"}}},
		{"port out of range", map[string]string{"database.port": "0"}, nil, map[string][]string{
			"database.port": {"Invalid value 0 for configuration database.port: Value must be between 1 and 65535"}}},
		{"server id too big", map[string]string{"database.server.id": "4294967296"}, nil, map[string][]string{
			"database.server.id": {"Invalid value 4294967296 for configuration database.server.id: Value must be between 1 and 4294967295"}}},
		{"bad topic prefix", map[string]string{"topic.prefix": "a b"}, nil, map[string][]string{
			"topic.prefix": {"Invalid value a b for configuration topic.prefix: a b has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"}}},
		{"recovery", map[string]string{"snapshot.mode": "recovery"}, nil, map[string][]string{
			"snapshot.mode": {"Invalid value recovery for configuration snapshot.mode: snapshot.mode recovery rebuilds Debezium's schema history topic; Tributary has none (it reads table definitions from the binary log), so there is nothing to recover: remove the setting"}}},
		{"bad regex and both lists", map[string]string{"table.include.list": "a", "table.exclude.list": "b(", "database.include.list": "x", "database.exclude.list": "y"}, nil, map[string][]string{
			"table.exclude.list": {
				"Invalid value b( for configuration table.exclude.list: invalid regular expression \"b(\": error parsing regexp: missing closing ): `(?i)^(?:b()$`",
				`"table.include.list" is already specified`},
			"database.exclude.list": {`"database.include.list" is already specified`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := baseProps("srv")
			props["connector.class"], props["name"] = ConnectorClass, "shop"
			for k, v := range tc.set {
				props[k] = v
			}
			for _, k := range tc.drop {
				delete(props, k)
			}
			infos := validateReply(t, props)
			if got := replyErrors(infos); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors\n%q\nwant\n%q", got, tc.want)
			}
			n := 0
			for _, msgs := range tc.want {
				n += len(msgs)
			}
			if infos.ErrorCount != n || infos.Name != ConnectorClass {
				t.Errorf("name %q error_count %d, want %d", infos.Name, infos.ErrorCount, n)
			}
		})
	}
}

// TestValidateReplyShowsDefinition: each of the definition's keys is in
// the reply with its definition, the value given (a password hidden) or
// its default, and its recommended values.
func TestValidateReplyShowsDefinition(t *testing.T) {
	props := baseProps("srv")
	props["connector.class"], props["database.password"] = ConnectorClass, " s3cret "
	infos := validateReply(t, props)
	byName := map[string]connect.ConfigInfo{}
	for _, ci := range infos.Configs {
		byName[ci.Value.Name] = ci
	}
	value := func(name string) string {
		if v := byName[name].Value.Value; v != nil {
			return *v
		}
		return "<null>"
	}
	for name, want := range map[string]string{
		"database.password": "[hidden]", "database.user": "debezium", "database.port": "3306",
		"snapshot.mode": "initial", "topic.transaction": "transaction", "database.include.list": "",
	} {
		if got := value(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	pw := byName["database.password"].Definition
	if pw.Type != "PASSWORD" || pw.Group == nil || *pw.Group != "Connection" || pw.Required {
		t.Errorf("database.password definition %+v", pw)
	}
	if got := byName["binary.handling.mode"].Value.RecommendedValues; !reflect.DeepEqual(got, []string{"bytes", "base64", "base64-url-safe", "hex"}) {
		t.Errorf("binary.handling.mode recommended %q", got)
	}
	for _, k := range configDef() {
		if _, ok := byName[k.Name]; !ok {
			t.Errorf("%s is not in the reply", k.Name)
		}
	}
}
