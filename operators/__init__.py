"""Pure logic: no I/O, no clock reads, no randomness. Imports only `events` and the standard library."""
