/** Returns `source` with the parameters of its module-level functions read from `arguments`. */
export function parametersFromArguments(source: string): string;
