// Imported first by tests that render CLI output in-process: picocolors decides once, when it
// loads, and colours output whenever CI is set (as on CI machines), so NO_COLOR must be set before.
process.env.NO_COLOR = '1';
