// Bitwarden Password Manager, through its CLI `bw` (https://bitwarden.com/help/cli/): `bw status`
// prints JSON whose "status" is unauthenticated, locked or unlocked; `bw sync` pulls the vault;
// `bw get item NAME|ID` prints the item as JSON (login.username/password, notes, fields[] of
// {name, value}). The session key reaches bw as BW_SESSION from the operator's environment
// (`export BW_SESSION="$(bw unlock --raw)"`), never as --session; --nointeraction so bw never
// waits on a prompt.
import { UserError } from '../../errors';
import { groupBy, isObject, runCall, runJson, usageError } from './common';
import type { SecretAdapter } from './types';

const GLOBAL = ['--nointeraction'];
export const bwStatusArgv = (): string[] => ['bw', 'status', ...GLOBAL];
export const bwSyncArgv = (): string[] => ['bw', 'sync', ...GLOBAL];
export const bwGetItemArgv = (item: string): string[] => ['bw', 'get', 'item', item, ...GLOBAL];

/** The item and field of a REF: FIELD of the --from item, ITEM/FIELD, or ITEM (its login password). */
export function bwItemField(ref: string, from?: string): { item: string; field?: string } {
  if (from) return { item: from, field: ref };
  const slash = ref.lastIndexOf('/');
  return slash > 0 ? { item: ref.slice(0, slash), field: ref.slice(slash + 1) } : { item: ref };
}

/** A custom field of that name first, else the built-in one (password, username, notes). */
function fieldOf(item: Record<string, unknown>, name: string, field: string | undefined): string {
  const login = isObject(item.login) ? item.login : {};
  if (field !== undefined) {
    const custom = Array.isArray(item.fields) ? item.fields.filter((f) => isObject(f) && f.name === field) : [];
    if (custom.length > 1) throw new UserError(`Bitwarden: item "${name}" has ${custom.length} fields named "${field}"`);
    if (custom.length === 1) return String((custom[0] as Record<string, unknown>).value ?? '');
  }
  const builtins: Record<string, unknown> = { password: login.password, username: login.username, notes: item.notes };
  const builtin = builtins[field ?? 'password'];
  if (typeof builtin === 'string') return builtin;
  throw new UserError(`Bitwarden: item "${name}" has no ${field === undefined ? 'login password' : `field "${field}"`}`);
}

export const bitwarden: SecretAdapter = {
  name: 'bitwarden',
  title: 'Bitwarden',
  cli: 'bw',
  docs: 'https://bitwarden.com/help/cli/',
  account: 'the email bw must be logged in as (checked, not used to log in)',
  from: 'the ITEM (name or ID) the fields are in',
  ref: 'a field of the --from item, ITEM/FIELD, or ITEM for its login password (custom fields first, then password, username, notes)',
  signedOut: /not logged in|vault is locked|session key is invalid/i,
  signIn: 'bw login, then export BW_SESSION="$(bw unlock --raw)" (the session key stays in the environment, out of the history)',
  prepare(req) {
    const wanted = req.refs.map((r) => ({ ...r, ...bwItemField(r.ref, req.from) }));
    for (const w of wanted) if (!w.item || w.field === '') throw usageError(this, `${w.key}=${w.ref}: expected ITEM/FIELD, ITEM, or --from ITEM and a FIELD`);
    return (run) => {
      const status = runJson(this, run, { argv: bwStatusArgv() });
      const state = isObject(status) ? status.status : undefined;
      if (state === 'unauthenticated') throw new UserError('Bitwarden: bw is not logged in', 1, this.signIn);
      if (state === 'locked') throw new UserError('Bitwarden: the vault is locked (BW_SESSION is not set, or not the session of this login)', 1, this.signIn);
      if (state !== 'unlocked') throw new UserError(`Bitwarden: \`bw status\` says ${JSON.stringify(state)}, expected "unlocked"`);
      const email = isObject(status) ? status.userEmail : undefined;
      if (req.account && email !== req.account) {
        throw new UserError(`Bitwarden: bw is logged in as ${String(email)}, not ${req.account}`, 1, `bw logout, then bw login ${req.account}`);
      }
      runCall(this, run, { argv: bwSyncArgv() });
      const values: Record<string, string> = {};
      for (const [name, refs] of groupBy(wanted, (w) => w.item)) {
        const item = runJson(this, run, { argv: bwGetItemArgv(name) });
        if (!isObject(item)) throw new UserError(`Bitwarden: \`bw get item ${name}\` printed no item`);
        for (const r of refs) values[r.key] = fieldOf(item, name, r.field);
      }
      return values;
    };
  },
};
