#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that the YNL spec of the vstub netlink family and its uapi header agree.

    scripts/check-ynl-spec.py [--spec FILE] [--header FILE] [--schema FILE]

Compares Documentation/netlink/specs/vstub.yaml with kmod/uapi/vstub.h:
  - every enum of the header (commands, each attribute space, the value
    enums) against the spec's operations, attribute sets and definitions:
    the same C names, in the same order, with the same numbers, including
    the __*_MAX counts and the *_MAX defines;
  - every attribute's type: the header's trailing comment ("u32", "NUL
    string", "nest of VSTUB_A_X", "nest, enum vstub_x_attr", "u8, enum
    vstub_y") against the spec's type, nested attribute set and enum;
  - every #define (family name, version, multicast group, constants);
  - for every command, do/dump/admin as the header's prose says
    ("VSTUB_CMD_X (do, dump, admin)") against the spec's do/dump/flags;
  - nothing in either that the other lacks.
With --schema (the kernel's Documentation/netlink/genetlink-legacy.yaml)
and python3-jsonschema, the spec is validated against it too.  Exits 1 and
names every disagreement.
"""
import argparse
import os
import re
import sys

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

errors = []


def err(msg):
    errors.append(msg)


def c_name(s):
    return s.upper().replace('-', '_')


# ---- the header ---------------------------------------------------------

def strip_comments(text):
    return re.sub(r'/\*.*?\*/', '', text, flags=re.S)


def parse_int(expr, defines):
    """The value of a simple C integer expression of the header."""
    e = expr.strip()
    while e.startswith('(') and e.endswith(')'):
        e = e[1:-1].strip()
    e = re.sub(r'(?<=[0-9a-fA-Fx])[uUlL]+\b', '', e)
    if e in defines:
        return parse_int(defines[e], defines)
    if e.startswith('~'):
        return (1 << 64) - 1 - parse_int(e[1:], defines)
    m = re.fullmatch(r'(\w+)\s*-\s*(\d+)', e)
    if m:
        return parse_int(m.group(1), defines) - int(m.group(2))
    return int(e, 0)


def parse_header(path):
    text = open(path).read()
    enums = {}      # name -> [(entry, value, comment)]
    for m in re.finditer(r'enum\s+(\w+)\s*\{(.*?)\};', text, flags=re.S):
        entries, val = [], 0
        for line in m.group(2).split('\n'):
            cm = re.search(r'/\*\s*(.*?)\s*\*/', line)
            comment = cm.group(1) if cm else ''
            code = strip_comments(line).strip()
            if not code:
                continue
            em = re.fullmatch(r'(\w+)\s*(?:=\s*([^,]+))?,?', code)
            if not em:
                err(f'{path}: cannot parse enum {m.group(1)} entry "{code}"')
                continue
            if em.group(2):
                val = int(em.group(2), 0)
            entries.append((em.group(1), val, comment))
            val += 1
        enums[m.group(1)] = entries
    defines = {}
    for m in re.finditer(r'^#define\s+(\w+)[ \t]+([^\n]*?)\s*(?:/\*.*?\*/)?$',
                         text, flags=re.M):
        defines[m.group(1)] = m.group(2).strip()
    # "VSTUB_CMD_X (do, dump, admin)" in the prose
    cmd_kinds = {}
    for m in re.finditer(r'^ \* (VSTUB_CMD_\w+) \(([^)]*)\)', text, flags=re.M):
        cmd_kinds[m.group(1)] = {w.strip() for w in m.group(2).split(',')}
    return enums, defines, cmd_kinds


# ---- the spec -------------------------------------------------------------

def enum_entries(defn):
    """[(C name, value, doc)] of a spec enum definition."""
    out, val = [], defn.get('value-start', 0)
    prefix = defn.get('name-prefix', f"vstub-{defn['name']}-")
    for e in defn['entries']:
        if isinstance(e, dict):
            name, val = e['name'], e.get('value', val)
        else:
            name = e
        out.append((c_name(prefix + name), val))
        val += 1
    return out


def attr_entries(aset):
    out, val = [], 0
    for a in aset['attributes']:
        val = a.get('value', val)
        out.append((c_name(aset['name-prefix'] + a['name']), val, a))
        val += 1
    return out


def compare_enum(what, hdr, spec_list, count_name, max_name, defines):
    """Compare header entries with the spec's [(name, value)]."""
    hdr_entries = [(n, v) for n, v, _ in hdr]
    want = list(spec_list)
    if count_name:
        want.append((c_name(count_name), want[-1][1] + 1 if want else 0))
    if hdr_entries != want:
        before = len(errors)
        hn = dict(hdr_entries)
        sn = dict(want)
        for n, v in want:
            if n not in hn:
                err(f'{what}: {n} (= {v}) is in the spec but not in the header')
            elif hn[n] != v:
                err(f'{what}: {n} is {hn[n]} in the header but {v} in the spec')
        for n, v in hdr_entries:
            if n not in sn:
                err(f'{what}: {n} (= {v}) is in the header but not in the spec')
        if len(errors) == before:
            err(f'{what}: the entries are in another order than in the spec')
    if max_name:
        mn = c_name(max_name)
        if mn not in defines:
            err(f'{what}: no #define {mn} in the header')
        elif re.sub(r'[\s()]', '', defines[mn]) != f'{c_name(count_name)}-1':
            err(f'{what}: {mn} is "{defines[mn]}", not ({c_name(count_name)} - 1)')


def check(spec, enums, defines, cmd_kinds, header):
    seen_enums, seen_defines = set(), set()
    defs = {d['name']: d for d in spec.get('definitions', [])}
    sets = {s['name']: s for s in spec['attribute-sets']}

    # family, version, multicast groups
    fam = c_name(spec['c-family-name'])
    ver = c_name(spec['c-version-name'])
    for name, want in ((fam, f'"{spec["name"]}"'), (ver, str(spec['version']))):
        seen_defines.add(name)
        if defines.get(name) != want:
            err(f'#define {name}: header has {defines.get(name)!r}, spec says {want}')
    for g in spec.get('mcast-groups', {}).get('list', []):
        name = c_name(g.get('c-define-name', f"{spec['name']}-mcgrp-{g['name']}"))
        seen_defines.add(name)
        if defines.get(name) != f'"{g["name"]}"':
            err(f'#define {name}: header has {defines.get(name)!r}, spec says "{g["name"]}"')

    # definitions: constants and value enums
    for d in spec.get('definitions', []):
        if d['type'] == 'const':
            name = c_name(f"{spec['name']}-{d['name']}")
            seen_defines.add(name)
            if name not in defines:
                err(f'#define {name} (spec constant {d["name"]}) is not in the header')
            elif parse_int(defines[name], defines) != int(d['value']):
                err(f'#define {name}: header has {defines[name]}, spec says {d["value"]}')
        elif d['type'] == 'enum':
            ename = c_name(d['enum-name']).lower()
            if ename not in enums:
                err(f'enum {ename} (spec definition {d["name"]}) is not in the header')
                continue
            seen_enums.add(ename)
            compare_enum(f'enum {ename}', enums[ename], enum_entries(d),
                         None, None, defines)

    # commands
    ops = spec['operations']
    ename = c_name(ops['enum-name']).lower()
    if ename not in enums:
        err(f'enum {ename} (the commands) is not in the header')
    else:
        seen_enums.add(ename)
        lst, val = [], 0
        for op in ops['list']:
            val = op.get('value', val)
            lst.append((c_name(ops['name-prefix'] + op['name']), val))
            val += 1
        compare_enum(f'enum {ename}', enums[ename], lst,
                     spec.get('cmd-cnt-name'), spec.get('cmd-max-name'),
                     defines)
        seen_defines.add(c_name(spec.get('cmd-max-name', '')))
        for op in ops['list']:
            cname = c_name(ops['name-prefix'] + op['name'])
            if op['name'] == 'unspec':
                continue
            kinds = cmd_kinds.get(cname)
            if 'event' in op:
                if kinds is not None:
                    err(f'{cname}: an event in the spec, documented as a request ({", ".join(sorted(kinds))}) in the header')
                if op.get('mcgrp') not in [g['name'] for g in spec['mcast-groups']['list']]:
                    err(f'{cname}: event without a known multicast group')
                continue
            if kinds is None:
                err(f'{cname}: the header does not document it as "{cname} (do/dump...)"')
                continue
            have = {k for k in ('do', 'dump') if k in op}
            if 'admin-perm' in op.get('flags', []):
                have.add('admin')
            if have != kinds:
                err(f'{cname}: the header says ({", ".join(sorted(kinds))}), the spec ({", ".join(sorted(have))})')
            for k in ('do', 'dump'):
                for part in ('request', 'reply'):
                    for a in op.get(k, {}).get(part, {}).get('attributes', []):
                        if not any(x['name'] == a for x in sets[op['attribute-set']]['attributes']):
                            err(f'{cname} {k} {part}: unknown attribute {a}')

    # attribute sets
    for s in spec['attribute-sets']:
        if 'subset-of' in s:
            parent = sets.get(s['subset-of'])
            for a in s['attributes']:
                if not parent or not any(x['name'] == a['name'] for x in parent['attributes']):
                    err(f'attribute set {s["name"]}: {a["name"]} is not in {s["subset-of"]}')
            continue
        ename = c_name(s['enum-name']).lower()
        if ename not in enums:
            err(f'enum {ename} (attribute set {s["name"]}) is not in the header')
            continue
        seen_enums.add(ename)
        entries = attr_entries(s)
        compare_enum(f'enum {ename}', enums[ename], [(n, v) for n, v, _ in entries],
                     s.get('attr-cnt-name'), s.get('attr-max-name'), defines)
        seen_defines.add(c_name(s.get('attr-max-name', '')))
        comments = {n: c for n, _, c in enums[ename]}
        for n, _, a in entries:
            if n in comments:
                check_type(n, a, comments[n], sets, defs, s)

    # anything in the header the spec does not cover
    for e in enums:
        if e not in seen_enums:
            err(f'enum {e} of the header is not in the spec')
    guard = os.path.basename(header).upper().replace('.', '_')
    for d in defines:
        if d not in seen_defines and d != f'_UAPI_{guard}':
            err(f'#define {d} of the header is not in the spec')


def check_type(cname, attr, comment, sets, defs, aset):
    t = attr.get('type')
    if t in ('unused', 'pad'):
        if comment:
            err(f'{cname}: {t} in the spec but "{comment}" in the header')
        return
    m = re.fullmatch(r'(u8|u16|u32|u64|s32|s64)(?:,\s*enum (\w+))?', comment)
    if m:
        if t != m.group(1):
            err(f'{cname}: type {t} in the spec, {m.group(1)} in the header')
        if m.group(2):
            d = defs.get(attr.get('enum', ''))
            if not d or c_name(d['enum-name']).lower() != m.group(2):
                err(f'{cname}: the header says enum {m.group(2)}, the spec enum: {attr.get("enum")}')
        elif 'enum' in attr:
            err(f'{cname}: the spec says enum {attr["enum"]}, the header names none')
        return
    if comment in ('NUL string', 'NUL string (BDF)'):
        if t != 'string':
            err(f'{cname}: type {t} in the spec, a NUL string in the header')
        return
    m = re.fullmatch(r'nest of (\w+)', comment)
    if m:
        inner = sets.get(attr.get('nested-attributes', ''))
        names = [c_name(aset['name-prefix'] + a['name']) for a in (inner or {}).get('attributes', [])] \
            if inner and inner.get('subset-of') == aset['name'] else []
        if t != 'nest' or names != [m.group(1)]:
            err(f'{cname}: the header says a nest of {m.group(1)}, the spec type {t} of {attr.get("nested-attributes")}')
        return
    m = re.fullmatch(r'nest, enum (\w+)', comment)
    if m:
        inner = sets.get(attr.get('nested-attributes', ''))
        if t != 'nest' or not inner or c_name(inner.get('enum-name', '')).lower() != m.group(1):
            err(f'{cname}: the header says a nest of enum {m.group(1)}, the spec type {t} of {attr.get("nested-attributes")}')
        if not attr.get('multi-attr'):
            err(f'{cname}: a repeated nest, but not multi-attr in the spec')
        return
    err(f'{cname}: cannot tell the type from the header comment "{comment}"')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--spec', default=os.path.join(TOP, 'Documentation/netlink/specs/vstub.yaml'))
    ap.add_argument('--header', default=os.path.join(TOP, 'kmod/uapi/vstub.h'))
    ap.add_argument('--schema', help="the kernel's genetlink-legacy.yaml")
    args = ap.parse_args()

    spec = yaml.safe_load(open(args.spec))
    enums, defines, cmd_kinds = parse_header(args.header)
    check(spec, enums, defines, cmd_kinds, args.header)
    schema_note = ''
    if args.schema:
        import jsonschema
        schema = yaml.safe_load(open(args.schema))
        try:
            jsonschema.validate(spec, schema)
            schema_note = f', valid against {os.path.basename(args.schema)}'
        except jsonschema.ValidationError as e:
            path = '/'.join(str(p) for p in e.absolute_path)
            err(f'{args.spec}: not valid against {args.schema} at {path}: {e.message}')
    rel = os.path.relpath(args.spec, TOP)
    if errors:
        for e in errors:
            print(f'ynl-check: {e}', file=sys.stderr)
        print(f'ynl-check: {rel} and {os.path.relpath(args.header, TOP)} disagree ({len(errors)} problems)',
              file=sys.stderr)
        return 1
    nattrs = sum(len(s['attributes']) for s in spec['attribute-sets'] if 'subset-of' not in s)
    print(f'ynl-check: {rel} agrees with {os.path.relpath(args.header, TOP)}: '
          f'{len(spec["operations"]["list"])} commands, {nattrs} attributes, '
          f'{len(spec.get("definitions", []))} definitions, '
          f'{len(spec["mcast-groups"]["list"])} multicast group{schema_note}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
