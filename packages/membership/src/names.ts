/**
 * Member names are Kubernetes Node names: RFC 1123 subdomains, lowercase letters, digits, '-' and
 * '.', 1 to 253 characters. Holding the wire to that keeps names one byte per character, so a
 * name's length byte is exact and decode -> encode is byte-identical.
 */
export const MAX_NAME_LENGTH = 253;
const NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export function isMemberName(name: string): boolean {
  return name.length >= 1 && name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

/** Why `name` is not a member name, or undefined when it is one. */
export function memberNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string, got ${typeof name}`;
  if (name.length < 1 || name.length > MAX_NAME_LENGTH)
    return `must be 1-${MAX_NAME_LENGTH} characters, got ${name.length}`;
  if (!NAME.test(name))
    return `"${name}" must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`;
  return undefined;
}

export function requireMemberName(name: string, field: string): void {
  const problem = memberNameProblem(name);
  if (problem) throw new RangeError(`${field} ${problem}`);
}
