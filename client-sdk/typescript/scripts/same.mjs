// Fails when the committed generated file differs from a fresh generation.
import { readFileSync, rmSync } from "node:fs";
const [committed, fresh] = process.argv.slice(2);
const same = readFileSync(committed, "utf8") === readFileSync(fresh, "utf8");
rmSync(fresh);
if (!same) {
  console.error(`${committed} is not what openapi/openapi.json generates: run npm run generate`);
  process.exit(1);
}
