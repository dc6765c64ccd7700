// How the embedded dev server keeps its SQLite history (temporal-dev.sh passes the same list).
// A write-ahead log with each commit synced is as durable as SQLite's default journal, which
// syncs both the journal and the database on every commit: a workflow step costs Temporal about
// 4 ms less here (docs/measurements.md).
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=full'] as const;

/** `--sqlite-pragma` arguments for `temporal server start-dev --db-filename`. */
export const sqlitePragmaFlags = (): string[] => SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]);
