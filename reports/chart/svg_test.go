package chart_test

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"

	. "github.com/onsi/gomega"
)

// node is an element of a parsed SVG document.
type node struct {
	name     string
	attrs    map[string]string
	text     string
	children []*node
}

// parse reads an SVG document strictly as XML: a chart must be well formed.
func parse(svg string) *node {
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	root := &node{name: "#document"}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		Expect(err).NotTo(HaveOccurred())
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(t)
		}
	}
	Expect(stack).To(HaveLen(1))
	Expect(root.children).To(HaveLen(1))
	return root.children[0]
}

// all returns the elements below n named name whose class is class ("" for
// any class), in document order.
func (n *node) all(name, class string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name == name && (class == "" || c.attrs["class"] == class) {
			out = append(out, c)
		}
		out = append(out, c.all(name, class)...)
	}
	return out
}

// title is the text of n's <title> child.
func (n *node) title() string {
	for _, c := range n.children {
		if c.name == "title" {
			return c.text
		}
	}
	return ""
}

// texts is every text element's content below n.
func (n *node) texts() []string {
	var out []string
	for _, t := range n.all("text", "") {
		out = append(out, t.text)
	}
	return out
}

func (n *node) num(attr string) float64 {
	v, err := strconv.ParseFloat(n.attrs[attr], 64)
	Expect(err).NotTo(HaveOccurred(), "%s=%q", attr, n.attrs[attr])
	return v
}
