// SPDX-License-Identifier: Apache-2.0
//
// The canary scanner: look for known secret values in every file under
// some directories (data dirs: tresor.db, -wal, -shm, audit logs; server
// logs) and in captured response bodies, in the forms a leak would take:
// raw bytes, standard base64, base64url, and hex.  A value that is only
// part of a longer plaintext would be base64-encoded at some offset, so
// the three base64 alignments of the value's core are searched too.
//
//   node tests/canary/scan.mjs --values FILE [--values FILE...]
//        [--dir DIR...] [--file FILE...]
//
// FILE of values: one canary a line (blank lines and #comments ignored);
// "b64:<base64>" is a binary canary given by its base64.  --exclude PATH
// leaves a file out (the root key file holds the root key, by design).
// Exit status: 0 when nothing was found, 1 with one line per finding.

import fs from "node:fs";
import path from "node:path";

/** The byte patterns that betray `value`. */
export function forms(value) {
  // "b64:<base64>" names a binary canary by its base64 text
  const bin = value.startsWith("b64:");
  const raw = bin ? Buffer.from(value.slice(4), "base64") : Buffer.from(value, "utf8");
  const out = [
    ["raw", raw],
    ["base64", Buffer.from(raw.toString("base64"))],
    ["base64url", Buffer.from(raw.toString("base64url"))],
    ["hex", Buffer.from(raw.toString("hex"))],
    ["HEX", Buffer.from(raw.toString("hex").toUpperCase())],
  ];
  // embedded at any offset of a longer plaintext: the base64 of the value
  // shifted by 0, 1 or 2 bytes, cut to the characters fully determined by
  // it (drop the first 4 and the last 4 characters)
  if (raw.length >= 12) {
    for (let shift = 0; shift < 3; shift++) {
      const padded = Buffer.concat([Buffer.alloc(shift, 0), raw]);
      for (const [name, text] of [
        ["base64", padded.toString("base64")],
        ["base64url", padded.toString("base64url")],
      ]) {
        const core = text.slice(4, Math.floor((padded.length * 4) / 3) - 4);
        if (core.length >= 12) out.push([`${name}+${shift}`, Buffer.from(core)]);
      }
    }
  }
  // JSON-escaped forms (a value with quotes or non-ASCII)
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) out.push(["json", Buffer.from(json)]);
  return out;
}

function* walk(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

export function readValues(file) {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l && !l.startsWith("#"));
}

/**
 * Scan `files` and every file under `dirs` for `values`.  Returns
 * { files: n, bytes: n, findings: [{ file, value, form, offset }] }.
 */
export function scan({ values, dirs = [], files = [], exclude = [] }) {
  const patterns = [];
  for (const v of values) for (const [form, bytes] of forms(v)) patterns.push({ value: v, form, bytes });
  const all = [...files];
  for (const d of dirs) all.push(...walk(d));
  const findings = [];
  let bytes = 0;
  const skip = new Set(exclude.map((e) => path.resolve(e)));
  for (const f of all) {
    if (skip.has(path.resolve(f))) continue;
    let buf;
    try {
      buf = fs.readFileSync(f);
    } catch {
      continue;
    }
    bytes += buf.length;
    for (const p of patterns) {
      const i = buf.indexOf(p.bytes);
      if (i >= 0) findings.push({ file: f, value: p.value, form: p.form, offset: i });
    }
  }
  return { files: all.length, bytes, findings };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const a = process.argv.slice(2);
  const values = [];
  const dirs = [];
  const files = [];
  const exclude = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "--values") values.push(...readValues(a[++i]));
    else if (a[i] === "--dir") dirs.push(a[++i]);
    else if (a[i] === "--file") files.push(a[++i]);
    else if (a[i] === "--exclude") exclude.push(a[++i]);
    else {
      console.error(`scan.mjs: unknown argument ${a[i]}`);
      process.exit(2);
    }
  }
  if (values.length === 0) {
    console.error("scan.mjs: no canary values");
    process.exit(2);
  }
  const r = scan({ values, dirs, files, exclude });
  for (const f of r.findings) console.log(`LEAK ${f.form} of canary "${f.value.slice(0, 40)}" in ${f.file} at byte ${f.offset}`);
  console.log(`canary scan: ${values.length} values, ${r.files} files, ${r.bytes} bytes: ${r.findings.length ? `${r.findings.length} LEAKS` : "clean"}`);
  process.exit(r.findings.length ? 1 : 0);
}
