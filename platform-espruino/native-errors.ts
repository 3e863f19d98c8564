// Stands in for core/errors.ts in the Espruino module (see build.mjs). The interpreter puts the
// text of the whole call stack on every Error it makes: for the library's errors, made deep in a
// socket callback, that was 70-100 variables each (measured on 2v29: a CONNECT_REFUSED_UNAVAILABLE
// 121 variables, 98 of them its stack), held as long as the error is (a pending rejection, the
// last failure, a disconnect's reason), and made exactly when a connection fails and memory is
// tightest. Without it an error keeps its code, message and details. (The stack is made and let go
// here: an object made otherwise than by Error is no Error to the interpreter's String().)
import { liteError as withStack, type LiteError, type LiteErrorDetails } from "../core/errors";

export * from "../core/errors";

export function liteError(code: string, message: string, details?: LiteErrorDetails): LiteError {
  const error = withStack(code, message, details);
  delete (error as { stack?: string }).stack;
  return error;
}
