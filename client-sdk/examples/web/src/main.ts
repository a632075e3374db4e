// The reference browser client: cookie sessions with CSRF through the SDK, Today, tasks,
// Smart Add with preview and confirm, the day's calendar events and the calendar connection,
// notifications (web push, the morning recap), the business (its profile, clients, jobs, and
// invoices: issued, downloaded as PDF, paid), data export and account deletion.
import { createClient, ProblemError, type Problem, type Schemas } from "@minime/sdk";

const api = import.meta.env.VITE_MINIME_API ?? "http://127.0.0.1:8080";
const client = createClient({ baseUrl: api, mode: "cookie" });

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const say = (text: string, error = false) => {
  const m = $("message");
  m.textContent = text;
  m.className = error ? "error" : "";
};
/** A problem's detail, then each invalid field it names that the detail does not already say. */
const problemText = (p: Problem) =>
  [p.detail, ...(p.errors ?? []).map((f) => `${f.field}: ${f.message}`).filter((m) => m !== p.detail)].join(" · ");
const fail = (e: unknown) => say(e instanceof ProblemError ? problemText(e.problem) : String(e), true);
const field = (form: HTMLFormElement, name: string) =>
  (form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement).value;

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

// The business. Money is integer pence on the wire, shown and typed in pounds.
const gbp = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });
const gbpUnit = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", maximumFractionDigits: 4 });
const money = (pence: number) => gbp.format(pence / 100);

/** Pounds as typed ("250", "£1,250.50") in pence, or null when the text is not an amount. */
function toPence(text: string): number | null {
  const m = /^£?(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text.trim().replace(/,/g, ""));
  return m ? Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0")) : null;
}

/** Every item of a listing, page after page. */
async function every<T>(page: (cursor?: string) => Promise<{ items: T[]; next_cursor?: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    items.push(...p.items);
    cursor = p.next_cursor ?? undefined;
  } while (cursor);
  return items;
}

function span(text: string, name: string, tag: "span" | "strong" = "span"): HTMLElement {
  const s = document.createElement(tag);
  s.textContent = text;
  s.dataset.field = name;
  return s;
}

function button(text: string, onClick: () => Promise<void>): HTMLButtonElement {
  const b = document.createElement("button");
  b.textContent = text;
  b.addEventListener("click", () => void onClick());
  return b;
}

function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/** The profile's ETag as last read or saved; null until there is a profile. */
let profileEtag: string | null = null;
let clientNames = new Map<string, string>();

function showProfile(profile: Schemas["BusinessProfile"], etag: string | null): void {
  profileEtag = etag;
  const form = $("business") as HTMLFormElement;
  const input = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
  input("business_name").value = profile.business_name;
  (form.elements.namedItem("address_lines") as HTMLTextAreaElement).value = profile.address_lines.join("\n");
  input("postcode").value = profile.postcode ?? "";
  input("vat_registered").checked = profile.vat_registered;
  input("vrn").value = profile.vrn ?? "";
  input("vrn").disabled = !profile.vat_registered;
  input("payment_terms_days").value = String(profile.payment_terms_days);
  const status = $("business-status");
  status.textContent =
    `Invoices come from ${profile.business_name}` +
    (profile.vat_registered ? `, VAT number ${profile.vrn}` : ", not VAT registered") +
    `, due in ${profile.payment_terms_days} days.`;
  status.dataset.saved = "true";
}

async function renderProfile(): Promise<void> {
  const call = client.api.GET("/v1/business/profile");
  try {
    showProfile(await client.unwrap(call), (await call).response.headers.get("etag"));
  } catch (e) {
    if (!(e instanceof ProblemError && e.status === 404)) throw e;
    profileEtag = null;
    $("business-status").textContent = "No business profile yet: save one before invoicing.";
    $("business-status").dataset.saved = "false";
  }
}

((($("business") as HTMLFormElement).elements.namedItem("vat_registered")) as HTMLInputElement).addEventListener("change", (ev) => {
  const vrn = ($("business") as HTMLFormElement).elements.namedItem("vrn") as HTMLInputElement;
  vrn.disabled = !(ev.target as HTMLInputElement).checked;
});

$("business").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  const vat = (form.elements.namedItem("vat_registered") as HTMLInputElement).checked;
  const body = {
    business_name: field(form, "business_name"),
    address_lines: field(form, "address_lines").split("\n").map((l) => l.trim()).filter(Boolean),
    postcode: field(form, "postcode").trim() || null,
    vat_registered: vat,
    vrn: vat ? field(form, "vrn").trim() || null : null,
    payment_terms_days: Number(field(form, "payment_terms_days")),
  };
  try {
    // The first save creates the profile; later ones change only the fields of this form (a
    // merge patch, so what it does not show, such as bank details, stays) and only if nothing
    // changed it since it was read.
    const call =
      profileEtag === null
        ? client.api.PUT("/v1/business/profile", { body })
        : client.api.PATCH("/v1/business/profile", { body, params: { header: { "If-Match": profileEtag } } });
    showProfile(await client.unwrap<Schemas["BusinessProfile"]>(call), (await call).response.headers.get("etag"));
    say("Business profile saved.");
  } catch (e) {
    fail(e);
  }
});

