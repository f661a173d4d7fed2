package lograte

import "time"

// SetClockForTest replaces the Logger's clock.
func (l *Logger) SetClockForTest(now func() time.Time) { l.now = now }
