// Every workflow the worker registers. Deterministic code only: no I/O, no Node APIs.
export * from './doctor';
export * from './setup';
export { statusQuery } from './status';
