// Failure types shared by activities (which raise them) and workflows (whose retry
// policies must not retry them). Plain data: safe to import into workflow code.

/** No retry can fix these: the operator must act (trust a host key, fix config, fix the host). */
export const NON_RETRYABLE_FAILURES = ['HostKeyError', 'SshAuthError', 'PreconditionFailed', 'ConfigError'];
