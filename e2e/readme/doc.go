// Package readme holds the test that keeps README.md's commands true: it
// runs every command block the README marks to run, as printed, in a copy
// of the checkout, the way a reader of a fresh clone types them into a
// terminal (readme_test.go says how). It has no code of its own.
package readme
