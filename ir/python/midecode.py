#!/usr/bin/env python3
"""A decoder of the MI protocols written against the spec IR alone.

It reads the JSON that `go run ./gen -spec spec/mi.spec -ir` prints and
decodes messages and kind values as docs/ir.md ("Decoding") describes, with
nothing of the protocols written here: framing, plans and each kind's rules
all come from the IR. Standard library only, Python 3.9 or later.

    midecode.py IR.json check     every example and invalid input of the IR
    midecode.py IR.json serve     one query per stdin line, one answer each:
        m PROTO HEX  ->  ok TAG NAME=HEX ...   or   err CLASS FIELD OFFSET
        k KIND HEX   ->  ok KIND=HEX           or   err CLASS FIELD OFFSET

Exit status: 0 done (check: every input agreed), 1 disagreements, 2 usage.
"""

import json
import sys


class WireError(Exception):
    """A refusal: the error class, the field (dotted inside structs), the offset."""

    def __init__(self, cls, field, offset):
        super().__init__(f"{cls} in field {field!r} at offset {offset}")
        self.cls, self.field, self.offset = cls, field, offset

    def within(self, name):
        self.field = name if self.field == "" else name + "." + self.field
        return self


def raw(obj, key):
    """The bytes of a byte string of the IR (docs/ir.md, "Byte strings")."""
    h = obj.get(key + "_hex")
    return bytes.fromhex(h) if h is not None else obj[key].encode()


def in_ranges(ranges, v):
    return any(lo <= v <= hi for lo, hi in ranges)


class Model:
    def __init__(self, ir):
        if ir["version"] != 1:
            raise ValueError(f"IR version {ir['version']}; this decoder reads version 1")
        self.ir = ir
        self.kinds = {k["name"]: k for k in ir["kinds"]}
        self.protos = {p["name"]: p for p in ir["protocols"]}
        self.messages = {(m["proto"], raw_tag(m)): m for m in ir["messages"]}
        for k in ir["kinds"]:
            for rule in k["rules"]:
                if rule["check"] not in RULES:
                    raise ValueError(f"kind {k['name']}: rule {rule['check']!r} is not one this decoder knows")
            for op in k["plan"]:
                op["lit_bytes"] = raw(op, "lit")
        for m in ir["messages"]:
            for part in ("head", "then", "else"):
                for op in m["plan"][part]:
                    op["lit_bytes"] = raw(op, "lit")

    # Messages: frame_order, then the plan.

    def decode(self, proto, b):
        p = self.protos[proto]
        st = {"p": p, "b": b, "m": None, "h": p["tag_len"] + p["length_digits"]}
        for step in self.ir["frame_order"]:
            self.frame_step(step, st)
        return st["m"], st["vals"]

    def frame_step(self, step, st):
        p, b, check = st["p"], st["b"], step["check"]
        framed = p["length_digits"] > 0
        if check == "datagram_max":
            if not framed and len(b) > p["max"]:
                raise WireError(step["class"], step["field"], p["max"])
        elif check == "tag_present":
            if len(b) < p["tag_len"]:
                raise WireError(step["class"], step["field"], len(b))
        elif check == "tag_known":
            st["m"] = self.messages.get((p["name"], b[: p["tag_len"]]))
            if st["m"] is None:
                raise WireError(step["class"], step["field"], 0)
        elif check == "length_present":
            if framed and len(b) < st["h"]:
                raise WireError(step["class"], step["field"], len(b))
        elif check == "length_digits":
            if framed:
                info = 0
                for i in range(p["tag_len"], st["h"]):
                    if not 0x30 <= b[i] <= 0x39:
                        raise WireError(step["class"], step["field"], i)
                    info = info * 10 + b[i] - 0x30
                st["info"] = info
        elif check == "length_short":
            if framed and len(b) < st["h"] + st["info"]:
                raise WireError(step["class"], st["m"]["plan"]["first"], len(b))
        elif check == "length_long":
            if framed and len(b) > st["h"] + st["info"]:
                raise WireError(step["class"], st["m"]["plan"]["last"], st["h"] + st["info"])
        elif check == "plan":
            self.run_plan(st, framed)
        elif check == "end":
            if st["off"] != len(b):
                raise WireError(step["class"], st["last"], st["off"])
        else:
            raise ValueError(f"frame step {check!r} is not one this decoder knows")

    def run_plan(self, st, framed):
        plan, b = st["m"]["plan"], st["b"]
        r = Reader(self, b, st["h"], framed)
        r.run(plan["head"], len(b))
        st["last"] = plan["last_then"]
        cond = plan["if"]
        if cond["field"] != "":
            rest, st["last"] = plan["else"], plan["last_else"]
            if r.values.get(cond["field"]) == cond["value"]:
                rest, st["last"] = plan["then"], plan["last_then"]
            r.run(rest, len(b))
        st["off"], st["vals"] = r.off, r.spans

    # Kinds: a whole value, as a field named after the kind.

    def parse_kind(self, name, b):
        try:
            return self.field(self.kinds[name], b, 0, len(b))
        except WireError as e:
            raise e.within(name)

    def field(self, k, s, off, limit):
        """Runs k's rules over s[off:limit]; returns the value a condition reads."""
        v = s[off:limit]
        value = None
        for rule in k["rules"]:
            value = RULES[rule["check"]](self, k, rule, s, off, limit, v, value)
        return value


