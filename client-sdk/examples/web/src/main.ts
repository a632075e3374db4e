// The reference browser client: cookie sessions with CSRF through the SDK, Today, tasks,
// Smart Add with preview and confirm, the day's calendar events and the calendar connection,
// notifications (web push, the morning recap), the business (its profile, clients, jobs,
// invoices: issued, downloaded as PDF, paid; expenses with their receipts; VAT settings and the
// VAT return of a period), passkeys (registered in the browser, used to sign in, or as the second
// step of a password sign-in), data export and account deletion.
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

/** The name a download's Content-Disposition offers: the exact `filename*` when there is one,
 * else the ASCII `filename`, else `fallback`. */
function offeredName(response: Response, fallback: string): string {
  const disposition = response.headers.get("content-disposition") ?? "";
  const exact = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (exact) {
    try {
      return decodeURIComponent(exact);
    } catch {
      // Not percent-encoding after all: the ASCII name is still there.
    }
  }
  return /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallback;
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
      await Promise.all([renderInvoices(), recountVat()]);
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
    await Promise.all([renderInvoices(), renderJobs(), recountVat()]);
  } catch (e) {
    fail(e);
  }
}

async function downloadPdf(inv: Invoice): Promise<void> {
  try {
    const call = client.api.GET("/v1/invoices/{id}/pdf", { params: { path: { id: inv.id } }, parseAs: "blob" });
    const pdf = await client.unwrap(call);
    saveFile(pdf, offeredName((await call).response, `${inv.number ?? "draft-invoice"}.pdf`));
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

/** An expense as listed. */
type Expense = Schemas["Page_Expense"]["items"][number];

// Every value of the API's enums must have a label here: tsc fails when the API adds one.
const categories: Record<Schemas["Category"], string> = {
  cost_of_goods: "Cost of goods",
  subcontractors: "Subcontractors",
  staff: "Staff costs",
  travel: "Car, van and travel",
  premises: "Rent, rates, power and insurance",
  repairs: "Repairs and maintenance",
  admin: "Phone, stationery and office",
  advertising: "Advertising",
  entertainment: "Business entertainment (not allowable)",
  interest: "Interest on loans",
  finance_charges: "Bank and finance charges",
  bad_debts: "Bad debts",
  professional_fees: "Accountancy and legal fees",
  depreciation: "Depreciation (not allowable)",
  other: "Other",
};
const paymentMethods: Record<Schemas["PaymentMethod"], string> = {
  card: "card",
  bank_transfer: "bank transfer",
  direct_debit: "direct debit",
  cash: "cash",
  cheque: "cheque",
  other: "other",
};

/** A day as the API writes dates, in the browser's own calendar. */
const isoDate = (d: Date) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

const expenseForm = $("expense") as HTMLFormElement;
// The default, not just the value: reset() after each expense brings today back.
(expenseForm.elements.namedItem("spent_on") as HTMLInputElement).defaultValue = isoDate(new Date());
(expenseForm.elements.namedItem("payment_method") as HTMLSelectElement).append(
  ...Object.entries(paymentMethods).map(([value, label]) => new Option(label, value)),
);
// No category is chosen for the user: the required select refuses the form until one is.
(expenseForm.elements.namedItem("category") as HTMLSelectElement).append(
  new Option("Category…", ""),
  ...Object.entries(categories).map(([value, label]) => new Option(label, value)),
);

/** Stores `file` as a receipt. The body is the file's bytes as they are; the server tells the
 * kind from them, so the type is left as "bytes" rather than the browser's guess from the name,
 * which the server refuses whenever it disagrees with the content. */
async function uploadReceipt(file: File): Promise<Schemas["StoredFile"]> {
  return client.unwrap(
    client.api.POST("/v1/files", {
      params: { query: { purpose: "receipt", name: file.name } },
      // The generated type describes the bytes as a JSON array of numbers.
      body: file as unknown as number[],
      bodySerializer: (bytes) => bytes,
      headers: { "Content-Type": "application/octet-stream" },
    }),
  );
}

async function renderExpenses(): Promise<void> {
  const expenses = await every((cursor) =>
    client.unwrap(client.api.GET("/v1/expenses", { params: { query: { limit: 200, cursor } } })),
  );
  const list = $("expenses");
  list.replaceChildren(
    ...expenses.map((expense) => {
      const { description, receipt_file_id: receipt } = expense;
      const item = li(
        `${expense.spent_on} · ${expense.supplier}${description ? ` — ${description}` : ""} · ${categories[expense.category]} · `,
      );
      item.dataset.expense = expense.id;
      item.append(
        span(money(expense.net_pence), "net"),
        " + ",
        span(money(expense.vat_pence), "vat"),
        expense.vat_reclaimable ? " reclaimable VAT = " : " VAT = ",
        span(money(expense.total_pence), "total", "strong"),
        ` · ${paymentMethods[expense.payment_method]}${expense.paid_on ? "" : ", unpaid"} `,
      );
      if (receipt) item.append(button("Download receipt", () => downloadReceipt(receipt)), " ");
      item.append(button("Delete", () => deleteExpense(expense)));
      return item;
    }),
  );
  if (expenses.length === 0) list.append(li("No expenses yet.", "muted"));
}

/** Receipts have no public address: the bytes come with this session's credentials and are
 * saved from memory. */
async function downloadReceipt(fileId: string): Promise<void> {
  try {
    const call = client.api.GET("/v1/files/{id}/content", { params: { path: { id: fileId } }, parseAs: "blob" });
    const receipt = await client.unwrap(call);
    saveFile(receipt, offeredName((await call).response, "receipt"));
  } catch (e) {
    fail(e);
  }
}

async function deleteExpense(expense: Expense): Promise<void> {
  if (!confirm(`Delete the expense from ${expense.supplier}${expense.receipt_file_id ? " and its receipt" : ""}?`)) return;
  try {
    await client.unwrap(
      client.api.DELETE("/v1/expenses/{id}", {
        params: { path: { id: expense.id }, header: { "If-Match": `"${expense.version}"` } },
      }),
    );
    say(`The expense from ${expense.supplier} is deleted${expense.receipt_file_id ? ", with its receipt" : ""}.`);
    await Promise.all([renderExpenses(), recountVat()]);
  } catch (e) {
    fail(e);
  }
}

$("expense").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  const net = toPence(field(form, "net"));
  const vat = field(form, "vat").trim() ? toPence(field(form, "vat")) : 0;
  if (net === null || vat === null) return say("Enter the amounts in pounds, like 45 or 9.99.", true);
  const method = field(form, "payment_method") as Schemas["PaymentMethod"];
  const file = (form.elements.namedItem("receipt") as HTMLInputElement).files?.[0];
  let receipt: Schemas["StoredFile"] | null = null;
  try {
    // The receipt first: the expense names the stored file.
    if (file) receipt = await uploadReceipt(file);
    await client.unwrap(
      client.api.POST("/v1/expenses", {
        body: {
          spent_on: field(form, "spent_on"),
          supplier: field(form, "supplier"),
          description: field(form, "description").trim() || null,
          category: field(form, "category") as Schemas["Category"],
          net_pence: net,
          vat_pence: vat,
          // With no VAT there is nothing to reclaim, whatever the box says.
          vat_reclaimable: vat > 0 && (form.elements.namedItem("vat_reclaimable") as HTMLInputElement).checked,
          payment_method: method,
          receipt_file_id: receipt?.id ?? null,
        },
      }),
    );
    form.reset();
    say(`Expense added${receipt ? `, its receipt kept as ${receipt.name}` : ""}.`);
    await Promise.all([renderExpenses(), recountVat()]);
  } catch (e) {
    // A receipt whose expense was refused would stay behind unlinked: it goes too.
    if (receipt) await client.unwrap(client.api.DELETE("/v1/files/{id}", { params: { path: { id: receipt.id } } })).catch(() => undefined);
    fail(e);
  }
});

