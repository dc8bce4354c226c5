/** A mistake in how the CLI was called: its message and the usage on stderr, exit code 2. */
export class UsageError extends Error {}
