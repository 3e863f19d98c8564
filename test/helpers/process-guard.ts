// Records unhandled rejections and uncaught exceptions while a suite runs, so a test can assert
// that none happened (a flow that leaks one would otherwise pass and crash a user's process).
export function guardProcess(): { problems: string[]; release(): void } {
  const problems: string[] = [];
  const onRejection = (reason: unknown) => problems.push("unhandled rejection: " + String((reason as Error)?.stack ?? reason));
  const onException = (error: Error) => problems.push("uncaught exception: " + String(error?.stack ?? error));
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return {
    problems,
    release() {
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    },
  };
}
