// Reading an actor's answer when the domain can refuse (`{ ok: false, reason: 'locked' }`):
// guards for its onDone transitions, and the answer narrowed inside the transition they guard.
// The result type is inferred from the invoke the guard sits in, so a reason the actor never
// gives (`failedWith('lockd')`) is a type error.

export type Result = { ok: true } | { ok: false; reason: string };
export type Ok<R extends Result> = Extract<R, { ok: true }>;
export type ReasonOf<R> = R extends { ok: false; reason: infer Reason } ? Reason : never;
export type Refusal<R extends Result, Reason extends ReasonOf<R> = ReasonOf<R>> = Extract<R, { ok: false; reason: Reason }>;

type Answer<R> = { event: { output: R } };

export const isOk = <R extends Result>(result: R): result is Ok<R> => result.ok;
export const isRefusal = <R extends Result, Reason extends ReasonOf<R>>(result: R, reasons: readonly Reason[]): result is Refusal<R, Reason> =>
  !result.ok && (reasons as readonly string[]).includes(result.reason);

/** A guard: the actor answered ok (and, if given, the answer passes `test`). */
export function whenOk<R extends Result>(test?: (answer: Ok<R>) => boolean) {
  return ({ event }: Answer<R>): boolean => isOk(event.output) && (test === undefined || test(event.output));
}

/** A guard: the actor refused, for one of these reasons. */
export function failedWith<R extends Result, Reason extends ReasonOf<R>>(...reasons: Reason[]) {
  return ({ event }: Answer<R>): boolean => isRefusal(event.output, reasons);
}

/** The ok answer, in a transition guarded by `whenOk`. */
export function okOf<R extends Result>(result: R): Ok<R> {
  if (isOk(result)) return result;
  throw new Error('an ok answer was read from a refusal');
}

/** The refusal, in a transition guarded by `failedWith(reason)`. */
export function refusalOf<R extends Result, Reason extends ReasonOf<R>>(result: R, reason: Reason): Refusal<R, Reason> {
  if (isRefusal(result, [reason])) return result;
  throw new Error(`a refusal for ${reason} was read from another answer`);
}
