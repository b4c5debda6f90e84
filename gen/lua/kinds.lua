local kinds = {}
local function kind(name, doc, k) k.name, k.doc = name, doc; kinds[name] = k end