// VAT: how the business accounts for it, and the return of a period computed from the issued
// invoices and the expenses. Boxes 1 to 5 are pence; 6 to 9 whole pounds, as HMRC has them.
const gbpWhole = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", minimumFractionDigits: 0, maximumFractionDigits: 0 });
const wholePoundBoxes = new Set(["box6", "box7", "box8", "box9"]);

/** The period whose return is shown, recomputed when what it counts changes; null when none is. */
let vatPeriod: { start: string; end: string } | null = null;
let sectors: Schemas["Sector"][] | null = null;

// The calendar quarter to begin with: HMRC may stagger a business's quarters, so the dates
// stay the user's to change.
const opened = new Date();
const quarter = Math.floor(opened.getMonth() / 3);
const vatReturnForm = $("vat-return") as HTMLFormElement;
(vatReturnForm.elements.namedItem("start") as HTMLInputElement).value = isoDate(new Date(opened.getFullYear(), 3 * quarter, 1));
(vatReturnForm.elements.namedItem("end") as HTMLInputElement).value = isoDate(new Date(opened.getFullYear(), 3 * quarter + 3, 0));

const percent = (basisPoints: number) => `${(basisPoints / 100).toLocaleString("en-GB")} %`;

function flatRateFields(form: HTMLFormElement): void {
  const flat = field(form, "scheme") === "flat_rate";
  (form.elements.namedItem("flat_rate_sector") as HTMLSelectElement).disabled = !flat;
  (form.elements.namedItem("registered_on") as HTMLInputElement).disabled = !flat;
}

