// The reference browser client: cookie sessions with CSRF through the SDK, Today, tasks,
// Smart Add with preview and confirm, the day's calendar events and the calendar connection,
// notifications (web push, the morning recap), data export
// and account deletion.
import { createClient, ProblemError, type Schemas } from "@minime/sdk";

const api = import.meta.env.VITE_MINIME_API ?? "http://127.0.0.1:8080";
const client = createClient({ baseUrl: api, mode: "cookie" });

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const say = (text: string, error = false) => {
  const m = $("message");
  m.textContent = text;
  m.className = error ? "error" : "";
};
const fail = (e: unknown) => say(e instanceof ProblemError ? e.problem.detail : String(e), true);
const field = (form: HTMLFormElement, name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;

let previewId: string | null = null;

function li(text: string, className = ""): HTMLLIElement {
  const item = document.createElement("li");
  item.textContent = text;
  item.className = className;
  return item;
}

async function renderTasks(): Promise<void> {
  const list = $("tasks");
  list.replaceChildren();
  for await (const task of client.tasks.list({ limit: 50 })) {
    const item = li("", task.status === "done" ? "done" : "");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = task.status === "done";
    box.setAttribute("aria-label", `Complete ${task.title}`);
    box.addEventListener("change", () => void complete(task));
    const title = document.createElement("span");
    title.textContent = ` ${task.title} `;
    title.dataset.title = task.title;
    const edit = document.createElement("button");
    edit.textContent = "Rename";
    edit.addEventListener("click", () => void rename(task));
    item.append(box, title, edit);
    list.append(item);
  }
}

async function complete(task: Schemas["Task"]): Promise<void> {
  try {
    await client.unwrap(client.api.POST("/v1/tasks/{id}/complete", { params: { path: { id: task.id } } }));
    await refresh();
  } catch (e) {
    fail(e);
  }
}

async function rename(task: Schemas["Task"]): Promise<void> {
  const title = prompt("New title", task.title);
  if (!title) return;
  try {
    await client.tasks.update(task.id, { title }, { ifMatch: task.version });
    await refresh();
  } catch (e) {
    fail(e);
  }
}

const clock = (at: string) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

async function renderToday(): Promise<void> {
  const today = await client.today();
  const events = $("events");
  events.replaceChildren(
    ...today.events.map((e) => {
      const when = e.all_day ? "All day" : `${clock(e.starts_at)}–${clock(e.ends_at)}`;
      const item = li(`📅 ${when} ${e.summary}`, e.status === "cancelled" ? "done" : "muted");
      item.dataset.event = e.uid;
      return item;
    }),
  );
  const list = $("today");
  list.replaceChildren();
  for (const r of today.recommendations) list.append(li(`${r.title} — ${r.reason}`));
  if (today.recommendations.length === 0) list.append(li("Nothing to recommend yet: add a task.", "muted"));
}

async function renderDevices(): Promise<void> {
  const { items } = await client.unwrap(client.api.GET("/v1/push/subscriptions"));
  const list = $("devices");
  list.replaceChildren();
  for (const device of items) {
    const item = li(`${device.device} `);
    item.dataset.device = device.id;
    const remove = document.createElement("button");
    remove.textContent = "Stop notifying";
    remove.addEventListener("click", async () => {
      try {
        await client.unwrap(client.api.DELETE("/v1/push/subscriptions/{id}", { params: { path: { id: device.id } } }));
        await renderDevices();
      } catch (e) {
        fail(e);
      }
    });
    item.append(remove);
    list.append(item);
  }
  if (items.length === 0) list.append(li("No browser is notified yet.", "muted"));
}

async function renderCalendar(): Promise<void> {
  const status = await client.unwrap(client.api.GET("/v1/integrations/calendar"));
  const text = status.connected
    ? `Connected to ${status.host}: ${status.event_count} events in the next ${status.days} days` +
      (status.last_sync_at ? `, read ${new Date(status.last_sync_at).toLocaleString()}` : "") +
      (status.last_error ? `. Last reading failed: ${status.last_error}` : ".")
    : "No calendar is connected.";
  $("calendar-status").textContent = text;
  $("calendar-status").dataset.connected = String(status.connected);
  $("calendar-sync").hidden = !status.connected;
  $("calendar-disconnect").hidden = !status.connected;
}

$("calendar").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    await client.unwrap(client.api.PUT("/v1/integrations/calendar", { body: { url: field(form, "url") } }));
    form.reset();
    say("Calendar connected.");
    await Promise.all([renderCalendar(), renderToday()]);
  } catch (e) {
    fail(e);
  }
});

$("calendar-sync").addEventListener("click", async () => {
  try {
    await client.unwrap(client.api.POST("/v1/integrations/calendar/sync"));
    await Promise.all([renderCalendar(), renderToday()]);
  } catch (e) {
    fail(e);
    await renderCalendar();
  }
});

$("calendar-disconnect").addEventListener("click", async () => {
  try {
    await client.unwrap(client.api.DELETE("/v1/integrations/calendar"));
    say("Calendar disconnected: its address and events are deleted.");
    await Promise.all([renderCalendar(), renderToday()]);
  } catch (e) {
    fail(e);
  }
});

