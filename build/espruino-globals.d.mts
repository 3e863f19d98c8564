/** The first character of every global the Espruino modules define. */
export const PREFIX: string;
/** Hands out short global names, skipping those in `taken`. */
export function nameAllocator(taken?: Set<string>): () => string;
/** The identifiers a module's text uses anywhere. */
export function identifiersOf(source: string): Set<string>;
/** The module's own top-level names (not those of its import from `imported`). */
export function topLevelNames(source: string, imported?: string): string[];
/** Rewrites one minified module to assign globals only (see the .mjs). */
export function toGlobalCode(
  source: string,
  options: { globalOf: Map<string, string>; imported?: { module: string; globalOf: Map<string, string> }; api: string; publicKeys?: string[] },
): { code: string; exportsGlobal: Record<string, string> };
/** How often each of `names` is referred to in `source`. */
export function referenceCounts(source: string, names: Iterable<string>): Map<string, number>;
/** `module.exports={key:name,...}` of a module: key -> top-level name. */
export function exportedNames(source: string): Map<string, string>;
/** A feature module's aliases of what it reads off `module`: local name -> key. */
export function importedKeys(source: string, module: string): Map<string, string>;
/** The Storage file: the stub that evaluates the code in the root scope, then the code in a comment. */
export function storageFile(name: string, code: string, api: string): string;
/** The code part of a Storage file made by storageFile, or undefined for another text. */
export function codeOf(file: string): string | undefined;
