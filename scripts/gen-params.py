#!/usr/bin/env python3
"""Generate pflint's parameter table, data/params.json.

Inputs:
  ../shared/data/postfix-params.tsv   every parameter documented in Postfix's postconf.proto
                                      (name, since, documented default, deprecation); see its
                                      notes file for provenance
  data/params-overrides.toml          facts that correct or complete it, each with a source:
                                      real default expressions by version, patch-level
                                      availability, removals, value types, host facts

Usage (from the repository root):
  scripts/gen-params.py [path/to/postfix-params.tsv] > data/params.json

The output has one parameter per line, sorted by name, so that changes diff well. A
parameter whose documented default is prose ("see postconf -d output", "normal: 3,
overload: 1", "Postfix >= 3.9: normalize", ...) must have its defaults in the overrides
file; the script stops with an error otherwise.
"""

import html
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TSV = ROOT.parent / "shared" / "data" / "postfix-params.tsv"
OVERRIDES = ROOT / "data" / "params-overrides.toml"

# Parameters whose values Postfix reads without $name expansion (CONFIG_RAW_TABLE in
# src/smtpd/smtpd.c, src/local/local.c and src/postscreen/postscreen.c).
RAW = {
    "command_execution_directory", "default_rbl_reply", "forward_path", "luser_relay",
    "mailbox_command", "postscreen_expansion_filter", "postscreen_reject_footer",
    "smtpd_expansion_filter", "smtpd_reject_footer",
}

# Names postconf lists as list-valued by convention: restriction and lookup lists.
LIST_SUFFIXES = ("_maps", "_restrictions", "_domains", "_networks", "_classes",
                 "_destinations", "_exceptions", "_clients", "_hosts", "_users",
                 "_interfaces", "_protocols", "_macros")


def fail(message):
    sys.exit(f"gen-params: {message}")


def version_key(v):
    return tuple(int(x) for x in v.split("."))


def parse_documented_default(name, text):
    """The default as a list of [from-version, value], or None when it is prose."""
    t = " ".join(html.unescape(text).split())
    if "postconf -d" in t or t in ("version dependent", "read-only"):
        return None
    if re.search(r"\bnormal: .*, overload: ", t):
        return None
    m = re.fullmatch(r"Postfix ≥ ([\d.]+): (.*?)[;,] Postfix < \1: (.*)", t)
    if m:
        new, old = m.group(2), m.group(3)
        new = "" if new == "empty" else new
        old = "" if old == "empty" else old
        return [["0", old], [m.group(1), new]]
    if t.startswith("Postfix ≥") or t.startswith("Postfix <"):
        return None
    return [["0", "" if t == "empty" else t]]


def parse_deprecation(text):
    """(deprecated, removed) from the TSV's deprecated column."""
    if not text:
        return None, None
    removed = None
    m = re.search(r"removed in ([\d.]+)", text)
    if m:
        removed = m.group(1)
    m = re.search(r"Postfix ([\d.]+)-([\d.]+) only", text)
    if m:
        major, minor = version_key(m.group(2))
        removed = f"{major}.{minor + 1}"
    m = re.search(r"Postfix ([\d.]+) only; ignored >= ([\d.]+)", text)
    if m:
        removed = m.group(2)
    m = re.fullmatch(r"([\d.]+): (.*)", text)
    if m:
        note = m.group(2)
        replacement = note if re.fullmatch(r"[a-z0-9_]+", note) else None
        return {"since": m.group(1), "replacement": replacement, "note": note}, removed
    m = re.fullmatch(r"obsolete(?: \(([^)]*)\))?(?:: (.*))?", text)
    if m:
        note = text
        replacement = m.group(2) if m.group(2) and re.fullmatch(r"[a-z0-9_]+", m.group(2)) else None
        return {"since": "0", "replacement": replacement, "note": note}, removed
    fail(f"cannot read deprecation text {text!r}")