async function renderRecap(): Promise<void> {
  const settings = await client.unwrap(client.api.GET("/v1/settings"));
  const form = $("recap") as HTMLFormElement;
  (form.elements.namedItem("enabled") as HTMLInputElement).checked = settings.morning_recap;
  (form.elements.namedItem("at") as HTMLInputElement).value = settings.morning_recap_at.slice(0, 5);
}

/** The server's VAPID key (base64url) as the bytes `pushManager.subscribe` wants. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

$("push-subscribe").addEventListener("click", async () => {
  try {
    if ((await Notification.requestPermission()) !== "granted") return say("Notifications are blocked in this browser.", true);
    const registration = await navigator.serviceWorker.register("/sw.js");
    await navigator.serviceWorker.ready;
    const { public_key } = await client.unwrap(client.api.GET("/v1/push/vapid-public-key"));
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(public_key),
    });
    const json = subscription.toJSON();
    await client.unwrap(
      client.api.POST("/v1/push/subscriptions", {
        body: { endpoint: json.endpoint ?? "", keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" } },
      }),
    );
    say("This browser will be notified.");
    await renderDevices();
  } catch (e) {
    fail(e);
  }
});

$("push-test").addEventListener("click", async () => {
  try {
    await client.unwrap(client.api.POST("/v1/push/test-notifications"));
    say("A test notification is on its way.");
  } catch (e) {
    fail(e);
  }
});

$("recap").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    await client.unwrap(
      client.api.PATCH("/v1/settings", {
        body: {
          morning_recap: (form.elements.namedItem("enabled") as HTMLInputElement).checked,
          morning_recap_at: `${field(form, "at")}:00`,
        },
      }),
    );
    say("Morning recap saved.");
  } catch (e) {
    fail(e);
  }
});

async function refresh(): Promise<void> {
  const me = await client.me();
  $("who").textContent = me.email;
  ($("ai") as HTMLInputElement).checked = me.ai_enabled;
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  await Promise.all([renderTasks(), renderToday(), renderDevices(), renderRecap(), renderCalendar()]);
}

function signedOut(): void {
  $("signed-out").hidden = false;
  $("signed-in").hidden = true;
}

$("signup").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    await client.auth.signUp(field(form, "email"), field(form, "password"));
    say("Check your mail for the link to confirm your address.");
  } catch (e) {
    fail(e);
  }
});

$("signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    await client.auth.signIn(field(form, "email"), field(form, "password"));
    say("");
    await refresh();
  } catch (e) {
    fail(e);
  }
});

$("signout").addEventListener("click", async () => {
  try {
    await client.auth.signOut();
  } finally {
    signedOut();
    say("Signed out.");
  }
});

$("add").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    await client.tasks.create({ title: field(form, "title") });
    form.reset();
    await refresh();
  } catch (e) {
    fail(e);
  }
});

$("ai").addEventListener("change", async (ev) => {
  const enabled = (ev.target as HTMLInputElement).checked;
  try {
    await client.unwrap(client.api.PATCH("/v1/me", { body: { ai_enabled: enabled } }));
  } catch (e) {
    fail(e);
  }
});

$("smart").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    const preview = await client.unwrap(
      client.api.POST("/v1/ai/smart-add/previews", { body: { text: field(form, "text") } }),
    );
    previewId = preview.id;
    const drafts = (preview.proposal as { tasks?: { title: string; due_date?: string | null; due_time?: string | null }[] }).tasks ?? [];
    $("drafts").replaceChildren(
      ...drafts.map((d) => li([d.title, d.due_date, d.due_time].filter(Boolean).join(" · "))),
    );
    $("preview").hidden = false;
  } catch (e) {
    fail(e);
  }
});

$("confirm").addEventListener("click", async () => {
  if (!previewId) return;
  try {
    await client.unwrap(client.api.POST("/v1/ai/previews/{id}/confirm", { params: { path: { id: previewId } } }));
    $("preview").hidden = true;
    previewId = null;
    await refresh();
  } catch (e) {
    fail(e);
  }
});

$("discard").addEventListener("click", async () => {
  if (!previewId) return;
  await client.unwrap(client.api.DELETE("/v1/ai/previews/{id}", { params: { path: { id: previewId } } })).catch(fail);
  $("preview").hidden = true;
  previewId = null;
});

$("export").addEventListener("click", async () => {
  const res = await fetch(`${api}/v1/account/export`, { credentials: "include" });
  if (!res.ok) return say("The export failed.", true);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = "minime-export.json";
  a.click();
  URL.revokeObjectURL(url);
});

$("delete").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  if (!confirm("Delete your account and everything in it?")) return;
  try {
    await client.unwrap(client.api.DELETE("/v1/account", { body: { password: field(form, "password") } }));
    signedOut();
    say("Your account is deleted.");
  } catch (e) {
    fail(e);
  }
});

// The link in the verification mail lands here: /verify-email?token=…
async function start(): Promise<void> {
  const token = new URLSearchParams(location.search).get("token");
  if (location.pathname === "/verify-email" && token) {
    try {
      await client.auth.verifyEmail(token);
      say("Address confirmed. Sign in.");
    } catch (e) {
      fail(e);
    }
    history.replaceState(null, "", "/");
  }
  try {
    await refresh();
  } catch {
    signedOut();
  }
}

void start();
