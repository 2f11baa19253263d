// Imported first by a test file that needs the SDK's real retry back-off (1, 2, 4... s plus
// jitter) instead of the harness's 50 ms: ESM evaluates this module before server.mjs,
// which reads the variable once.
process.env.TRESOR_INTEROP_REAL_BACKOFF = "1";
