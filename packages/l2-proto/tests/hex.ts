/** Test helper: hex with whitespace and `#` comments stripped, so golden vectors can be annotated per field. */
export function hex(annotated: string): Buffer {
  const digits = annotated
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`not whole hex bytes: ${digits}`);
  return Buffer.from(digits, 'hex');
}
