"""arq workers: `WorkerSettings` and thin job functions that load state and call `gateway.core`."""
