package debezium

import (
	"reflect"
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/connecttest"
)

// validateReply is the runtime's validate reply for props, as PUT
// /connector-plugins/MySqlConnector/config/validate gives it.
func validateReply(t *testing.T, props map[string]string) *connect.ConfigInfos {
	t.Helper()
	return connecttest.Reply(t, ConnectorClass, func() connect.Connector { return NewConnector() }, props)
}

// TestValidateReply: the validate endpoint's errors for Debezium
// configurations, each from the one definition or the connector's
// cross-key checks, each once; a password's value is hidden.
func TestValidateReply(t *testing.T) {
	cases := []connecttest.ValidateCase{
		{Name: "valid", Want: map[string][]string{}},
		{Name: "legacy server name", Set: map[string]string{"database.server.name": "old"}, Drop: []string{"topic.prefix"}, Want: map[string][]string{}},
		{Name: "no topic prefix", Drop: []string{"topic.prefix"}, Want: map[string][]string{
			"topic.prefix": {`Missing required configuration "topic.prefix" which has no default value.`}}},
		{Name: "blank hostname", Set: map[string]string{"database.hostname": " "}, Want: map[string][]string{
			"database.hostname": {`Missing required configuration "database.hostname" which has no default value.`}}},
		{Name: "blank values take defaults", Set: map[string]string{"database.port": "", "snapshot.mode": " ", "topic.heartbeat.prefix": ""}, Want: map[string][]string{
			"database.port": {"Invalid value  for configuration database.port: Not a number of type INT"}}},
		{Name: "port out of range", Set: map[string]string{"database.port": "0"}, Want: map[string][]string{
			"database.port": {"Invalid value 0 for configuration database.port: Value must be between 1 and 65535"}}},
		{Name: "server id too big", Set: map[string]string{"database.server.id": "4294967296"}, Want: map[string][]string{
			"database.server.id": {"Invalid value 4294967296 for configuration database.server.id: Value must be between 1 and 4294967295"}}},
		{Name: "bad topic prefix", Set: map[string]string{"topic.prefix": "a b"}, Want: map[string][]string{
			"topic.prefix": {"Invalid value a b for configuration topic.prefix: a b has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"}}},
		{Name: "recovery", Set: map[string]string{"snapshot.mode": "recovery"}, Want: map[string][]string{
			"snapshot.mode": {"Invalid value recovery for configuration snapshot.mode: snapshot.mode recovery rebuilds Debezium's schema history topic; Tributary has none (it reads table definitions from the binary log), so there is nothing to recover: remove the setting"}}},
		{Name: "bad regex and both lists", Set: map[string]string{"table.include.list": "a", "table.exclude.list": "b(", "database.include.list": "x", "database.exclude.list": "y"}, Want: map[string][]string{
			"table.exclude.list": {
				"Invalid value b( for configuration table.exclude.list: invalid regular expression \"b(\": error parsing regexp: missing closing ): `(?i)^(?:b()$`",
				`"table.include.list" is already specified`},
			"database.exclude.list": {`"database.include.list" is already specified`}}},
	}
	base := baseProps("srv")
	base["connector.class"], base["name"], base["database.password"] = ConnectorClass, "shop", "pw"
	connecttest.Validate(t, ConnectorClass, func() connect.Connector { return NewConnector() }, base, cases)
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
