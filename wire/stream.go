package wire

import (
	"bufio"
	"errors"
	"io"
	"unicode/utf8"
)

// Reader reads PMI messages from a byte stream. TCP may split a message over
// several segments or join several in one; Reader frames by the length
// prefix, so neither matters.
type Reader struct {
	r   *bufio.Reader
	buf [PMIMax]byte
	off int64 // stream offset of the next message, for errors
}

// NewReader returns a Reader that reads from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 512)}
}

// ReadFrame reads the next message into f. At a clean end of stream (no
// byte of a next message) it returns io.EOF; a stream that ends inside a
// message gives an error matching ErrTruncated and io.ErrUnexpectedEOF.
func (r *Reader) ReadFrame(f *PMIFrame) error {
	frame, err := r.next()
	if err != nil {
		return err
	}
	return r.done(frame, f.Decode(frame))
}

// ReadMessage reads the next message; see ReadFrame.
func (r *Reader) ReadMessage() (Message, error) {
	frame, err := r.next()
	if err != nil {
		return nil, err
	}
	m, err := DecodePMI(frame)
	return m, r.done(frame, err)
}

// done counts a message read, placing its error, if any, in the stream.
func (r *Reader) done(frame []byte, err error) error {
	err = r.offset(err)
	r.off += int64(len(frame))
	return err
}

// next returns the bytes of the next whole message, valid until the next call.
func (r *Reader) next() ([]byte, error) {
	hdr, err := r.r.Peek(PMIHeaderLen)
	if err != nil {
		if len(hdr) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		return nil, r.truncated(err, len(hdr), "header")
	}
	n, err := pmiFrameLen(string(hdr))
	if err != nil {
		return nil, r.offset(err)
	}
	got, err := io.ReadFull(r.r, r.buf[:n])
	if err != nil {
		return nil, r.truncated(err, got, "info")
	}
	return r.buf[:n], nil
}

// truncated reports a stream that ended (or failed) inside a message.
func (r *Reader) truncated(err error, have int, field string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &streamError{&Error{Proto: "PMI", Field: field, Offset: int(r.off) + have,
			Reason: "stream ended inside a message", Err: ErrTruncated}}
	}
	return err
}

// offset makes a message error's offset count from the start of the stream.
func (r *Reader) offset(err error) error {
	if err == nil {
		return nil // before errors.As, whose target would escape on every call
	}
	var e *Error
	if errors.As(err, &e) {
		e.Offset += int(r.off)
	}
	return err
}

// streamError is an *Error (ErrTruncated) that is also io.ErrUnexpectedEOF.
type streamError struct{ err *Error }

func (e *streamError) Error() string   { return e.err.Error() }
func (e *streamError) Unwrap() []error { return []error{e.err, io.ErrUnexpectedEOF} }

// Writer writes PMI messages to a stream, one Write per message.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, PMIMax)}
}

// WriteMessage encodes m and writes it; an invalid m writes nothing.
func (w *Writer) WriteMessage(m Message) error {
	b, err := m.Append(w.buf[:0])
	if err != nil {
		return err
	}
	_, err = w.w.Write(b)
	return err
}

// WriteLine sends text as one or more L messages (see SplitLine).
func (w *Writer) WriteLine(text string) error {
	for _, l := range SplitLine(text) {
		if err := w.WriteMessage(&l); err != nil {
			return err
		}
	}
	return nil
}

// SplitLine cuts text into L messages of at most MaxLineLen bytes each,
// never inside a UTF-8 character, and at every line break ("\n" or "\r\n",
// which L cannot carry). An empty text gives one empty line. Bytes that are
// not UTF-8 count as one character each.
func SplitLine(text string) []Line {
	var out []Line
	for {
		brk, next := lineBreak(text)
		out = splitChunk(out, text[:brk])
		if next < 0 {
			return out
		}
		text = text[next:]
	}
}

// lineBreak finds the first line break: the end of the line and where the
// next begins (-1: no break).
func lineBreak(s string) (end, next int) {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\n':
			return i, i + 1
		case s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n':
			return i, i + 2
		case s[i] == '\r':
			return i, i + 1
		}
	}
	return len(s), -1
}

func splitChunk(out []Line, s string) []Line {
	for len(s) > MaxLineLen {
		// Back up to the start of the character that straddles the limit;
		// continuation bytes with no start are not UTF-8: cut anywhere.
		cut := MaxLineLen
		for back := 1; back < utf8.UTFMax && !utf8.RuneStart(s[cut]); back++ {
			cut--
		}
		if !utf8.RuneStart(s[cut]) {
			cut = MaxLineLen
		}
		out = append(out, Line{Text: s[:cut]})
		s = s[cut:]
	}
	return append(out, Line{Text: s})
}
