// Every activity the worker registers. Each is one idempotent unit of work.
export * from './diagnostics';