class Reader:
    """Runs ops over s (docs/ir.md, op_order); framed: a length prefix bounds s."""

    def __init__(self, model, s, off, framed):
        self.model, self.s, self.off, self.framed = model, s, off, framed
        self.values, self.spans = {}, []

    def run(self, ops, limit):
        for op in self.model.ir["op_order"]:
            if op["check"] not in OP_CHECKS:
                raise ValueError(f"op step {op['check']!r} is not one this decoder knows")
        for op in ops:
            if op["field"] == "":
                self.literal(op, limit)
            else:
                self.field(op, limit)

    def literal(self, op, limit):
        lit = op["lit_bytes"]
        if not op["found"] and not self.s[self.off : limit].startswith(lit):
            raise WireError("bad_separator", op["after"], self.off)
        self.off += len(lit)

    def field(self, op, limit):
        k, s, name = self.model.kinds[op["kind"]], self.s, op["field"]
        if k["width"] > 0:
            if self.off + k["width"] > limit:
                raise WireError("truncated", name, self.off)
            end = self.off + k["width"]
        elif not self.framed and self.off == len(s):
            raise WireError("truncated", name, self.off)
        elif op["term"] != 0:
            i = s.find(bytes([op["term"]]), self.off, limit)
            if i < 0:
                raise WireError("bad_separator", name, limit)
            end = i
        else:
            end = limit
        try:
            self.values[name] = self.model.field(k, s, self.off, end)
        except WireError as e:
            raise e.within(name)
        self.spans.append((name, s[self.off : end]))
        self.off = end


OP_CHECKS = {"literal", "fixed_width", "field_present", "terminator", "rules"}


# Rules: one function per check word of docs/ir.md ("Rules"). Each gets the
# kind, the rule, the whole input s, the field's span [off, limit) and its
# bytes v, and the value so far; it returns the value.

def fail(rule, s, off, at):
    raise WireError(rule["class"], "", at)


def r_min_len(m, k, rule, s, off, limit, v, val):
    if len(v) < rule["n"]:
        fail(rule, s, off, off)
    return val


def r_max_len(m, k, rule, s, off, limit, v, val):
    if len(v) > rule["n"]:
        fail(rule, s, off, off)
    return val


def r_bytes(m, k, rule, s, off, limit, v, val):
    for i, c in enumerate(v):
        if not in_ranges(rule["set"], c):
            fail(rule, s, off, off + i)
    return val


def r_utf8(m, k, rule, s, off, limit, v, val):
    try:
        v.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(rule, s, off, off + e.start)
    return val


def r_deny_runes(m, k, rule, s, off, limit, v, val):
    i = 0
    for ch in v.decode("utf-8"):
        if in_ranges(rule["set"], ord(ch)):
            fail(rule, s, off, off + i)
        i += len(ch.encode("utf-8"))
    return val


def r_hostname(m, k, rule, s, off, limit, v, val):
    edge = raw(k, "edge")
    i = 0
    for label in v.split(b"."):
        if len(label) == 0 or len(label) > rule["label"] or label[0] in edge or label[-1] in edge:
            fail(rule, s, off, off + i)
        i += len(label) + 1
    return val


def scan_decimal(s, off, limit, top):
    """A canonical decimal of s[off:] up to the first non-digit: (n, next) or None."""
    n, p = 0, off
    while p < limit and 0x30 <= s[p] <= 0x39:
        n = n * 10 + s[p] - 0x30
        if n > top:
            return None
        p += 1
    if p == off or (s[off] == 0x30 and p - off > 1):
        return None
    return n, p


