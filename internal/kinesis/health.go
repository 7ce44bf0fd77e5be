package kinesis

// StreamCount is the number of streams of every account and region,
// whatever their status, for the server's health report.
func (s *Service) StreamCount() int { return s.eng.Count() }
