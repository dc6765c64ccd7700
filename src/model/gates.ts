// Human gates before the switch (docs/approvals.md): a deploy that waits for an approval
// (`deploy --approve`, `approval: before_switch`) and/or for a cut-over time (`deploy --at`).
// The CLI decides them when it starts the deploy and passes them in the workflow input; a run
// whose input has none has no gate steps (its history stays as it was). Pure values.

export interface GatePlan {
  /** wait for `alcaide approve` (the `approve` signal) after the new slot is healthy, at most timeoutMs */
  approval?: { timeoutMs: number };
  /** the switch waits until this instant (ms since epoch); label: the time as the operator gave it, with its zone */
  cutover?: { at: number; label: string };
}

/** What the `approve` signal carries; optional as a whole, so the Web UI's "Send Signal" works with no input. */
export interface ApproveRequest {
  /** who approved (user@host) */
  by?: string;
  /** why, or what was checked: kept in the status and in `alcaide history` */
  note?: string;
}
