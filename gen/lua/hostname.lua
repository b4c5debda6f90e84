-- hostname_decode is text_decode: the kind of a host name has label_max,
-- edge and edge_text, and a dot of class DOT, so text_fault checks its
-- labels in the same pass as its bytes.
local hostname_decode = text_decode
