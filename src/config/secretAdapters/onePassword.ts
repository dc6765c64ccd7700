// 1Password, through its CLI v2 `op read` (https://developer.1password.com/docs/cli/reference/commands/read,
// secret references: https://developer.1password.com/docs/cli/secret-references/). One read per
// value, with --no-newline so stdout is the value byte for byte. `op` signs in by itself when the
// 1Password app integration is on; otherwise the session comes from `eval $(op signin)` or a
// service account's OP_SERVICE_ACCOUNT_TOKEN, both in the environment op inherits.
import { runCall, usageError } from './common';
import type { SecretAdapter } from './types';

/** op://VAULT/ITEM/[SECTION/]FIELD of a REF: as it is, under --from VAULT/ITEM, or VAULT/ITEM/FIELD. */
export function opReference(ref: string, from?: string): string {
  if (ref.startsWith('op://')) return ref;
  return from ? `op://${from.replace(/^op:\/\//, '').replace(/\/+$/, '')}/${ref}` : `op://${ref}`;
}

export function opReadArgv(reference: string, account?: string): string[] {
  return ['op', 'read', '--no-newline', ...(account ? ['--account', account] : []), reference];
}

export const onePassword: SecretAdapter = {
  name: '1password',
  title: '1Password',
  cli: 'op',
  docs: 'https://developer.1password.com/docs/cli/get-started/',
  account: 'the account (sign-in address, email or ID) when op knows several',
  from: 'VAULT/ITEM the fields are in',
  ref: 'a field of the --from item ([SECTION/]FIELD), VAULT/ITEM/FIELD, or a whole op:// reference',
  signedOut: /not currently signed in|not signed in|session expired|authorization (prompt )?(dismissed|timeout)|no accounts configured/i,
  signIn: 'sign in first: eval $(op signin) (or turn on the 1Password app integration); a service account: OP_SERVICE_ACCOUNT_TOKEN in the environment',
  prepare(req) {
    const reads = req.refs.map(({ key, ref }) => {
      const reference = opReference(ref, req.from);
      // vault, item and field at the least
      if (reference.slice('op://'.length).split('/').filter(Boolean).length < 3) {
        throw usageError(this, `${key}=${ref}: expected VAULT/ITEM/FIELD or an op:// reference, or --from VAULT/ITEM and a FIELD`);
      }
      return { key, argv: opReadArgv(reference, req.account) };
    });
    return (run) => Object.fromEntries(reads.map(({ key, argv }) => [key, runCall(this, run, { argv })]));
  },
};
