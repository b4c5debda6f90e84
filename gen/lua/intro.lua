--
-- A Wireshark dissector of the protocols of the spec, for Wireshark's Lua
-- API as of Wireshark 4.0. Use it with
--
--   tshark -X lua_script:dissector/mi.lua -r FILE -Y 'plumi.type == "PL"'
--
-- or install it as a personal plugin (make wireshark copies it to
-- ~/.local/lib/wireshark/plugins/). A datagram protocol is registered on its
-- port, with a heuristic that claims a datagram on any other port only if it
-- decodes; a stream protocol has a heuristic that claims a connection
-- starting with one of its opening messages, and a "Decode As" entry, and it
-- reassembles messages across TCP segments. Every field is a filterable
-- ProtoField named PROTOCOL.FIELD (plumi.from, plumi.from.user, pmi.nick);
-- what the spec refuses is shown as malformed with an expert note naming the
-- error class, the field path and the offset, as the wire package does.
--
-- The file is a fixed runtime (the bases' decoders, then what reads the
-- tables) around tables made from the spec: its kinds, its protocols and
-- their messages with their decode plans. The runtime does what the model's
-- decoder (gen/spec/decode.go) does, move for move: offsets count from 0
-- as there, and a refusal is werr(class, field, offset, reason).

-- Wireshark gives every script an environment of its own: what scripts
-- share, they share through _G.
if rawget(_G, "mi_dissector") then
  io.stderr:write("mi.lua: the MI dissector is already loaded (" .. tostring(_G.mi_dissector.source) .. "); this copy is ignored\n")
  return
end
