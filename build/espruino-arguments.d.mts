/** Returns `source` with the parameters of its module-level functions read from `arguments`, but
 * for the methods whose names are in `keep`; the names found are added to `kept`. */
export function parametersFromArguments(source: string, keep?: Set<string>, kept?: Set<string>): string;
/** The methods whose parameters build.mjs keeps: the path of a hub session's memory peak. */
export const PEAK_PATH_METHODS: readonly string[];
