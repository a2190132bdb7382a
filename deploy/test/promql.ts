/** Words of PromQL that look like metric names but are not: keywords and modifiers. */
const keywords = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"]);

/**
 * The metric names a PromQL expression reads. Not a parser: it drops what cannot hold a metric
 * name (strings, label matchers, ranges, offsets, grouping labels), then keeps each identifier
 * that is not a keyword and not called as a function or aggregation. Enough for the rules and
 * panels of this repository; a name it misses would fail no build, so its tests pin it down.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\boffset\s+-?[0-9a-z]+/gi, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ");
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w:.$])[a-zA-Z_:][\w:]*/g)) {
    const word = match[0];
    const calls = /^\s*\(/.test(bare.slice(match.index + word.length));
    if (!calls && !keywords.has(word.toLowerCase())) names.add(word);
  }
  return [...names];
}

/**
 * Every series name a Prometheus text exposition declares: the `# TYPE` lines (a counter or gauge
 * that has no sample yet still counts; a histogram brings its _bucket, _sum and _count) and the
 * sample lines.
 */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const declared = /^# TYPE (\S+) (\S+)/.exec(line);
    if (declared) {
      const [, name, type] = declared as unknown as [string, string, string];
      names.add(name);
      if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
      if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(name + suffix);
    } else if (line && !line.startsWith("#")) {
      names.add(/^[^{\s]+/.exec(line)![0]);
    }
  }
  return names;
}
