package cdc

import "fmt"

// String renders a position for logs and error messages:
// "file:pos (GTIDs set)".
func (p Position) String() string {
	s := fmt.Sprintf("%s:%d", p.File, p.Pos)
	if p.GTIDSet != "" {
		s += " (GTIDs " + p.GTIDSet + ")"
	}
	return s
}