function showVatSettings(settings: Schemas["VatSettings"]): void {
  const form = $("vat-settings") as HTMLFormElement;
  (form.elements.namedItem("scheme") as HTMLSelectElement).value = settings.scheme;
  (form.elements.namedItem("basis") as HTMLSelectElement).value = settings.basis;
  if (settings.flat_rate_sector) (form.elements.namedItem("flat_rate_sector") as HTMLSelectElement).value = settings.flat_rate_sector;
  (form.elements.namedItem("registered_on") as HTMLInputElement).value = settings.registered_on ?? "";
  flatRateFields(form);
  const basis = settings.basis === "cash" ? "cash accounting" : "invoice basis (accrual)";
  const sector = sectors?.find((s) => s.id === settings.flat_rate_sector);
  const rate = sector
    ? ` at ${percent(sector.basis_points)} (${sector.label})`
    : settings.flat_rate_bp != null
      ? ` at ${percent(settings.flat_rate_bp)}`
      : "";
  const status = $("vat-settings-status");
  status.textContent =
    settings.version === 0
      ? "No VAT settings saved: returns are worked out on the standard scheme, invoice basis (accrual)."
      : settings.scheme === "flat_rate"
        ? `Flat Rate Scheme${rate}, ${basis}, registered ${settings.registered_on}.`
        : `Standard scheme, ${basis}.`;
  status.dataset.saved = String(settings.version > 0);
}

async function renderVatSettings(): Promise<void> {
  const form = $("vat-settings") as HTMLFormElement;
  // HMRC's table is fixed: one read per page is enough.
  if (!sectors) {
    sectors = await client.unwrap(client.api.GET("/v1/business/flat-rate-sectors"));
    (form.elements.namedItem("flat_rate_sector") as HTMLSelectElement).replaceChildren(
      ...sectors.map((s) => new Option(`${s.label} (${percent(s.basis_points)})`, s.id)),
    );
  }
  showVatSettings(await client.unwrap(client.api.GET("/v1/business/vat-settings")));
}

((($("vat-settings") as HTMLFormElement).elements.namedItem("scheme")) as HTMLSelectElement).addEventListener("change", () =>
  flatRateFields($("vat-settings") as HTMLFormElement),
);

$("vat-settings").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  const flat = field(form, "scheme") === "flat_rate";
  try {
    const saved = await client.unwrap(
      client.api.PUT("/v1/business/vat-settings", {
        body: {
          scheme: field(form, "scheme") as Schemas["SchemeKind"],
          basis: field(form, "basis") as Schemas["Basis"],
          flat_rate_sector: flat ? field(form, "flat_rate_sector") || null : null,
          registered_on: flat ? field(form, "registered_on") || null : null,
        },
      }),
    );
    showVatSettings(saved);
    say("VAT settings saved.");
    await recountVat();
  } catch (e) {
    fail(e);
  }
});

const directions: Record<Schemas["Direction"], (box5: number) => string> = {
  payable: (box5) => `You pay HMRC ${money(box5)}`,
  repayable: (box5) => `HMRC repays you ${money(box5)}`,
  nil: () => "Nothing to pay or reclaim",
};

function showVatReturn(vatReturn: Schemas["VatReturn"] | null): void {
  const table = $("vat-boxes");
  table.hidden = vatReturn === null;
  $("vat-notes").replaceChildren(...(vatReturn?.notes ?? []).map((n) => li(n, "muted")));
  const summary = $("vat-summary");
  summary.replaceChildren();
  if (!vatReturn) return;
  const { period, boxes } = vatReturn;
  summary.append(
    `Period ${period.period_key}, ${period.start} to ${period.end} (a draft: nothing is sent to HMRC). `,
    span(directions[vatReturn.direction](boxes.box5), "direction", "strong"),
    ".",
  );
  for (const [box, value] of Object.entries(boxes)) {
    const cell = table.querySelector<HTMLElement>(`[data-box="${box}"]`);
    if (cell) cell.textContent = wholePoundBoxes.has(box) ? gbpWhole.format(value) : money(value);
  }
}

/** The shown return again, after something it counts changed. */
async function recountVat(): Promise<void> {
  if (!vatPeriod) return;
  showVatReturn(await client.unwrap(client.api.GET("/v1/business/vat-return", { params: { query: vatPeriod } })));
}

$("vat-return").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    const period = { start: field(form, "start"), end: field(form, "end") };
    showVatReturn(await client.unwrap(client.api.GET("/v1/business/vat-return", { params: { query: period } })));
    vatPeriod = period;
  } catch (e) {
    fail(e);
  }
});

async function renderBusiness(): Promise<void> {
  // Jobs and invoices name their clients.
  await Promise.all([
    renderProfile(),
    renderClients().then(() => Promise.all([renderJobs(), renderInvoices()])),
    renderExpenses(),
    renderVatSettings(),
    recountVat(),
  ]);
}

