import { persistenceCases } from "./_support/persistence_cases.ts";

// The same cases with the page capture off: commits by export() + diff, catch-ups by reloading.
persistenceCases("export-diff");
