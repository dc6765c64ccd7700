// The one interface every secret adapter implements (docs/secrets.md). An adapter turns a fetch
// request into calls of its vendor's CLI (pure argv builders, exported for tests) and reads the
// values from their stdout; the runner (run.ts) is the only part that starts a process.

/** One KEY[=REF] of a fetch: the name in the secrets file, and where the vault keeps its value. */
export interface SecretRef {
  key: string;
  ref: string;
}

export interface FetchRequest {
  refs: SecretRef[];
  /** --account: the vault account or profile (each adapter says what it means, or refuses it) */
  account?: string;
  /** --from: the container the REFs are in (a vault item, a project, a folder…) */
  from?: string;
  /** --command: the command adapter's command line */
  command?: string;
}

/**
 * One run of a vendor CLI. argv[0] is looked up on PATH and nothing runs through a shell; argv
 * holds names and references, never a value. What is secret (a session token) goes in env.
 */
export interface VaultCall {
  argv: string[];
  env?: Record<string, string>;
}

export interface VaultOutput {
  status: number;
  stdout: Buffer;
  stderr: string;
}

export type RunVaultCli = (call: VaultCall) => VaultOutput;

/** Values by the KEY they are stored under. */
export type VaultValues = Record<string, string>;

export interface SecretAdapter {
  /** as given to --adapter and secrets_from.adapter */
  name: string;
  /** the vendor's product, for messages */
  title: string;
  /** the executable */
  cli: string;
  /** where its CLI is documented and installed from */
  docs: string;
  /** what --account means here; undefined: the option is refused */
  account?: string;
  /** what --from means here; undefined: the option is refused */
  from?: string;
  /** the REF syntax, for --help and the docs */
  ref: string;
  /** what a failed call prints when the operator has to sign in (or unlock) first */
  signedOut: RegExp;
  /** how to sign in, the hint of such a failure */
  signIn: string;
  /**
   * Checks the request (a problem is a UserError with exit 2, before any CLI runs) and returns
   * what reads every value through `run`. A failure of any call throws: nothing is half-read.
   */
  prepare(req: FetchRequest): (run: RunVaultCli) => VaultValues;
}
