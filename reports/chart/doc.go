// Package chart draws the report's charts as inline SVG: grouped bars
// (vertical or horizontal, with range whiskers and per-category marks such
// as a limit) and lines (on a numeric or a categorical x axis, with an
// optional second y axis), on linear or logarithmic scales.
//
// The output is a self-contained <svg> element for an HTML page: no script,
// no external reference, no font file. Every chart is accessible: role
// "img" with a <title> and a <desc> (a sentence naming the axes, their
// scales and the series), axis labels, a legend, and a <title> on every bar
// and point that a browser shows on hover and a screen reader reads. Text
// from the caller (titles, category and series names) is escaped; values
// that cannot be drawn (NaN, infinities, and zero or negative values on a
// logarithmic axis) are left out and counted in the description.
//
// Use:
//
//	svg, err := chart.Bars{
//		ID: "chips", Title: "Cycles per chip",
//		Categories: []string{"x25519", "ecdh_p256"},
//		Series: []chart.Series{{Name: "ATmega328P", Values: []float64{22.9e6, 293e6}}},
//		Value:  chart.Axis{Label: "cycles (log)", Log: true},
//	}.SVG()
//	if errors.Is(err, chart.ErrNoData) { ... say so instead ... }
//
// Colours come from Palette unless a series names its own. The drawing is
// sized in a fixed view box and scales to the width of its container.
package chart
