/**
 * Module resolution hooks (node:module `register`) that refuse to resolve any module whose URL
 * matches a pattern, naming the module that asked for it. See forbid-modules.ts.
 */
interface ResolveResult {
  url: string;
}
type NextResolve = (specifier: string, context: { parentURL?: string | undefined }) => Promise<ResolveResult>;

let forbidden: RegExp | undefined;

export function initialize(data: { pattern?: string } | undefined): void {
  forbidden = data?.pattern ? new RegExp(data.pattern) : undefined;
}

export async function resolve(specifier: string, context: { parentURL?: string | undefined }, nextResolve: NextResolve): Promise<ResolveResult> {
  const result = await nextResolve(specifier, context);
  if (forbidden?.test(result.url)) throw new Error(`forbidden module ${result.url} imported by ${context.parentURL ?? "the entry point"}`);
  return result;
}
