/** The `code` of what `fn` throws, "(no code)" for an error without one, undefined if it returns. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? "(no code)";
  }
  return undefined;
}

/** What `fn` throws; fails the test (throws) if it returns. */
export function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}
