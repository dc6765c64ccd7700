// What a step is: one typed row of its workflow's step table (docs/architecture.md, "The step
// tables"). The workflow runs a step by its name alone (workflows/saga.ts); resume points, the
// CLI's progress, `setup --dry-run`, the test fakes and the docs' step lists read the same rows.
// Plain data and types: safe in workflow code and cheap for the CLI to import.
import type { Activities } from '../activities';

/** What the worker registers (activities/index.ts): the one name the workflows use for it. */
export type { Activities };

/** An activity type a step schedules. Recorded in workflow histories: never renamed. */
export type ActivityName = { [K in keyof Activities]: Activities[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof Activities] & string;

/**
 * How a step's activity is scheduled: its timeouts and retry policy (workflows/saga.ts,
 * ACTIVITY_OPTIONS). step: 10 min; slow (builds, uploads, jails): 60 min; bake: one check, 2 min,
 * retried once; setup: 45 min, 3 attempts; hook: 2 h, the hook's own timeout ends it first (hooks.timeout,
 * at most 1 h), 3 attempts. Undo steps always run as `undo` (10 attempts).
 */
export type RetryClass = 'step' | 'slow' | 'bake' | 'setup' | 'hook';

export interface UndoDef {
  /** the activity that takes the step's effect away (its compensation's name in the status) */
  activity: ActivityName;
  /** what the status and the failure message call it, from the undo's own arguments */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each undo's own argument list; checked where the row is written
  title: (...args: any[]) => string;
}

export interface StepDef {
  name: string;
  title: string;
  /** the activity the step schedules; absent: the workflow's own work (a durable wait, a fleet's children) */
  activity?: ActivityName;
  retry?: RetryClass;
  /** the undo of this step, registered before it runs */
  undo?: UndoDef;
  /** with on_failure: hold, a failure of this step waits for the operator (steps before the switch) */
  holds?: boolean;
}

export type StepTable = readonly StepDef[];

/** An undo and its title typed by the undo activity's arguments. */
export const undo = <A extends ActivityName>(activity: A, title: (...args: Parameters<Activities[A]>) => string) => ({ activity, title });

export type StepName<T extends StepTable> = T[number]['name'];
export type StepOf<T extends StepTable, N extends StepName<T>> = Extract<T[number], { name: N }>;

/** The step of `table` that schedules `activity`, as a step or as its undo. */
export function stepOfActivity(table: StepTable, activity: string): { step: StepDef; asUndo: boolean } | undefined {
  const step = table.find((s) => s.activity === activity);
  if (step) return { step, asUndo: false };
  const undone = table.find((s) => s.undo?.activity === activity);
  return undone && { step: undone, asUndo: true };
}

/** Every activity type a table schedules: its steps' and its undos'. */
export const activitiesOf = (table: StepTable): ActivityName[] => [
  ...new Set(table.flatMap((s) => [s.activity, s.undo?.activity].filter((a): a is ActivityName => a !== undefined))),
];

/** The row `name` of `table`, with its literal type (the saga types a step's arguments by it): a table built from another's rows. */
export const rowOf = <T extends StepTable, N extends StepName<T>>(table: T, name: N) => table.find((s) => s.name === name) as StepOf<T, N>;
