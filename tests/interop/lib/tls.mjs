// A throwaway test CA and server certificates for 127.0.0.1, made with the openssl CLI.
//
// run.sh makes one CA per run (`node lib/tls.mjs make-ca DIR`) and exports
// TRESOR_INTEROP_CA_DIR=DIR and NODE_EXTRA_CA_CERTS=DIR/ca.crt, so that every node
// process of the suite (the SDK's fetch included) trusts it. Server certificates are
// made per server, in its temporary parent directory, signed by that CA.
//
// Keys are EC P-256 (fast to generate); files are mode 0600.

import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function openssl(args, cwd) {
  try {
    return execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] }).toString("utf8");
  } catch (e) {
    throw new Error(`openssl ${args.join(" ")} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

/** Create DIR/ca.key and DIR/ca.crt (a self-signed CA, 2 days). Returns { dir, cert, key }. */
export function makeCA(dir, cn = "tresor interop test CA") {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = path.join(dir, "ca.key");
  const cert = path.join(dir, "ca.crt");
  openssl([
    "req", "-x509", "-new", "-nodes",
    "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-keyout", key, "-out", cert, "-days", "2",
    "-subj", `/CN=${cn} ${crypto.randomBytes(4).toString("hex")}`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  fs.chmodSync(key, 0o600);
  return { dir, cert, key };
}

/** The CA of this run (run.sh), or null. */
export function runCA() {
  const dir = process.env.TRESOR_INTEROP_CA_DIR;
  if (!dir) return null;
  const cert = path.join(dir, "ca.crt");
  const key = path.join(dir, "ca.key");
  if (!fs.existsSync(cert) || !fs.existsSync(key)) return null;
  return { dir, cert, key };
}

/**
 * A server certificate for IP 127.0.0.1 signed by `ca`, written to outDir/<name>.crt and
 * outDir/<name>.key. `serial` is a hex string (random when omitted). Returns
 * { cert, key, serial } (serial in uppercase hex, as node's getPeerCertificate shows it).
 */
export function makeServerCert(ca, outDir, { name = "server", serial, cn = "127.0.0.1", days = 2 } = {}) {
  fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const key = path.join(outDir, `${name}.key`);
  const cert = path.join(outDir, `${name}.crt`);
  const csr = path.join(outDir, `${name}.csr`);
  const ext = path.join(outDir, `${name}.ext`);
  // First byte 0x10..0x7f: positive, no leading zero, so node prints it as given.
  serial = (serial ?? (0x10 + crypto.randomInt(0x70)).toString(16) + crypto.randomBytes(7).toString("hex")).toUpperCase();
  fs.writeFileSync(
    ext,
    "basicConstraints=critical,CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\n" +
      "extendedKeyUsage=serverAuth\n" +
      "subjectAltName=IP:127.0.0.1\n",
  );
  openssl([
    "req", "-new", "-nodes",
    "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-keyout", key, "-out", csr, "-subj", `/CN=${cn}`,
  ]);
  openssl([
    "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key,
    "-set_serial", `0x${serial}`, "-days", String(days), "-out", cert, "-extfile", ext,
  ]);
  fs.chmodSync(key, 0o600);
  fs.rmSync(csr, { force: true });
  fs.rmSync(ext, { force: true });
  return { cert, key, serial };
}

// CLI for run.sh: node lib/tls.mjs make-ca DIR
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, dir] = process.argv.slice(2);
  if (cmd !== "make-ca" || !dir) {
    console.error("usage: node lib/tls.mjs make-ca DIR");
    process.exit(2);
  }
  const ca = makeCA(dir);
  console.log(ca.cert);
}