async function renderClients(): Promise<void> {
  const clients = await every((cursor) =>
    client.unwrap(client.api.GET("/v1/clients", { params: { query: { limit: 200, cursor } } })),
  );
  clientNames = new Map(clients.map((c) => [c.id, c.name]));
  const list = $("clients");
  list.replaceChildren(
    ...clients.map((c) => {
      const address = c.address?.split("\n").map((l) => l.trim()).filter(Boolean).join(", ");
      const item = li([c.name, c.email, address, c.archived ? "archived" : ""].filter(Boolean).join(" · "));
      item.dataset.client = c.id;
      return item;
    }),
  );
  if (clients.length === 0) list.append(li("No clients yet.", "muted"));
  const select = ($("job") as HTMLFormElement).elements.namedItem("client_id") as HTMLSelectElement;
  const chosen = select.value;
  const open = clients.filter((c) => !c.archived);
  select.replaceChildren(
    ...(open.length ? open.map((c) => new Option(c.name, c.id)) : [new Option("Add a client first", "")]),
  );
  if (open.some((c) => c.id === chosen)) select.value = chosen;
}

$("client").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    await client.unwrap(
      client.api.POST("/v1/clients", {
        body: {
          name: field(form, "name"),
          address: field(form, "address").trim() || null,
          email: field(form, "email").trim() || null,
        },
      }),
    );
    form.reset();
    say("Client added.");
    await renderClients();
  } catch (e) {
    fail(e);
  }
});

/** A job as listed. */
type Job = Schemas["Page_BusinessJob"]["items"][number];
const feeUnits: Record<string, string> = { daily: "days", hourly: "hours", fixed: "× fixed fee" };

async function renderJobs(): Promise<void> {
  const jobs = await every((cursor) =>
    client.unwrap(client.api.GET("/v1/business-jobs", { params: { query: { limit: 200, cursor } } })),
  );
  const list = $("jobs");
  list.replaceChildren(
    ...jobs.map((job) => {
      const item = li(
        `${job.title} for ${clientNames.get(job.client_id) ?? "a client"}: ` +
          `${job.quantity} ${feeUnits[job.fee_kind] ?? job.fee_kind} at ${money(job.rate_pence)} · ${job.status.replace("_", " ")} `,
      );
      item.dataset.job = job.id;
      item.append(button("Invoice this job", () => invoiceJob(job)));
      return item;
    }),
  );
  if (jobs.length === 0) list.append(li("No jobs yet.", "muted"));
}

$("job").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  const rate = toPence(field(form, "rate"));
  if (rate === null) return say("Enter the rate in pounds, like 250 or 37.50.", true);
  try {
    await client.unwrap(
      client.api.POST("/v1/business-jobs", {
        body: {
          client_id: field(form, "client_id"),
          title: field(form, "title"),
          fee_kind: field(form, "fee_kind") as Schemas["BusinessJob"]["fee_kind"],
          quantity: field(form, "quantity").trim(),
          rate_pence: rate,
        },
      }),
    );
    (form.elements.namedItem("title") as HTMLInputElement).value = "";
    say("Job added.");
    await renderJobs();
  } catch (e) {
    fail(e);
  }
});

async function invoiceJob(job: Job): Promise<void> {
  try {
    // No lines: the server makes the one line from the job, VAT as the business's registration says.
    await client.unwrap(client.api.POST("/v1/invoices", { body: { client_id: job.client_id, job_id: job.id } }));
    say(`A draft invoice for ${job.title} is ready to check and issue.`);
    await Promise.all([renderInvoices(), renderJobs()]);
  } catch (e) {
    fail(e);
  }
}

/** An invoice as listed. */
type Invoice = Schemas["Page_Invoice"]["items"][number];

const vatRates: Record<Schemas["VatRate"], string> = {
  standard: "standard-rate VAT",
  reduced: "reduced-rate VAT",
  zero: "zero-rated",
  exempt: "exempt from VAT",
  outside_scope: "outside the scope of VAT",
  reverse_charge: "reverse charge",
};

