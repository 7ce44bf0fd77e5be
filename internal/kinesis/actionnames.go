package kinesis

import (
	"maps"
	"slices"
)

// ActionNames lists every action the service answers, streaming ones
// (SubscribeToShard) included, sorted: tests that must cover every
// action, such as the authentication tests, iterate over it so that a new
// action cannot slip past them.
func ActionNames() []string {
	names := slices.Collect(maps.Keys(actions))
	for n := range streamingActions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
