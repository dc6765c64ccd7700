// Custom search attributes: how deploys are found in the Web UI and by `alcaide history`
// without decoding any payload. temporal-dev.sh registers the same list.
import { defineSearchAttributeKey, SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  app: defineSearchAttributeKey('app', SearchAttributeType.KEYWORD),
  destination: defineSearchAttributeKey('destination', SearchAttributeType.KEYWORD),
  version: defineSearchAttributeKey('version', SearchAttributeType.KEYWORD),
  slot: defineSearchAttributeKey('slot', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_KEYS = Object.values(SEARCH_ATTRIBUTES);

/** What every workflow of an app is found by: the app and its destination (`default` without one); a deploy adds its version. */
export function appSearchAttributes(t: { app: string; destination?: string }, version?: string): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: SEARCH_ATTRIBUTES.app, value: t.app },
    { key: SEARCH_ATTRIBUTES.destination, value: t.destination ?? 'default' },
    ...(version ? [{ key: SEARCH_ATTRIBUTES.version, value: version }] : []),
  ]);
}

/** `--search-attribute` arguments for `temporal server start-dev` / `operator search-attribute create`. */
export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTE_KEYS.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);
}
