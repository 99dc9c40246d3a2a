/**
 * The memory adapter against the shared storage cases.
 *
 * @module
 */
import { memoryStorage } from "../src/storage/memory.ts";
import { testStorageAdapter } from "./_support/storage_conformance.ts";

testStorageAdapter("memory", () => memoryStorage());
