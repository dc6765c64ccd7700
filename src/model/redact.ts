// A secret a program printed stays out of what we keep of its output (an error, a note, a log).

/** Values shorter than this are not looked for: "1" or "yes" would blank out ordinary output. */
export const MIN_REDACTED_LENGTH = 4;

/** `text` with every occurrence of each secret's value (and of each of its lines) replaced by `[secret NAME]`. */
export function redactSecrets(text: string, secrets: Record<string, string>): string {
  // the longest first, so a value that contains another is replaced whole
  const pieces = Object.entries(secrets)
    .flatMap(([name, value]) => [value, ...value.split(/\r?\n/)].map((v) => [name, v.trim()] as const))
    .filter(([, v]) => v.length >= MIN_REDACTED_LENGTH)
    .sort((a, b) => b[1].length - a[1].length);
  let out = text;
  for (const [name, v] of pieces) out = out.split(v).join(`[secret ${name}]`);
  return out;
}
