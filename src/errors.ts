/**
 * An error the user can fix (bad config, missing key, wrong flag). The CLI prints its
 * message without a stack trace and exits with `exitCode`: 2 for invalid input
 * (config, arguments), 1 for everything else.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Invalid configuration or arguments: exit 2, before anything remote happens. */
export class ConfigError extends UserError {
  constructor(
    readonly problems: string[],
    readonly file?: string,
  ) {
    super(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      2,
    );
    this.name = 'ConfigError';
  }
}