def infer_type(name, defaults):
    latest = defaults[-1][1] if defaults else ""
    if latest in ("yes", "no"):
        return "bool"
    if re.fullmatch(r"\d+[smhdw]", latest) or re.fullmatch(r"\$\{stress\?\{\d+\}:\{\d+\}\}s", latest):
        return "time"
    if re.fullmatch(r"-?\d+", latest):
        return "int"
    if name.endswith(LIST_SUFFIXES):
        return "list"
    return "string"


def main():
    tsv_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_TSV
    rows = tsv_path.read_text(encoding="utf-8").splitlines()
    header = rows[0].split("\t")
    if header[:4] != ["name", "since", "default", "deprecated"]:
        fail(f"unexpected TSV header {header}")
    overrides = tomllib.loads(OVERRIDES.read_text(encoding="utf-8"))
    param_overrides = overrides.get("param", {})
    allowed_keys = {"defaults", "since", "removed", "type", "values", "host", "legacy",
                    "readonly", "deprecated", "source", "template", "ignored",
                    "service_defined"}
    for name, o in param_overrides.items():
        unknown = set(o) - allowed_keys
        if unknown:
            fail(f"{name}: unknown override keys {sorted(unknown)}")
        if "source" not in o:
            fail(f"{name}: override without a source")

    params = {}
    for line in rows[1:]:
        fields = line.split("\t")
        fields += [""] * (4 - len(fields))
        name, since, default, deprecated = fields[:4]
        params[name] = {"since": since, "default": default, "deprecated": deprecated}
    for name, o in param_overrides.items():
        if name not in params:
            if "defaults" not in o:
                fail(f"{name}: not documented, so the override must give its defaults")
            params[name] = {"since": "", "default": "", "deprecated": ""}

    out = []
    for name in sorted(params):
        p = params[name]
        o = param_overrides.get(name, {})
        if o.get("service_defined"):
            # postconf knows it only from a master.cf service (postconf_service.c), as
            # every <service>_destination_concurrency_limit: the model registers it there.
            continue
        entry = {"name": name}
        if "since" in o:
            entry["since"] = o["since"]
        else:
            entry["since"] = [p["since"]] if p["since"] else []
        deprecated, removed = parse_deprecation(p["deprecated"])
        if "deprecated" in o:
            deprecated = o["deprecated"]
        removed = o.get("removed", removed)
        if deprecated:
            entry["deprecated"] = deprecated
        if removed:
            entry["removed"] = removed
        if o.get("template") or (name.startswith("transport_") and name not in
                                 ("transport_maps", "transport_retry_time")):
            entry["template"] = True
        if "defaults" in o:
            defaults = o["defaults"]
        else:
            defaults = parse_documented_default(name, p["default"])
            if defaults is None:
                fail(f"{name}: documented default {p['default']!r} is not a value; "
                     f"give its defaults in {OVERRIDES.name}")
        for from_version, _ in defaults:
            if from_version != "0":
                version_key(from_version)
        entry["defaults"] = defaults
        entry["type"] = o.get("type") or infer_type(name, defaults)
        if "values" in o:
            entry["values"] = o["values"]
        flags = []
        if name in RAW:
            flags.append("raw")
        if o.get("readonly"):
            flags.append("readonly")
        if flags:
            entry["flags"] = flags
        if "legacy" in o:
            entry["legacy"] = o["legacy"]
        if "ignored" in o:
            version_key(o["ignored"])
            entry["ignored"] = o["ignored"]
        if "host" in o:
            entry["host"] = o["host"]
        out.append(entry)

    meta = overrides.get("meta", {})
    print("{")
    print(f'  "source": {json.dumps("generated by scripts/gen-params.py from postfix-params.tsv and data/params-overrides.toml; do not edit")},')
    print(f'  "latest_stable": {json.dumps(meta["latest_stable"])},')
    print(f'  "releases": {json.dumps(meta["releases"])},')
    print(f'  "dbms_suffixes": {json.dumps(overrides["dbms_suffixes"], sort_keys=True)},')
    print('  "parameters": [')
    for i, entry in enumerate(out):
        comma = "," if i + 1 < len(out) else ""
        print("    " + json.dumps(entry, ensure_ascii=False) + comma)
    print("  ]")
    print("}")


if __name__ == "__main__":
    main()
