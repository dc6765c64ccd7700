// Custom search attributes: how deploys are found in the Web UI and by `alcaide history`
// without decoding any payload. temporal-dev.sh registers the same list.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  app: defineSearchAttributeKey('app', SearchAttributeType.KEYWORD),
  destination: defineSearchAttributeKey('destination', SearchAttributeType.KEYWORD),
  version: defineSearchAttributeKey('version', SearchAttributeType.KEYWORD),
  slot: defineSearchAttributeKey('slot', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_KEYS = Object.values(SEARCH_ATTRIBUTES);

/** `--search-attribute` arguments for `temporal server start-dev` / `operator search-attribute create`. */
export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTE_KEYS.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);
}