// WebAuthn in the browser: the API sends options in WebAuthn's JSON form and takes the
// credential's toJSON() back, so no binary juggling happens here.
type Options = { publicKey: Record<string, unknown> };

async function createPasskey(options: Options): Promise<Record<string, unknown>> {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(
    options.publicKey as unknown as PublicKeyCredentialCreationOptionsJSON,
  );
  const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (!credential) throw new Error("No passkey was made");
  return credential.toJSON() as unknown as Record<string, unknown>;
}

async function usePasskey(options: Options): Promise<Record<string, unknown>> {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(
    options.publicKey as unknown as PublicKeyCredentialRequestOptionsJSON,
  );
  const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
  if (!credential) throw new Error("No passkey answered");
  return credential.toJSON() as unknown as Record<string, unknown>;
}

const when = (at: string | null | undefined) => (at ? new Date(at).toLocaleString() : "never");

async function renderPasskeys(): Promise<void> {
  const { items } = await client.unwrap(client.api.GET("/v1/auth/passkeys"));
  const list = $("passkeys");
  list.replaceChildren();
  for (const key of items) {
    const state = key.possibly_cloned_at ? " · refused: it may have been copied" : "";
    const item = li(`${key.name} · added ${when(key.created_at)} · last used ${when(key.last_used_at)}${state} `);
    item.dataset.passkey = key.id;
    item.append(
      button("Remove", () =>
        client
          .unwrap(client.api.DELETE("/v1/auth/passkeys/{id}", { params: { path: { id: key.id } } }))
          .then(renderPasskeys)
          .catch(fail),
      ),
    );
    list.append(item);
  }
  if (items.length === 0) list.append(li("No passkey yet: add one to sign in without a password.", "muted"));
}

$("passkey-add").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  try {
    const started = await client.unwrap(client.api.POST("/v1/auth/passkeys/registration"));
    const credential = await createPasskey(started.options as Options);
    const done = await client.unwrap(
      client.api.POST("/v1/auth/passkeys", {
        body: { token: started.token, name: field(form, "name"), credential: credential as Record<string, never> },
      }),
    );
    form.reset();
    const codes = done.recovery_codes ?? [];
    $("recovery-codes").replaceChildren(...codes.map((c) => li(c)));
    say(codes.length ? "Passkey added. Keep these recovery codes somewhere safe: each works once." : "Passkey added.");
    await renderPasskeys();
  } catch (e) {
    fail(e);
  }
});

async function signInWithPasskey(email?: string): Promise<void> {
  const started = await client.unwrap(
    client.api.POST("/v1/auth/passkey/options", { body: email ? { email } : {} }),
  );
  const credential = await usePasskey(started.options as Options);
  await client.auth.signInWithPasskey(started.token, credential);
  say("");
  await refresh();
}

$("passkey-signin").addEventListener("click", () => void signInWithPasskey().catch(fail));

let mfaToken: string | null = null;

$("mfa").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target as HTMLFormElement;
  if (!mfaToken) return;
  const typed = field(form, "code").trim();
  try {
    await client.auth.completeMfa(mfaToken, /^\d{6}$/.test(typed.replace(/\s/g, "")) ? { code: typed } : { recovery_code: typed });
    mfaToken = null;
    form.reset();
    form.hidden = true;
    say("");
    await refresh();
  } catch (e) {
    fail(e);
  }
});

$("mfa-passkey").addEventListener("click", async () => {
  if (!mfaToken) return;
  try {
    const started = await client.unwrap(
      client.api.POST("/v1/auth/signin/mfa/passkey-options", { body: { mfa_token: mfaToken } }),
    );
    await client.auth.completeMfa(mfaToken, { passkey: await usePasskey(started.options as Options) });
    mfaToken = null;
    ($("mfa") as HTMLFormElement).hidden = true;
    say("");
    await refresh();
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
  await Promise.all([
    renderTasks(),
    renderToday(),
    renderDevices(),
    renderRecap(),
    renderCalendar(),
    renderPasskeys(),
    renderBusiness(),
  ]);
}

function signedOut(): void {
  $("signed-out").hidden = false;
  $("signed-in").hidden = true;
  $("recovery-codes").replaceChildren();
  // The next account to sign in must not see this one's figures.
  vatPeriod = null;
  showVatReturn(null);
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
    const answer = await client.auth.signIn(field(form, "email"), field(form, "password"));
    if ("mfa_required" in answer && answer.mfa_required) {
      mfaToken = answer.mfa_token;
      ($("mfa") as HTMLFormElement).hidden = false;
      say("Your account has a second factor: enter a code, or use a passkey.");
      return;
    }
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
