package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tributary-data/tributary/internal/logging"
)

// maxwellLogger is the daemon's one logger, in the --log-format asked
// for, which libraries logging through Go's global loggers share.
func maxwellLogger(stderr io.Writer, format string, lv *slog.LevelVar) (*slog.Logger, error) {
	log, err := logging.New(stderr, format, lv)
	if err != nil {
		return nil, usageError{fmt.Errorf("maxwell: %w", err)}
	}
	logging.RouteLibraries(log)
	return log, nil
}

// logFormatArg takes Tributary's --log-format (or --log_format, in
// Maxwell's spelling) out of Maxwell's arguments, and turns --log-level
// into Maxwell's --log_level, so that maxwell takes the logging flags
// every long-running command takes.
func logFormatArg(args []string) (string, []string, error) {
	format := logging.Text
	var rest []string
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") {
			rest = append(rest, args[i])
			continue
		}
		switch name {
		case "log-format", "log_format":
			if !hasValue {
				if i+1 >= len(args) {
					return "", nil, usageError{fmt.Errorf("maxwell: option %s requires a value", args[i])}
				}
				i++
				value = args[i]
			}
			format = value
		case "log-level":
			if hasValue {
				rest = append(rest, "--log_level="+value)
			} else {
				rest = append(rest, "--log_level")
			}
		default:
			rest = append(rest, args[i])
		}
	}
	return format, rest, nil
}
