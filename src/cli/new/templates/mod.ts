/**
 * The templates of `db-router new`, by name.
 *
 * @module
 */
import type { TemplateContext, TemplateName } from "../names.ts";
import { basicModule, basicTest } from "./basic.ts";
import { ftsModule, ftsTest } from "./fts.ts";
import { vectorModule, vectorTest } from "./vector.ts";

/** A template: the text of the module and of its test file. */
export interface Template {
  /** One line for `--help`. */
  summary: string;
  module(ctx: TemplateContext): string;
  test(ctx: TemplateContext): string;
}

/**
 * Every template; the first is the default.
 *
 * @example
 * ```ts
 * import { TEMPLATES } from "./mod.ts";
 * Object.keys(TEMPLATES); // ["basic", "fts", "vector"]
 * ```
 */
export const TEMPLATES: Readonly<Record<TemplateName, Template>> = Object.freeze({
  basic: {
    summary: "named rows with a JSON payload",
    module: basicModule,
    test: basicTest,
  },
  fts: {
    summary: "titled texts with an FTS4 full-text index kept in sync by triggers",
    module: ftsModule,
    test: ftsTest,
  },
  vector: {
    summary: "embeddings as Float32 BLOBs, ranked by a cosine_similarity() SQL function",
    module: vectorModule,
    test: vectorTest,
  },
});
