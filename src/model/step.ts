// What every step reports: whether it changed the host, and a note for status and history.
// Activities return it; workflows record it. Plain data: safe in workflow code.

export interface StepResult {
  changed: boolean;
  note: string;
}

/** A step's result from the changes it made: them, joined, or `unchanged` when there were none. */
export const stepResult = (changes: string[], unchanged: string): StepResult => ({ changed: changes.length > 0, note: changes.join('; ') || unchanged });
