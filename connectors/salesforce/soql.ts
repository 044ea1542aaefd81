/**
 * SOQL text builders. Queries go out as GET URLs, so IN lists are chunked to keep the encoded
 * query well under the request-line limits (Salesforce ~16 KB, Node's default header limit 16 KB).
 * https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
 */
const MAX_IN_LIST_ENCODED_CHARS = 6_000;

export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** LIKE pattern text: `%` and `_` are wildcards and need escaping. */
export function likeContains(value: string): string {
  return `'%${value.replace(/[\\'%_]/g, (c) => `\\${c}`)}%'`;
}

export function inList(values: readonly string[]): string {
  return `(${values.map(quote).join(',')})`;
}

/** Splits values into chunks whose rendered, URL-encoded SOQL fragment stays under the limit. */
export function chunkForSoql(
  values: readonly string[],
  render: (value: string) => string = quote,
  maxEncodedChars = MAX_IN_LIST_ENCODED_CHARS,
): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const value of values) {
    const cost = encodeURIComponent(`${render(value)},`).length;
    if (current.length > 0 && size + cost > maxEncodedChars) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(value);
    size += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** SOQL dateTime literal (unquoted, second precision, UTC). */
export function dateTimeLiteral(instant: Date): string {
  return `${instant.toISOString().slice(0, 19)}Z`;
}
