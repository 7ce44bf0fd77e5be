// Package plugins lists the connectors built into Tributary: what Kafka
// Connect finds by scanning its plugin path, fixed at build time here.
package plugins

import (
	"github.com/tributary-data/tributary/internal/cdc/debezium"
	"github.com/tributary-data/tributary/internal/cdc/maxwell"
	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/datagen"
	"github.com/tributary-data/tributary/internal/connect/filestream"
)

// Registry returns the built-in connectors, reporting version for each.
func Registry(version string) *connect.Registry {
	return connect.NewRegistry(version, map[string]func() connect.Connector{
		filestream.SourceClass:  func() connect.Connector { return filestream.NewSource() },
		filestream.SinkClass:    func() connect.Connector { return filestream.NewSink() },
		datagen.ConnectorClass:  func() connect.Connector { return datagen.NewConnector() },
		debezium.ConnectorClass: func() connect.Connector { return debezium.NewConnector() },
		maxwell.ConnectorClass:  func() connect.Connector { return maxwell.NewConnector() },
	})
}
