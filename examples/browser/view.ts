/**
 * DOM helpers of the browser demo: no framework, text only (never HTML from
 * data), so a bot named `<script>` shows as that text.
 *
 * @module
 */

/**
 * The element with `id`; throws when the page lacks it.
 *
 * @example
 * ```ts ignore
 * byId<HTMLInputElement>("bot-name").value;
 * ```
 */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new TypeError(`Cannot find element "#${id}" in the page`);
  return element as T;
}

/**
 * Replaces the rows of the table body `id` with `rows`, one cell per value;
 * `highlight` picks cells to emphasise (by row and column index).
 *
 * @example
 * ```ts ignore
 * fillRows("bots", [[1, "scraper", "alpha"]]);
 * ```
 */
export function fillRows(
  id: string,
  rows: readonly (readonly unknown[])[],
  highlight: (row: number, column: number) => boolean = () => false,
  empty = "nothing yet",
): void {
  const body = byId<HTMLTableSectionElement>(id);
  const columns = body.closest("table")?.querySelectorAll("th").length ?? 1;
  const lines = rows.map((values, r) => {
    const tr = document.createElement("tr");
    values.forEach((value, c) => {
      const td = tr.insertCell();
      td.textContent = value === null || value === undefined ? "" : String(value);
      if (highlight(r, c)) td.className = "mine";
    });
    return tr;
  });
  if (lines.length === 0) {
    const tr = document.createElement("tr");
    const td = tr.insertCell();
    td.colSpan = columns;
    td.className = "muted";
    td.textContent = empty;
    lines.push(tr);
  }
  body.replaceChildren(...lines);
}

/**
 * Calls `handler` with the trimmed text of `input` when `form` is submitted,
 * then clears the input.
 *
 * @example
 * ```ts ignore
 * onSubmit("bot-form", "bot-name", (name) => router.insert("bots", { name }));
 * ```
 */
export function onSubmit(
  form: string,
  input: string,
  handler: (text: string) => Promise<void>,
): void {
  byId<HTMLFormElement>(form).addEventListener("submit", (event) => {
    event.preventDefault();
    const field = byId<HTMLInputElement>(input);
    const text = field.value.trim();
    if (text.length === 0) return;
    field.value = "";
    void handler(text);
  });
}

/**
 * Shows `error` in the page's error line (its code first for a `RouterError`),
 * or clears the line.
 *
 * @example
 * ```ts ignore
 * showError(new RouterError("STORAGE_QUOTA", "Cannot save ..."));
 * ```
 */
export function showError(error?: unknown): void {
  const code = (error as { code?: string } | undefined)?.code;
  const message = error instanceof Error ? error.message : error ? String(error) : "";
  byId("error").textContent = code ? `${code}: ${message}` : message;
}
