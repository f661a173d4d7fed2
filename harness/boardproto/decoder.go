package boardproto

// Item is what a Decoder found in the byte stream: a frame, or a run of
// console bytes (anything that is not a frame).
type Item struct {
	Frame   *Frame
	Console []byte
	// Err is set on a console run that looked like a frame until it failed
	// (COBS, length or checksum); Console then holds its raw bytes.
	Err error
}

// DecoderStats counts what a Decoder has seen.
type DecoderStats struct {
	Frames       uint64 // frames decoded
	BadFrames    uint64 // chunks that looked like frames and failed to decode
	Oversize     uint64 // chunks that looked like frames and grew past MaxEncodedLen
	ConsoleBytes uint64 // bytes delivered as console output
}

// Decoder splits a serial byte stream into frames and console output.
//
// Every byte between two delimiters is a chunk. A chunk whose first two
// bytes cannot begin a frame (a COBS code byte of at least 2, then a version
// byte of 1 to 7) is console output and is delivered as it arrives; any other
// chunk is held until its delimiter and decoded, and delivered as console
// output when it fails. A chunk longer than MaxEncodedLen is never a frame.
// So the decoder resynchronises at the first delimiter after garbage, a boot
// banner or a frame cut short by a reset.
//
// The zero Decoder is ready to use. A Decoder is not safe for concurrent use.
type Decoder struct {
	chunk   []byte // a possible frame since the last delimiter
	console bool   // the current chunk is console output
	items   []Item
	run     []byte // console bytes not yet delivered
	Stats   DecoderStats
}

// maxVersionByte bounds the version byte a chunk may start with to still be
// considered a frame; text rarely has a control byte in second place.
const maxVersionByte = 7

// Feed consumes p and returns the items completed by it. Console runs are
// delivered as soon as they are known not to be frames; consecutive console
// bytes are merged into one item. The returned slices are the caller's.
func (d *Decoder) Feed(p []byte) []Item {
	d.items = nil
	for _, b := range p {
		if b == Delimiter {
			d.endChunk()
			continue
		}
		if d.console {
			d.run = append(d.run, b)
			continue
		}
		d.chunk = append(d.chunk, b)
		if !couldBeFrame(d.chunk) {
			d.toConsole()
		} else if len(d.chunk) > MaxEncodedLen {
			d.Stats.Oversize++
			d.toConsole()
		}
	}
	d.flushRun()
	return d.items
}

// Pending returns the number of bytes held as a possible frame.
func (d *Decoder) Pending() int { return len(d.chunk) }

// Reset drops a held partial frame, delivering nothing: after a port is
// reopened, a partial frame of the old link can never complete.
func (d *Decoder) Reset() {
	d.chunk = d.chunk[:0]
	d.console = false
}

func couldBeFrame(chunk []byte) bool {
	if chunk[0] < 2 {
		return false // the first body byte, the version, would be zero
	}
	return len(chunk) < 2 || (chunk[1] >= 1 && chunk[1] <= maxVersionByte)
}

func (d *Decoder) toConsole() {
	d.run = append(d.run, d.chunk...)
	d.chunk = d.chunk[:0]
	d.console = true
}

func (d *Decoder) endChunk() {
	d.console = false
	if len(d.chunk) == 0 {
		return
	}
	chunk := d.chunk
	d.chunk = d.chunk[:0]
	f, err := DecodeFrame(chunk)
	if err != nil {
		d.Stats.BadFrames++
		d.flushRun()
		d.Stats.ConsoleBytes += uint64(len(chunk))
		d.items = append(d.items, Item{Console: append([]byte(nil), chunk...), Err: err})
		return
	}
	d.flushRun()
	d.Stats.Frames++
	d.items = append(d.items, Item{Frame: &f})
}

func (d *Decoder) flushRun() {
	if len(d.run) == 0 {
		return
	}
	d.Stats.ConsoleBytes += uint64(len(d.run))
	d.items = append(d.items, Item{Console: d.run})
	d.run = nil
}