def r_decimal(m, k, rule, s, off, limit, v, val):
    got = scan_decimal(s, off, limit, rule["n"])
    if got is None or got[1] != limit:
        fail(rule, s, off, off)
    return got[0]


def r_min(m, k, rule, s, off, limit, v, val):
    if val < rule["n"]:
        fail(rule, s, off, off)
    return val


def r_dotted_quad(m, k, rule, s, off, limit, v, val):
    p = off
    for i in range(4):
        if i > 0:
            if p >= limit or s[p] != 0x2E:
                fail(rule, s, off, p)
            p += 1
        got = scan_decimal(s, p, limit, 255)
        if got is None:
            fail(rule, s, off, p)
        p = got[1]
    if p != limit:
        fail(rule, s, off, p)
    return v


def r_code(m, k, rule, s, off, limit, v, val):
    d = s[off] - 0x30
    if d not in rule["codes"]:
        fail(rule, s, off, off)
    return d


def r_word(m, k, rule, s, off, limit, v, val):
    if v not in [raw(w, "word") for w in k["words"]]:
        fail(rule, s, off, off)
    return v


def r_plan(m, k, rule, s, off, limit, v, val):
    r = Reader(m, s, off, False)
    r.run(k["plan"], limit)
    return r


def r_end(m, k, rule, s, off, limit, v, val):
    if val.off != limit:
        last = [op["field"] for op in k["plan"] if op["field"] != ""]
        raise WireError(rule["class"], last[-1] if last else k["name"], val.off)
    return v


RULES = {
    "min_len": r_min_len,
    "max_len": r_max_len,
    "bytes": r_bytes,
    "utf8": r_utf8,
    "deny_runes": r_deny_runes,
    "hostname": r_hostname,
    "decimal": r_decimal,
    "min": r_min,
    "dotted_quad": r_dotted_quad,
    "code": r_code,
    "word": r_word,
    "plan": r_plan,
    "end": r_end,
}


def raw_tag(m):
    return m["tag"].encode()


# Check mode: every example must decode, every invalid input must be refused
# with its class, field and offset.

def check(model):
    bad = 0

    def report(where, what):
        nonlocal bad
        bad += 1
        print(f"{model.ir['file']}:{where['pos']['line']}:{where['pos']['col']}: {what}")

    def refusal(x, run):
        try:
            run(raw(x, "input"))
        except WireError as e:
            got = (e.cls, e.field, e.offset)
            want = (x["error"], x["field"], x["offset"])
            if got != want:
                report(x, f"{raw(x, 'input')!r}: refused with {got}, want {want}")
            return
        report(x, f"{raw(x, 'input')!r}: accepted, want {x['error']} in {x['field']!r} at {x['offset']}")

    def accepts(x, run):
        try:
            run(raw(x, "input"))
        except WireError as e:
            report(x, f"{raw(x, 'input')!r}: refused: {e}")

    for k in model.ir["kinds"]:
        for x in k["examples"]:
            accepts(x, lambda b, k=k: model.parse_kind(k["name"], b))
        for x in k["invalid"]:
            refusal(x, lambda b, k=k: model.parse_kind(k["name"], b))
    for msg in model.ir["messages"]:
        for x in msg["examples"]:
            accepts(x, lambda b, msg=msg: model.decode(msg["proto"], b))
        for x in msg["invalid"]:
            refusal(x, lambda b, msg=msg: model.decode(msg["proto"], b))
    return bad


def answer(model, line):
    what, name, hx = (line.split(" ") + [""])[:3]
    b = bytes.fromhex(hx)
    try:
        if what == "m":
            msg, spans = model.decode(name, b)
            return "ok " + " ".join([msg["tag"]] + [f"{n}={v.hex()}" for n, v in spans])
        model.parse_kind(name, b)
        return f"ok {name}={b.hex()}"
    except WireError as e:
        return f"err {e.cls} {e.field} {e.offset}"


def main(argv):
    if len(argv) != 3 or argv[2] not in ("check", "serve"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        model = Model(json.load(f))
    if argv[2] == "check":
        bad = check(model)
        print(f"{bad} disagreements", file=sys.stderr)
        return 1 if bad else 0
    for line in sys.stdin:
        sys.stdout.write(answer(model, line.rstrip("\n")) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
