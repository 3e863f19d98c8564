// Stands in for core/errors.ts in the Espruino module (see build.mjs). The interpreter puts the
// text of the whole call stack on every Error it makes: for the library's errors, made deep in a
// socket callback, 70-150 variables each while it is made (measured on 2v29: 150 at a depth of
// ten calls; a CONNECT_REFUSED_UNAVAILABLE held 121 variables, 98 of them its stack), and for as
// long as the error is held (a pending rejection, the last failure, a disconnect's reason). Those
// are the moments a connection fails and memory is tightest. So the library's errors are made
// from one Error made once, its stack let go: 8 variables each, with code, message and details.
// They inherit from it, since the interpreter's String() (and its report of an uncaught error)
// reads only an object the Error constructor made as an error: through the toString set on it,
// they print as "Error: <message>"; and `instanceof Error` holds.
import { withDetails, type LiteError, type LiteErrorDetails } from "../core/errors";

export * from "../core/errors";

/** The Error the library's errors inherit from; made with the first of them. */
let template: Error | undefined;

/** Its toString: a module-level function, since one made inside liteError would hold that call's
 * scope (the first error's arguments) for good. */
function errorText(this: Error): string {
  return "Error: " + this.message;
}

export function liteError(code: string, message: string, details?: LiteErrorDetails): LiteError {
  if (!template) {
    template = new Error("");
    delete (template as { stack?: string }).stack;
    template.toString = errorText;
  }
  const error = Object.create(template) as LiteError;
  error.message = message;
  return withDetails(error, code, details);
}
