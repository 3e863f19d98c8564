/** The `code` of what `fn` throws, "(no code)" for an error without one, undefined if it returns. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? "(no code)";
  }
  return undefined;
}
