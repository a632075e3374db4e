// The SDK against a live server (started by scripts/sdk): sign-up through the mail outbox,
// sign-in, CRUD, pagination, ETag conflicts, typed problems, refresh and idempotent retries.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { createClient, ProblemError } from "../src/index.js";

const baseUrl = process.env.MINIME_BASE_URL ?? "http://127.0.0.1:8080";
const mailDir = process.env.MINIME_MAIL_DIR ?? ".data/mail";
const password = "tangerine-Orbit-4417-lamp";

/** The token in the newest mail to `address` (quoted-printable decoded). */
async function mailToken(address: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const mails = readdirSync(mailDir)
      .filter((f) => f.endsWith(".eml"))
      .map((f) => readFileSync(join(mailDir, f), "utf8"))
      .filter((m) => m.includes(`To: ${address}`));
    const last = mails.at(-1);
    if (last) {
      const decoded = last.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      const token = /token=([\w-]+)/.exec(decoded)?.[1];
      if (token) return token;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${address}`);
}

async function signedIn(name: string) {
  const email = `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const client = createClient({ baseUrl });
  await client.auth.signUp(email, password);
  await client.auth.verifyEmail(await mailToken(email));
  await client.auth.signIn(email, password);
  return { client, email };
}

test("sign up, verify by mail, sign in, read the profile", async () => {
  const { client, email } = await signedIn("ada");
  const me = await client.me();
  assert.equal(me.email, email);
  assert.equal(me.email_verified, true);
  assert.ok(client.tokens.accessToken && client.tokens.refreshToken);
});

test("CRUD on tasks, projects and areas, with typed problems", async () => {
  const { client } = await signedIn("crud");
  const area = await client.areas.create({ name: "Health" });
  const project = await client.projects.create({ title: "Run a 10k", area_id: area.id });
  const task = await client.tasks.create({ title: "Buy shoes", project_id: project.id, priority: 2 });
  assert.equal((await client.tasks.get(task.id)).title, "Buy shoes");
  const renamed = await client.tasks.update(task.id, { title: "Buy running shoes" }, { ifMatch: task.version });
  assert.equal(renamed.title, "Buy running shoes");
  assert.equal(renamed.version, task.version + 1);

  // A stale version is refused: 412 with its stable type.
  await assert.rejects(client.tasks.update(task.id, { title: "Lost update" }, { ifMatch: task.version }), (e: unknown) => {
    assert.ok(e instanceof ProblemError);
    assert.equal(e.status, 412);
    assert.equal(e.type, "/problems/precondition-failed");
    return true;
  });
  // Field errors name the field.
  await assert.rejects(client.tasks.create({ title: "", priority: 9 }), (e: unknown) => {
    assert.ok(e instanceof ProblemError);
    assert.equal(e.type, "/problems/validation");
    const fields = (e.problem.errors ?? []).map((f) => f.field).sort();
    assert.deepEqual(fields, ["priority", "title"]);
    return true;
  });
  await client.tasks.delete(task.id);
  await assert.rejects(client.tasks.get(task.id), (e: unknown) => e instanceof ProblemError && e.status === 404);
  await client.projects.delete(project.id);
  await client.areas.delete(area.id);
});

test("cursor iteration walks every page once", async () => {
  const { client } = await signedIn("pages");
  const made = new Set<string>();
  for (let i = 0; i < 7; i++) made.add((await client.tasks.create({ title: `Task ${i}` })).id);
  const seen: string[] = [];
  for await (const t of client.tasks.list({ limit: 3 })) seen.push(t.id);
  assert.equal(seen.length, 7);
  assert.deepEqual(new Set(seen), made);
});

test("an expired access token is refreshed once for concurrent requests", async () => {
  const { client: first } = await signedIn("refresh");
  let refreshes = 0;
  const counting: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.endsWith("/v1/auth/refresh")) refreshes++;
    return fetch(input, init);
  };
  const client = createClient({
    baseUrl,
    fetch: counting,
    tokens: { accessToken: "expired.or.forged", refreshToken: first.tokens.refreshToken },
  });
  const results = await Promise.all([client.me(), client.me(), client.today(), client.me()]);
  assert.equal(results.length, 4);
  assert.equal(refreshes, 1);
  // The old refresh token was rotated: using it again ends the session (reuse detection).
  const stale = createClient({ baseUrl, tokens: { accessToken: "x", refreshToken: first.tokens.refreshToken } });
  await assert.rejects(stale.me(), (e: unknown) => e instanceof ProblemError && e.status === 401);
});

test("a create retried after a lost answer is applied once (Idempotency-Key)", async () => {
  const { client: owner } = await signedIn("retry");
  let calls = 0;
  // The first POST reaches the server, but its answer is "lost" on the way back.
  const flaky: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const req = input instanceof Request ? input : null;
    if (req?.method === "POST" && req.url.endsWith("/v1/tasks") && calls++ === 0) throw new TypeError("network error");
    return res;
  };
  const client = createClient({ baseUrl, fetch: flaky, tokens: owner.tokens });
  const task = await client.tasks.create({ title: "Exactly once" });
  const all: string[] = [];
  for await (const t of client.tasks.list()) all.push(t.title);
  assert.deepEqual(all, ["Exactly once"]);
  assert.equal(calls, 2);
  assert.equal(task.title, "Exactly once");
});
