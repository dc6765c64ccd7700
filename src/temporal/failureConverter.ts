// Loaded by path (workflow bundle and worker): failure messages and stack traces travel in
// an encoded-attributes payload, which the payload codec encrypts like any other payload.
// What stays in clear, for the Web UI's event rows and `temporal workflow show`, is a summary
// built only from values of known shapes — the failure type, a step's label, the host, an exit
// status — never from a message, which may carry command output (stderr tails, app logs).
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  DefaultFailureConverter,
  TerminatedFailure,
  TimeoutFailure,
  type PayloadConverter,
  type ProtoFailure,
} from '@temporalio/common';

// Names written in code (step labels and titles, failure types) and hosts from the validated
// config; anything else, or anything longer, is left out of the summary.
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9 ._:/()'+,=-]{0,119}$/;
const HOST_RE = /^(?:[a-z_][a-z0-9_-]{0,31}@)?[A-Za-z0-9.:%[\]-]{1,253}$/;
const TYPE_RE = /^[A-Za-z][A-Za-z0-9_.]{0,79}$/;
const SIGNAL_RE = /^[A-Z0-9]{1,16}$/;

const str = (v: unknown, re: RegExp): string | undefined => (typeof v === 'string' && re.test(v) ? v : undefined);

/** `label failed on host: exit N`, from a RemoteCommandError's details (activities/remote.ts). */
function remoteCommand(d: Record<string, unknown>): string | undefined {
  const label = str(d.label, LABEL_RE);
  if (!label) return undefined;
  const host = str(d.host, HOST_RE);
  const code = Number.isInteger(d.exitCode) ? `exit ${d.exitCode as number}` : str(d.signal, SIGNAL_RE) ? `killed by signal ${d.signal as string}` : undefined;
  return `${label} failed${host ? ` on ${host}` : ''}${code ? `: ${code}` : ''}`;
}

/** `deploy of APP on HOST: STEP failed`, from the workflow status a workflow's failure carries (workflows/tracker.ts). */
function workflowStatus(d: Record<string, unknown>): string | undefined {
  const kind = str(d.kind, TYPE_RE);
  const app = str(d.app, TYPE_RE);
  if (!kind || !app || !Array.isArray(d.steps)) return undefined;
  const host = str(d.host, HOST_RE);
  const step = (d.steps as Array<Record<string, unknown>>).find((s) => s?.state === 'failed' || s?.state === 'cancelled');
  const title = str(step?.title, LABEL_RE);
  const what = title ? `${title} ${step!.state === 'cancelled' ? 'stopped' : 'failed'}` : 'failed';
  return `${kind} of ${app}${host ? ` on ${host}` : ''}: ${what}`;
}

const named = (what: string, name: unknown) => `${what}${str(name, TYPE_RE) ? ` ${name as string}` : ''} failed`;

/** The failure's summary in clear, or undefined to keep the SDK's placeholder. */
export function clearSummary(err: unknown): string | undefined {
  if (err instanceof ApplicationFailure) {
    const type = str(err.type, TYPE_RE) ?? 'Error';
    const first = err.details?.[0];
    const d = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
    const known = remoteCommand(d) ?? workflowStatus(d);
    return `${type}: ${known ?? 'details encrypted'}`;
  }
  if (err instanceof ActivityFailure) return named('activity', err.activityType);
  if (err instanceof ChildWorkflowFailure) return named('child workflow', err.workflowType);
  if (err instanceof TimeoutFailure) return `timed out (${err.timeoutType})`;
  if (err instanceof CancelledFailure) return 'cancelled';
  if (err instanceof TerminatedFailure) return 'terminated';
  return undefined;
}

class SummaryFailureConverter extends DefaultFailureConverter {
  constructor() {
    super({ encodeCommonAttributes: true });
  }

  override errorToFailure(err: unknown, payloadConverter: PayloadConverter, context?: Parameters<DefaultFailureConverter['errorToFailure']>[2]): ProtoFailure {
    const failure = super.errorToFailure(err, payloadConverter, context);
    // decoding puts the full message back from the encoded attributes
    const summary = clearSummary(err);
    if (summary) failure.message = summary;
    return failure;
  }
}

export const failureConverter = new SummaryFailureConverter();
