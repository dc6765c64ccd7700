// Every activity the worker registers. Each is one idempotent unit of work: check, then act.
export * from './diagnostics';
export * from './setup';
export * from './deploy';
export * from './rebuild';