function invoiceItem(inv: Invoice): HTMLLIElement {
  const item = li("", "invoice");
  item.dataset.invoice = inv.id;
  item.dataset.status = inv.status;
  const head = document.createElement("p");
  head.append(
    span(inv.number ?? "Draft", "number", "strong"),
    ` · ${inv.title} to ${inv.customer?.name ?? clientNames.get(inv.client_id) ?? "a client"} · `,
    span(inv.status.replace("_", " "), "status"),
    inv.due_date ? ` · due ${inv.due_date}` : "",
    inv.overdue ? " · overdue" : "",
  );
  const lines = document.createElement("ul");
  lines.append(
    ...inv.lines.map((l) => {
      const line = li(
        `${l.description}: ${l.quantity} × ${gbpUnit.format(Number(l.unit_price))}` +
          (l.price_includes_vat ? " incl. VAT" : "") +
          (l.vat_rate ? `, ${vatRates[l.vat_rate]}` : "") +
          ` · ${money(l.net_pence)}` +
          (inv.vat_registered ? ` + ${money(l.vat_pence)} VAT` : ""),
      );
      line.dataset.line = "";
      return line;
    }),
  );
  const totals = document.createElement("p");
  totals.append("Net ", span(money(inv.totals.net_pence), "net"), " · VAT ", span(money(inv.totals.vat_pence), "vat"));
  if (inv.totals.reverse_charge_vat_pence)
    totals.append(" · reverse charge VAT for the customer to account for ", span(money(inv.totals.reverse_charge_vat_pence), "reverse-charge-vat"));
  totals.append(" · Total ", span(money(inv.totals.total_pence), "total", "strong"));
  const owed = document.createElement("p");
  owed.append("Paid ", span(money(inv.paid_pence), "paid"));
  if (inv.credited_pence) owed.append(" · Credited ", span(money(inv.credited_pence), "credited"));
  owed.append(" · Balance ", span(money(inv.balance_pence), "balance", "strong"));
  const actions = document.createElement("p");
  if (inv.status === "draft") actions.append(button("Issue", () => issue(inv)), " ");
  actions.append(button("Download PDF", () => downloadPdf(inv)));
  item.append(head, lines, totals, owed, actions);
  if (inv.status === "issued" || inv.status === "partly_paid") item.append(paymentForm(inv));
  return item;
}

function paymentForm(inv: Invoice): HTMLFormElement {
  const form = document.createElement("form");
  const amount = document.createElement("input");
  amount.name = "amount";
  amount.inputMode = "decimal";
  amount.size = 9;
  amount.placeholder = "£ amount";
  amount.required = true;
  amount.setAttribute("aria-label", `Amount paid on ${inv.number ?? "this invoice"} in pounds`);
  const record = document.createElement("button");
  record.textContent = "Record payment";
  form.append(amount, record);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const pence = toPence(amount.value);
    if (pence === null) return say("Enter the amount in pounds, like 200 or 199.99.", true);
    try {
      await client.unwrap(
        client.api.POST("/v1/invoices/{id}/payments", { params: { path: { id: inv.id } }, body: { amount_pence: pence } }),
      );
      say(`${money(pence)} paid on ${inv.number} recorded.`);
      await renderInvoices();
    } catch (e) {
      fail(e);
    }
  });
  return form;
}

async function issue(inv: Invoice): Promise<void> {
  try {
    const issued = await client.unwrap(
      client.api.POST("/v1/invoices/{id}/issue", {
        params: { path: { id: inv.id }, header: { "If-Match": `"${inv.version}"` } },
        body: {},
      }),
    );
    say(`Issued as ${issued.number}: from now on it never changes.`);
    await Promise.all([renderInvoices(), renderJobs()]);
  } catch (e) {
    fail(e);
  }
}

async function downloadPdf(inv: Invoice): Promise<void> {
  try {
    const call = client.api.GET("/v1/invoices/{id}/pdf", { params: { path: { id: inv.id } }, parseAs: "blob" });
    const pdf = await client.unwrap(call);
    const disposition = (await call).response.headers.get("content-disposition") ?? "";
    saveFile(pdf, /filename="([^"]+)"/.exec(disposition)?.[1] ?? `${inv.number ?? "draft-invoice"}.pdf`);
  } catch (e) {
    fail(e);
  }
}

async function renderInvoices(): Promise<void> {
  const invoices = await every((cursor) =>
    client.unwrap(client.api.GET("/v1/invoices", { params: { query: { limit: 200, cursor } } })),
  );
  const list = $("invoices");
  list.replaceChildren(...invoices.map(invoiceItem));
  if (invoices.length === 0) list.append(li("No invoices yet: invoice a job.", "muted"));
}

async function renderBusiness(): Promise<void> {
  // Jobs and invoices name their clients.
  await Promise.all([renderProfile(), renderClients().then(() => Promise.all([renderJobs(), renderInvoices()]))]);
}

async function refresh(): Promise<void> {
  const me = await client.me();
  $("who").textContent = me.email;
  ($("ai") as HTMLInputElement).checked = me.ai_enabled;
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  await Promise.all([renderTasks(), renderToday(), renderDevices(), renderRecap(), renderCalendar(), renderBusiness()]);
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
  saveFile(await res.blob(), "minime-export.json");
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
