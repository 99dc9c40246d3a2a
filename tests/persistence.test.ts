import { persistenceCases } from "./_support/persistence_cases.ts";

persistenceCases("page-capture");
