package registry

import (
	"cmp"
	"context"
	"slices"
	"sync"
)

// maxAcceptBatch bounds how many counters one commit carries.
const maxAcceptBatch = 256

// committer is group commit for AcceptCounter: one goroutine takes every
// request waiting when it is free and commits them together, so that N
// concurrent handshakes cost one durable commit (one WAL sync) instead of
// N. A lone request is committed at once: nothing waits for a batch to fill.
// Each request remains its own conditional UPDATE, run in arrival order per
// device, so batching changes no outcome.
type committer struct {
	b    backend
	reqs chan *acceptReq // unbuffered: a request is either taken or refused
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

type acceptReq struct {
	ctx  context.Context
	args []any // acceptCounterSQL's arguments; args[0] is the device ID
	done chan acceptResult
}

type acceptResult struct {
	affected int64
	err      error
}

func startCommitter(b backend) *committer {
	c := &committer{b: b, reqs: make(chan *acceptReq), stop: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

// accept commits one run of acceptCounterSQL and returns the rows it changed.
func (c *committer) accept(ctx context.Context, args []any) (int64, error) {
	req := &acceptReq{ctx: ctx, args: args, done: make(chan acceptResult, 1)}
	select {
	case c.reqs <- req:
	case <-c.stop:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// Once taken, a request is answered. A caller that stops waiting has not
	// learned the outcome; its device retries with a greater counter.
	select {
	case r := <-req.done:
		return r.affected, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (c *committer) run() {
	defer c.wg.Done()
	batch := make([]*acceptReq, 0, maxAcceptBatch)
	for {
		select {
		case <-c.stop:
			return
		case r := <-c.reqs:
			batch = append(batch[:0], r)
		}
	fill:
		for len(batch) < maxAcceptBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.commit(batch)
	}
}

// commit runs a batch in one transaction and answers every request in it.
func (c *committer) commit(batch []*acceptReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- acceptResult{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// Rows are locked in ID order, as the last-seen writer does, so that
	// gateways sharing a PostgreSQL database never deadlock on each other.
	// The sort is stable: requests for one device keep their arrival order.
	slices.SortStableFunc(live, func(a, b *acceptReq) int {
		return cmp.Compare(a.args[0].(string), b.args[0].(string))
	})
	args := make([][]any, len(live))
	for i, r := range live {
		args[i] = r.args
	}
	ctx, cancel := context.WithTimeout(context.Background(), backgroundTimeout)
	affected, err := c.b.execBatch(ctx, acceptCounterSQL, args)
	cancel()
	for i, r := range live {
		if err != nil {
			r.done <- acceptResult{err: err}
			continue
		}
		r.done <- acceptResult{affected: affected[i]}
	}
}

// close stops taking requests and waits for the batch in flight.
func (c *committer) close() {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
}
