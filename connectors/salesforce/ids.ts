const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * Salesforce ids come as 15-char (case-sensitive) or 18-char (case-safe: a checksum of the
 * capitals) forms of the same record; Referloop stores and compares the 18-char form only.
 */
export function toId18(id: string): string {
  if (!/^[a-zA-Z0-9]{15}$/.test(id)) return id;
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    suffix += SUFFIX_CHARS[bits];
  }
  return id + suffix;
}

export function isSalesforceId(value: string): boolean {
  return /^[a-zA-Z0-9]{15}([A-Z0-5]{3})?$/.test(value);
}
