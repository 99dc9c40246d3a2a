/**
 * `LoadedImage.verified`: an image that its storage proved against its own
 * checksums (OPFS does) opens without `PRAGMA quick_check`; the same image
 * from storage that did not prove it is checked and refused when damaged.
 *
 * @module
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, type RouterError } from "../mod.ts";
import { botsImage } from "./_support/bots_image.ts";
import { memoryStorage } from "../src/storage/memory.ts";
import type { StorageAdapter } from "../src/storage/types.ts";

/** Memory storage whose loads say `verified`. */
function claiming(verified: boolean, image: Uint8Array): StorageAdapter {
  const inner = memoryStorage({ initial: { "shared.db": image } });
  return {
    ...inner,
    async open(location) {
      const db = await inner.open(location);
      return Object.assign(Object.create(db), {
        load: async () => ({ ...(await db.load()), verified }),
      });
    },
  };
}

test("an image the storage proved opens without quick_check; unproved, the same damage is refused", async () => {
  const image = await botsImage();
  // An index page scribbled over: the header, the schema and the table still read; quick_check fails.
  image.fill(0x5a, image.length - 4096 + 8, image.length - 4096 + 600);
  const open = (verified: boolean) =>
    new DBRouter("alpha", "local.db", "shared.db", { storage: claiming(verified, image.slice()) });
  const unproved = open(false);
  const error = await unproved.ready().then(() => undefined, (e: RouterError) => e);
  assert.is(error?.code, "DATABASE_CORRUPT");
  await unproved.close();
  const proved = open(true);
  await proved.ready();
  const row = await proved.getConnection("bots", "read").get("SELECT count(*) AS n FROM bots");
  assert.is(row?.n, 500, "the table's own pages read fine; quick_check did not run");
  await proved.close();
});

test.run();
