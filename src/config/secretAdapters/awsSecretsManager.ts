// AWS Secrets Manager, through the AWS CLI v2 `aws secretsmanager get-secret-value`
// (https://docs.aws.amazon.com/cli/latest/reference/secretsmanager/get-secret-value.html): it
// prints {"ARN", "Name", "VersionId", "SecretString", …}; a SecretString that is a JSON object
// holds several values, picked as SECRET#KEY. Credentials come from the profile (--account) or
// the environment. Exit codes (https://docs.aws.amazon.com/cli/latest/topic/return-codes.html):
// 253 no credentials or configuration, 254 an error of the service (ResourceNotFoundException…).
import { UserError } from '../../errors';
import { asText, groupBy, isObject, runJson, usageError } from './common';
import type { SecretAdapter } from './types';

export function awsGetSecretArgv(secretId: string, profile?: string): string[] {
  return ['aws', 'secretsmanager', 'get-secret-value', '--secret-id', secretId, '--output', 'json', ...(profile ? ['--profile', profile] : [])];
}

/** The secret and, for a JSON secret, the key in it: KEY of the --from secret, SECRET#KEY, or SECRET. */
export function awsSecretKey(ref: string, from?: string): { secret: string; jsonKey?: string } {
  if (from) return { secret: from, jsonKey: ref };
  const hash = ref.lastIndexOf('#');
  return hash > 0 ? { secret: ref.slice(0, hash), jsonKey: ref.slice(hash + 1) } : { secret: ref };
}

export const awsSecretsManager: SecretAdapter = {
  name: 'aws',
  title: 'AWS Secrets Manager',
  cli: 'aws',
  docs: 'https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html',
  account: "the AWS CLI profile (--profile); the region is the profile's or AWS_REGION",
  from: 'the SECRET (name or ARN) whose SecretString is a JSON object of values',
  ref: 'a key of the --from secret, SECRET#KEY for a key of a JSON secret, or SECRET for its whole SecretString',
  signedOut:
    /Unable to locate credentials|ExpiredToken|security token included in the request is (invalid|expired)|Token has expired|sso session|UnrecognizedClientException|InvalidClientTokenId/i,
  signIn: 'sign in: aws sso login (--profile PROFILE), or AWS credentials in the environment',
  prepare(req) {
    const wanted = req.refs.map((r) => ({ ...r, ...awsSecretKey(r.ref, req.from) }));
    for (const w of wanted)
      if (!w.secret || w.jsonKey === '') throw usageError(this, `${w.key}=${w.ref}: expected SECRET, SECRET#KEY, or --from SECRET and a KEY`);
    return (run) => {
      const values: Record<string, string> = {};
      for (const [secret, refs] of groupBy(wanted, (w) => w.secret)) {
        const out = runJson(this, run, { argv: awsGetSecretArgv(secret, req.account) });
        const text = isObject(out) ? out.SecretString : undefined;
        if (typeof text !== 'string') throw new UserError(`AWS Secrets Manager: ${secret} holds no SecretString (a binary secret is not text)`);
        let object: Record<string, unknown> | undefined;
        for (const r of refs) {
          if (r.jsonKey === undefined) {
            values[r.key] = text;
            continue;
          }
          try {
            object ??= JSON.parse(text) as Record<string, unknown>;
          } catch {
            object = undefined;
          }
          if (!isObject(object))
            throw new UserError(`AWS Secrets Manager: ${secret} is not a JSON object, so it has no key ${r.jsonKey}`, 1, `take it whole: ${r.key}=${secret}`);
          if (!Object.hasOwn(object, r.jsonKey)) throw new UserError(`AWS Secrets Manager: ${secret} has no key ${r.jsonKey}`);
          values[r.key] = asText(object[r.jsonKey]);
        }
      }
      return values;
    };
  },
};
