import { createHmac, timingSafeEqual } from 'node:crypto';

/** The `X-Hub-Signature-256` value Meta sends for a raw body: `sha256=` and the hex HMAC. */
export function signBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * Checks Meta's `X-Hub-Signature-256` against the RAW body (re-serialised JSON would not match) in
 * constant time. A missing, malformed or wrong header is simply `false`: callers answer 401 without
 * saying why, so a forger learns nothing.
 */
export function verifySignature(
  rawBody: Buffer,
  header: string | readonly string[] | undefined,
  appSecret: string,
): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const hex = header.slice('sha256='.length);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Compares two secrets in constant time, whatever their lengths (hashing first equalises them). */
export function safeEqualText(a: string, b: string): boolean {
  const ha = createHmac('sha256', 'verify-token').update(a).digest();
  const hb = createHmac('sha256', 'verify-token').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
