import type { Context } from 'aws-lambda';

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * Builds a Lambda handler on its first invocation, once per cold start, so configuration
 * is read and checked where the function runs and the handler factory stays importable.
 */
export function lazyHandler<E, R>(
  build: () => Promise<Handler<E, R>> | Handler<E, R>,
): Handler<E, R> {
  let built: Promise<Handler<E, R>> | undefined;
  return async (event, context) => {
    built ??= Promise.resolve(build()).catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return (await built)(event, context);
  };
}
