/**
 * Strings Postgres can store. `text` and `jsonb` refuse the NUL character (U+0000), and a lone
 * UTF-16 surrogate (half of a pair) has no UTF-8 form: the driver would write U+FFFD in its place,
 * so what was stored would differ from what was sent. Both are refused wherever a string enters.
 */
export const unstorableTextMessage = "must not contain NUL characters (U+0000) or unpaired UTF-16 surrogates";

/** A surrogate code unit left unpaired: with the `u` flag a paired one reads as one code point, not Cs. */
const loneSurrogate = /\p{Cs}/u;

export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && !loneSurrogate.test(value);
}

export interface JsonInspection {
  /** Nesting deeper than the limit (objects and arrays); the walk stops there. */
  tooDeep: boolean;
  /** Dotted paths of the strings, or object keys, that are not storable (at most `maxIssues`). */
  unstorable: string[];
}

/**
 * Walks a parsed JSON value without recursion (so no depth can overflow the stack), checking its
 * nesting depth and every string and key with isStorableText.
 */
export function inspectJson(value: unknown, { maxDepth = 32, maxIssues = 20 }: { maxDepth?: number; maxIssues?: number } = {}): JsonInspection {
  const unstorable: string[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: "", depth: 0 }];
  while (stack.length > 0 && unstorable.length < maxIssues) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === "string") {
      if (!isStorableText(current)) unstorable.push(path);
      continue;
    }
    if (current === null || typeof current !== "object") continue;
    if (depth >= maxDepth) return { tooDeep: true, unstorable };
    const entries: [string, unknown][] = Array.isArray(current) ? current.map((item: unknown, index) => [String(index), item]) : Object.entries(current);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      const itemPath = path ? `${path}.${key}` : key;
      if (!isStorableText(key)) unstorable.push(itemPath);
      stack.push({ value: item, path: itemPath, depth: depth + 1 });
    }
  }
  return { tooDeep: false, unstorable: unstorable.slice(0, maxIssues) };
}
