// Checks a journal export's signatures in the browser (WebCrypto Ed25519): the service's
// statement of the chain's head and every receipt, each over the canonical JSON of its
// body, against the key the service publishes. The whole check (entry hashes, links and
// digests) is the offline verifier's: `deconfliction journal export verify FILE`.

// The service's canonical JSON: keys sorted, no whitespace, non-ASCII kept (as Python's
// json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) writes it).
// Integers and strings as in the signed bodies; a non-integer number is refused, since
// Python and JavaScript may write one differently.
export function canonical(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`cannot write ${value} as the service does`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
}

const bytes = (hex) => new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));

async function verified(key, signed) {
  const data = new TextEncoder().encode(canonical(signed.body));
  return crypto.subtle.verify({ name: "Ed25519" }, key, bytes(signed.signature), data);
}

// {ok, summary} for an export, with the service's public key (hex) from /v1/journal/key.
export async function audit(exported, publicKeyHex) {
  if (exported.public_key !== publicKeyHex) {
    return { ok: false, summary: "The export names another key than the service's: do not trust it." };
  }
  const key = await crypto.subtle.importKey("raw", bytes(publicKeyHex), { name: "Ed25519" }, false, ["verify"]);
  const statement = await verified(key, exported.statement);
  const receipts = await Promise.all(exported.receipts.map((r) => verified(key, r)));
  const good = receipts.filter(Boolean).length;
  const head = exported.statement.body.head;
  const ok = statement && good === receipts.length;
  const summary = ok
    ? `Verified in this browser: the service's signed statement (chain head #${head.seq}) and all ${good} receipt(s); ${exported.entries.length} entries in your slice.`
    : `NOT verified: statement signature ${statement ? "good" : "BAD"}; ${receipts.length - good} of ${receipts.length} receipt signature(s) bad.`;
  return { ok, summary };
}
