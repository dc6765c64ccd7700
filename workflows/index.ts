// Every workflow the worker registers. Deterministic code only: no I/O, no Node APIs.
export * from './doctor';
export * from './setup';
export * from './fleetSetup';
export * from './fleetDeploy';
export * from './hostDeploy';
export * from './fleetRollback';
export * from './hostRollback';
export * from './fleetRemove';
export { statusQuery } from './status';
export * from './deploy';
export { abortSignal, hostReportSignal, proceedSignal, resumeSignal, retrySignal, rollbackSignal } from './signals';
export { approveSignal } from './signals';
export * from './rollback';
export * from './rebuild';
export * from './nightly';
export * from './remove';
export * from './maintenance';
export * from './pause';
