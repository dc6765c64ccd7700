// Every secret adapter, by the name --adapter and secrets_from.adapter give (docs/secrets.md).
import { UserError } from '../../errors';
import { awsSecretsManager } from './awsSecretsManager';
import { bitwarden } from './bitwarden';
import { bitwardenSecretsManager } from './bitwardenSecretsManager';
import { commandAdapter } from './command';
import { doppler } from './doppler';
import { gcpSecretManager } from './gcpSecretManager';
import { lastPass } from './lastPass';
import { onePassword } from './onePassword';
import type { SecretAdapter } from './types';

export type { FetchRequest, RunVaultCli, SecretAdapter, SecretRef, VaultCall, VaultOutput, VaultValues } from './types';
export { vaultRunner } from './run';

export const SECRET_ADAPTERS: readonly SecretAdapter[] = [
  onePassword,
  bitwarden,
  bitwardenSecretsManager,
  awsSecretsManager,
  gcpSecretManager,
  doppler,
  lastPass,
  commandAdapter,
];

export const SECRET_ADAPTER_NAMES = SECRET_ADAPTERS.map((a) => a.name) as [string, ...string[]];

export function secretAdapter(name: string): SecretAdapter {
  const adapter = SECRET_ADAPTERS.find((a) => a.name === name);
  if (!adapter) throw new UserError(`unknown secret adapter ${JSON.stringify(name)}: expected one of ${SECRET_ADAPTER_NAMES.join(', ')}`, 2);
  return adapter;
}
