// A minimal event emitter (Espruino has no node:events), used by composition (no `extends`:
// Espruino's class inheritance is fragile). Listener errors are caught and passed to
// `onListenerError`, so an application's bug can never break the client's own state machine.

export type Listener = (a?: any, b?: any, c?: any) => void;

export class Emitter {
  private listeners_: { [event: string]: Listener[] } = {};
  private readonly onListenerError_: (error: unknown, event: string) => void;

  constructor(onListenerError: (error: unknown, event: string) => void) {
    this.onListenerError_ = onListenerError;
  }

  on(event: string, listener: Listener): this {
    (this.listeners_[event] || (this.listeners_[event] = [])).push(listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    const list = this.listeners_[event];
    if (list && list.indexOf(listener) >= 0) list.splice(list.indexOf(listener), 1);
    return this;
  }

  listenerCount(event: string): number {
    const list = this.listeners_[event];
    return list ? list.length : 0;
  }

  emit(event: string, a?: unknown, b?: unknown, c?: unknown): void {
    const list = this.listeners_[event];
    if (!list) return;
    const snapshot = list.slice();
    for (let i = 0; i < snapshot.length; i++) {
      try {
        snapshot[i](a, b, c);
      } catch (error) {
        if (event !== "error") this.onListenerError_(error, event);
      }
    }
  }
}
