package harness

import (
	"io"
	"sync"
)

// consoleHistory is how much console output Board.Console keeps (tuning).
const consoleHistory = 64 << 10

// consoleSink takes the console output the link goroutine decodes and
// hands it to the captures of the moment, keeping the most recent part.
type consoleSink struct {
	mu      sync.Mutex
	next    int
	writers map[int]io.Writer
	hist    []byte
}

func (c *consoleSink) add(w io.Writer) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writers == nil {
		c.writers = map[int]io.Writer{}
	}
	c.next++
	c.writers[c.next] = w
	return c.next
}

func (c *consoleSink) remove(id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.writers, id)
}

func (c *consoleSink) write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hist = append(c.hist, p...)
	if over := len(c.hist) - consoleHistory; over > 0 {
		c.hist = append(c.hist[:0], c.hist[over:]...)
	}
	for _, w := range c.writers {
		w.Write(p) // a failing capture must not stop the link
	}
}

func (c *consoleSink) history() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.hist...)
}
