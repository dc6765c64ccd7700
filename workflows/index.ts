// Every workflow the worker registers. Deterministic code only: no I/O, no Node APIs.
export * from './doctor';
