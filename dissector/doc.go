// Package dissector holds the Wireshark dissector of the MI protocols,
// mi.lua, which gen writes from spec/mi.spec (go generate ./...; do not edit
// it), and its tests: tshark runs it over captures and every message it
// shows is compared with what package wire decodes from the same bytes.
//
// Use it with tshark -X lua_script:dissector/mi.lua -r FILE, or install it
// as a personal Wireshark plugin with make wireshark.
package dissector
