// Every activity the worker registers. Each is one idempotent unit of work: check, then act.
export * from './diagnostics';
export * from './setup';
export { setupPostgres } from './accessories';
export * from './deploy';
export * from './rebuild';
export * from './remove';
