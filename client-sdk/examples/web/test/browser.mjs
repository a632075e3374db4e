// Drives the reference app in Debian's Chromium: sign up, confirm the address from the mail
// outbox, sign in, add a task, Smart Add with preview and confirm, complete a task, subscribe
// this browser to notifications and receive a test push, set the morning recap, connect a
// calendar served on loopback and see today's events, disconnect it; save a business profile,
// add a client and a job, invoice the job, issue the invoice, download its PDF, record two
// payments (an overpayment between them is refused); add an expense with a receipt, download
// the receipt, save the VAT settings (a Flat Rate one without its date is refused), see the
// quarter's VAT return, delete the expense; register a passkey in Chromium's virtual
// authenticator (the real WebAuthn ceremony, through DevTools' WebAuthn domain), sign out and
// sign in with the passkey; sign out.
// Then opens the server's API reference (/docs) with every other origin blocked and finds an
// operation in it. Screenshots go to test-results/.
import { execFileSync } from "node:child_process";
import { createDecipheriv, createECDH, hkdfSync, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { chromium } from "playwright-core";

const web = process.env.MINIME_WEB_URL ?? "http://127.0.0.1:5173";
const api = process.env.MINIME_API_URL ?? "http://127.0.0.1:8080";
const mailDir = process.env.MINIME_MAIL_DIR ?? "../../../.data/mail";
const out = "test-results";
mkdirSync(out, { recursive: true });
const email = `browser-${Date.now()}@example.com`;
const password = "tangerine-Orbit-4417-lamp";

async function mailLink(address) {
  for (let i = 0; i < 100; i++) {
    for (const f of readdirSync(mailDir).filter((f) => f.endsWith(".eml"))) {
      const text = readFileSync(join(mailDir, f), "utf8");
      if (!text.includes(`To: ${address}`)) continue;
      const decoded = text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      const link = /(https?:\/\/\S+verify-email\?token=[\w-]+)/.exec(decoded)?.[1];
      if (link) return link;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no verification mail to ${address}`);
}

// A loopback push service. Chromium's own subscription needs its vendor's push service, out of
// reach here, so the page's pushManager.subscribe answers a subscription of this service instead
// (the API lets loopback endpoints through only under MINIME_OUTBOUND_ALLOW_LOOPBACK).
const device = createECDH("prime256v1");
device.generateKeys();
const authSecret = randomBytes(16);
const pushes = [];
const pushService = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    pushes.push({ headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(201).end();
  });
});
await new Promise((r) => pushService.listen(0, "127.0.0.1", r));
const endpoint = `http://127.0.0.1:${pushService.address().port}/push/browser-test`;

/** RFC 8291: the aes128gcm body decrypted with the device's private key and auth secret. */
function decryptPush(body) {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const senderKey = body.subarray(21, 21 + idlen);
  const sealed = body.subarray(21 + idlen);
  const shared = device.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), device.getPublicKey(), senderKey]);
  const ikm = Buffer.from(hkdfSync("sha256", shared, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const padded = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 2, then zero padding.
  let end = padded.length - 1;
  while (end > 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error("the push has no last-record delimiter");
  return JSON.parse(padded.subarray(0, end).toString("utf8"));
}

// A loopback calendar server with today's events: an all-day one and a meeting 1–2 hours from
// now (UTC, the new account's zone, whose day begins at 03:00).
const ymd = (d) => d.toISOString().slice(0, 10).replace(/-/g, "");
const stamp = (d) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
const now = new Date();
const userToday = new Date(now.getTime() - 3 * 3600000);
const meeting = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours() + 1));
const ics = [
  "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//minime browser test//EN",
  "BEGIN:VEVENT", "UID:offsite@browser-test", `DTSTAMP:${stamp(now)}`, `DTSTART;VALUE=DATE:${ymd(userToday)}`,
  `DTEND;VALUE=DATE:${ymd(new Date(userToday.getTime() + 86400000))}`, "SUMMARY:Team offsite", "END:VEVENT",
  "BEGIN:VEVENT", "UID:sync@browser-test", `DTSTAMP:${stamp(now)}`, `DTSTART:${stamp(meeting)}`,
  `DTEND:${stamp(new Date(meeting.getTime() + 3600000))}`, "SUMMARY:Planning sync", "END:VEVENT",
  "END:VCALENDAR", "",
].join("\r\n");
let calendarReads = 0;
const calendarServer = createServer((req, res) => {
  calendarReads++;
  res.writeHead(200, { "content-type": "text/calendar" }).end(ics);
});
await new Promise((r) => calendarServer.listen(0, "127.0.0.1", r));
const calendarUrl = `http://127.0.0.1:${calendarServer.address().port}/private-browser-test/basic.ics`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage();
  page.on("dialog", (d) => d.accept());
  await page.context().grantPermissions(["notifications"], { origin: web });
  await page.addInitScript(
    ({ endpoint, p256dh, auth }) => {
      PushManager.prototype.subscribe = async function () {
        const json = { endpoint, expirationTime: null, keys: { p256dh, auth } };
        return { endpoint, expirationTime: null, options: {}, toJSON: () => json, getKey: () => null, unsubscribe: async () => true };
      };
    },
    { endpoint, p256dh: device.getPublicKey().toString("base64url"), auth: authSecret.toString("base64url") },
  );
  const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });

  await page.goto(web);
  await page.fill("#signup input[name=email]", email);
  await page.fill("#signup input[name=password]", password);
  await page.click("#signup button");
  await page.waitForSelector("text=Check your mail");
  await shot("1-signed-up");

  await page.goto(await mailLink(email));
  await page.waitForSelector("text=Address confirmed");
  await page.fill("#signin input[name=email]", email);
  await page.fill("#signin input[name=password]", password);
  await page.click("#signin button");
  await page.waitForSelector("#signed-in:not([hidden])");
  await page.waitForSelector(`#who:text("${email}")`);
  await shot("2-signed-in");

  await page.fill("#add input[name=title]", "Water the plants");
  await page.click("#add button");
  await page.waitForSelector('#tasks span[data-title="Water the plants"]');
  await shot("3-task-added");

  // Smart Add: consent, preview, nothing added until confirmed.
  await Promise.all([page.waitForResponse((r) => r.url().endsWith("/v1/me") && r.request().method() === "PATCH"), page.check("#ai")]);
  await page.fill("#smart input[name=text]", "Call mum tomorrow 5pm @phone");
  await page.click("#smart button");
  await page.waitForSelector("#preview:not([hidden])");
  if ((await page.locator('#tasks span[data-title="Call mum"]').count()) !== 0) throw new Error("a preview wrote a task");
  await shot("3b-smart-add-preview");
  await page.click("#confirm");
  await page.waitForSelector('#tasks span[data-title="Call mum"]');

  await page.check('input[aria-label="Complete Water the plants"]');
  await page.waitForSelector("#tasks li.done");
  await shot("4-task-completed");

  // Notifications: subscribe this browser, receive a test push (encrypted to it, signed with
  // the server's VAPID key), set the morning recap, then stop notifying.
  await page.click("#push-subscribe");
  await page.waitForSelector("#devices li[data-device]");
  await page.click("#push-test");
  for (let i = 0; i < 100 && pushes.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  if (pushes.length !== 1) throw new Error(`the push service received ${pushes.length} pushes, not 1`);
  const { public_key } = await (await fetch(`${api}/v1/push/vapid-public-key`)).json();
  const vapid = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(pushes[0].headers.authorization ?? "");
  if (!vapid || vapid[2] !== public_key) throw new Error(`the push is not signed with the server's key: ${pushes[0].headers.authorization}`);
  if (pushes[0].headers["content-encoding"] !== "aes128gcm") throw new Error("the push is not aes128gcm");
  const message = decryptPush(pushes[0].body);
  if (!message.title) throw new Error(`the test push has no title: ${JSON.stringify(message)}`);
  await shot("4b-notifications");
  await page.check("#recap input[name=enabled]");
  await page.fill("#recap input[name=at]", "06:45");
  await page.click("#recap button");
  await page.waitForSelector("text=Morning recap saved.");
  await page.reload();
  await page.waitForSelector("#devices li[data-device]");
  // The devices and the recap form are drawn by separate requests: wait for the form's.
  await page
    .waitForFunction(
      () => {
        const form = document.getElementById("recap");
        return form.elements.namedItem("enabled").checked && form.elements.namedItem("at").value === "06:45";
      },
      null,
      { timeout: 10000 },
    )
    .catch(() => {
      throw new Error("the morning recap setting did not stay");
    });
  await page.click("#devices li[data-device] button");
  await page.waitForSelector("text=No browser is notified yet.");
  console.log(`browser: subscribed, received the test push "${message.title}" decrypted and VAPID-signed, set the recap, unsubscribed`);

  // Calendar (Pro): connect the loopback feed, see today's events, disconnect.
  execFileSync(process.env.MINIME_BIN, ["admin", "set-plan", email, "pro"], {
    env: { ...process.env, DATABASE_URL: process.env.MINIME_DATABASE_URL },
  });
  await page.fill("#calendar input[name=url]", calendarUrl);
  await page.click("#calendar button");
  await page.waitForSelector('#calendar-status[data-connected="true"], #message.error');
  if (await page.locator("#message.error").count()) throw new Error(`connecting the calendar failed: ${await page.textContent("#message")}`);
  await page.waitForSelector('#events li[data-event="offsite@browser-test"]');
  const status = await page.textContent("#calendar-status");
  if (status.includes("private-browser-test")) throw new Error(`the calendar URL is shown back: ${status}`);
  if (!status.includes("127.0.0.1")) throw new Error(`the status does not name the host: ${status}`);
  if (now.getUTCHours() >= 3 && now.getUTCHours() <= 22) await page.waitForSelector('#events li[data-event="sync@browser-test"]');
  await shot("4c-calendar");
  await page.click("#calendar-disconnect");
  await page.waitForSelector('#calendar-status[data-connected="false"]');
  // Today is drawn again beside the status: wait for it, and fail if events stay.
  await page
    .waitForFunction(() => document.querySelectorAll("#events li").length === 0, null, { timeout: 10000 })
    .catch(() => {
      throw new Error("disconnected, yet events are shown");
    });
  console.log(`browser: connected a calendar on loopback (${calendarReads} read), saw today's events, disconnected`);

  // Business: the profile (created by PUT, then changed under If-Match), a client, a daily job,
  // the invoice the server makes from it (2 × £250 at the standard rate), issued, its PDF, paid.
  /** Waits for `selector` to show exactly `text`, and says what it shows instead. */
  const shows = async (selector, text) => {
    const ok = await page
      .waitForFunction(([s, t]) => document.querySelector(s)?.textContent === t, [selector, text], { timeout: 10000 })
      .then(() => true, () => false);
    if (!ok) {
      const shown = await page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
      throw new Error(`${selector} shows ${JSON.stringify(shown)}, not ${JSON.stringify(text)}`);
    }
  };
  /** Does `action` and waits for the API's answer to `method` on a path ending in `path`; any
   * other status than `status` throws with the request and the answer. */
  const answered = async (method, path, status, action) => {
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname.endsWith(path)),
      action(),
    ]);
    if (res.status() !== status)
      throw new Error(`${method} ${res.url()} ${res.request().postData() ?? ""} answered ${res.status()}, not ${status}: ${await res.text()}`);
    return res;
  };
  await page.waitForSelector('#business-status[data-saved="false"]');
  await page.waitForSelector("#invoices li");
  await page.fill("#business input[name=business_name]", "Ada Lovelace Carpentry");
  await page.fill("#business textarea[name=address_lines]", "1 High Street\nBristol");
  await page.fill("#business input[name=postcode]", "BS1 1AA");
  await page.check("#business input[name=vat_registered]");
  await page.fill("#business input[name=payment_terms_days]", "14");
  // VAT registered with no VAT number: the server's field error is shown.
  await answered("PUT", "/v1/business/profile", 422, () => page.click("#business button"));
  await page.waitForSelector("#message.error");
  const missingVrn = await page.textContent("#message");
  if (!missingVrn.includes("vrn") || !missingVrn.includes("required")) throw new Error(`no VAT number, yet the form says: ${missingVrn}`);
  await page.fill("#business input[name=vrn]", "GB980780684");
  const created = await answered("PUT", "/v1/business/profile", 201, () => page.click("#business button"));
  await page.waitForSelector('#business-status[data-saved="true"]');
  await page.waitForSelector("#message:not(.error)");
  const etag = created.headers().etag;
  await page.fill("#business input[name=payment_terms_days]", "30");
  const changed = await answered("PATCH", "/v1/business/profile", 200, () => page.click("#business button"));
  const ifMatch = await changed.request().headerValue("if-match");
  if (!etag || ifMatch !== etag) throw new Error(`the second save sent If-Match ${ifMatch}, the ETag being ${etag}`);
  await shows("#business-status", "Invoices come from Ada Lovelace Carpentry, VAT number GB980780684, due in 30 days.");

  await page.fill("#client input[name=name]", "Acme Builders Ltd");
  await page.fill("#client textarea[name=address]", "2 Quay Street\nBristol\nBS1 4DJ");
  await page.fill("#client input[name=email]", "accounts@acme.example");
  await answered("POST", "/v1/clients", 201, () => page.click("#client button"));
  await shows("#clients li[data-client]", "Acme Builders Ltd · accounts@acme.example · 2 Quay Street, Bristol, BS1 4DJ");

  await page.selectOption("#job select[name=client_id]", { label: "Acme Builders Ltd" });
  await page.fill("#job input[name=title]", "Website build");
  await page.fill("#job input[name=quantity]", "2");
  await page.selectOption("#job select[name=fee_kind]", "daily");
  await page.fill("#job input[name=rate]", "250");
  await answered("POST", "/v1/business-jobs", 201, () => page.click("#job button"));
  await page.waitForSelector("#jobs li[data-job]");
  const invoice = "#invoices li[data-invoice]";
  await answered("POST", "/v1/invoices", 201, () => page.click('#jobs li[data-job] button:text("Invoice this job")'));
  await page.waitForSelector(`${invoice}[data-status="draft"]`);
  if ((await page.locator(`${invoice} li[data-line]`).count()) !== 1) throw new Error("the draft has not exactly one line");
  const line = await page.textContent(`${invoice} li[data-line]`);
  if (!line.startsWith("Website build: 2") || !line.includes("standard-rate VAT")) throw new Error(`the draft's line is ${line}`);
  await shows(`${invoice} [data-field=net]`, "£500.00");
  await shows(`${invoice} [data-field=vat]`, "£100.00");
  await shows(`${invoice} [data-field=total]`, "£600.00");
  await shows(`${invoice} [data-field=balance]`, "£600.00");
  await shows(`${invoice} [data-field=status]`, "draft");
  await shot("4d-invoice-draft");

  await answered("POST", "/issue", 200, () => page.click(`${invoice} button:text("Issue")`));
  await page.waitForSelector(`${invoice}[data-status="issued"]`);
  await shows(`${invoice} [data-field=number]`, "INV-0001");
  await shows(`${invoice} [data-field=status]`, "issued");

  const [download, pdfAnswer] = await Promise.all([
    page.waitForEvent("download"),
    answered("GET", "/pdf", 200, () => page.click(`${invoice} button:text("Download PDF")`)),
  ]);
  const pdf = readFileSync(await download.path());
  if (download.suggestedFilename() !== "INV-0001.pdf") throw new Error(`the PDF downloads as ${download.suggestedFilename()}`);
  if (pdf.subarray(0, 5).toString("latin1") !== "%PDF-") throw new Error(`the download is not a PDF: ${pdf.subarray(0, 16)}`);
  const headers = pdfAnswer.headers();
  if (headers["content-type"] !== "application/pdf" || headers["content-disposition"] !== 'attachment; filename="INV-0001.pdf"')
    throw new Error(`the PDF came as ${headers["content-type"]}, ${headers["content-disposition"]}`);

  const pay = (pounds, status) =>
    answered("POST", "/payments", status, async () => {
      await page.fill(`${invoice} form input[name=amount]`, pounds);
      await page.click(`${invoice} form button`);
    });
  await pay("200", 201);
  await page.waitForSelector(`${invoice}[data-status="partly_paid"]`);
  await shows(`${invoice} [data-field=status]`, "partly paid");
  await shows(`${invoice} [data-field=balance]`, "£400.00");
  await pay("400.01", 422);
  await page.waitForSelector("#message.error");
  const overpaid = await page.textContent("#message");
  if (!overpaid.includes("overpayment")) throw new Error(`an overpayment, yet the form says: ${overpaid}`);
  await shows(`${invoice} [data-field=balance]`, "£400.00");
  await pay("400", 201);
  await page.waitForSelector(`${invoice}[data-status="paid"]`);
  await shows(`${invoice} [data-field=paid]`, "£600.00");
  await shows(`${invoice} [data-field=balance]`, "£0.00");
  if (await page.locator(`${invoice} form`).count()) throw new Error("a paid invoice still takes payments");
  await shot("4e-invoice-paid");
  console.log(
    `browser: business profile created (201) and changed under If-Match; invoiced a job: INV-0001, £500.00 + £100.00 VAT = £600.00; ` +
      `its PDF (${pdf.length} bytes) downloaded; paid £200 then £400, an overpayment refused ("${overpaid}")`,
  );

  // Expenses and the VAT return: a receipt uploaded (its bytes as the body), then the expense
  // naming it; the receipt downloaded back through the API; the VAT settings (a Flat Rate one
  // without its registration date refused); the quarter's return from the invoice above and
  // this expense; the expense deleted, with its receipt and its VAT.
  // A 1×1 PNG: signature, IHDR, IDAT and IEND with valid CRCs.
  const receipt = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "base64",
  );
  // The account's zone is UTC, so the invoice above is dated today in UTC, as the expense is.
  const today = new Date().toISOString().slice(0, 10);
  const [year, month] = today.split("-").map(Number);
  const quarter = Math.floor((month - 1) / 3);
  const quarterStart = new Date(Date.UTC(year, 3 * quarter, 1)).toISOString().slice(0, 10);
  const quarterEnd = new Date(Date.UTC(year, 3 * quarter + 3, 0)).toISOString().slice(0, 10);
  await page.fill("#expense input[name=spent_on]", today);
  await page.fill("#expense input[name=supplier]", "Screwfix");
  await page.fill("#expense input[name=description]", "Drill bits and fixings");
  await page.fill("#expense input[name=net]", "120.50");
  await page.fill("#expense input[name=vat]", "24.10");
  await page.check("#expense input[name=vat_reclaimable]");
  await page.selectOption("#expense select[name=payment_method]", "card");
  await page.selectOption("#expense select[name=category]", "repairs");
  await page.setInputFiles("#expense input[name=receipt]", { name: "receipt.png", mimeType: "image/png", buffer: receipt });
  const uploading = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.endsWith("/v1/files"));
  const createdExpense = await answered("POST", "/v1/expenses", 201, () => page.click("#expense button"));
  const uploadAnswer = await uploading;
  if (uploadAnswer.status() !== 201) throw new Error(`the receipt upload answered ${uploadAnswer.status()}: ${await uploadAnswer.text()}`);
  const uploadUrl = new URL(uploadAnswer.url());
  if (uploadUrl.searchParams.get("purpose") !== "receipt" || uploadUrl.searchParams.get("name") !== "receipt.png")
    throw new Error(`the receipt was uploaded to ${uploadUrl.pathname}${uploadUrl.search}`);
  const stored = await uploadAnswer.json();
  if (stored.content_type !== "image/png" || stored.size_bytes !== receipt.length || stored.name !== "receipt.png")
    throw new Error(`the receipt was stored as ${JSON.stringify(stored)}`);
  const expenseRow = await createdExpense.json();
  if (expenseRow.receipt_file_id !== stored.id) throw new Error(`the expense names receipt ${expenseRow.receipt_file_id}, not ${stored.id}`);
  const expense = `#expenses li[data-expense="${expenseRow.id}"]`;
  await page.waitForSelector(expense);
  await shows(`${expense} [data-field=net]`, "£120.50");
  await shows(`${expense} [data-field=vat]`, "£24.10");
  await shows(`${expense} [data-field=total]`, "£144.60");
  const listed = await page.textContent(expense);
  if (!listed.startsWith(`${today} · Screwfix — Drill bits and fixings · Repairs and maintenance`) || !listed.includes("reclaimable VAT"))
    throw new Error(`the expense is listed as ${listed}`);

  const [receiptDownload, receiptAnswer] = await Promise.all([
    page.waitForEvent("download"),
    answered("GET", `/v1/files/${stored.id}/content`, 200, () => page.click(`${expense} button:text("Download receipt")`)),
  ]);
  const downloaded = readFileSync(await receiptDownload.path());
  if (!downloaded.equals(receipt)) throw new Error(`the receipt came back as ${downloaded.length} other bytes, not the ${receipt.length} uploaded`);
  if (receiptDownload.suggestedFilename() !== "receipt.png") throw new Error(`the receipt downloads as ${receiptDownload.suggestedFilename()}`);
  const receiptHeaders = await receiptAnswer.allHeaders();
  if (receiptHeaders["content-type"] !== "image/png" || receiptHeaders["x-content-type-options"] !== "nosniff")
    throw new Error(`the receipt came as ${receiptHeaders["content-type"]}, nosniff: ${receiptHeaders["x-content-type-options"]}`);
  await shot("4f-expense");

  await page.waitForSelector('#vat-settings-status[data-saved="false"]');
  await page.selectOption("#vat-settings select[name=scheme]", "flat_rate");
  await answered("PUT", "/v1/business/vat-settings", 422, () => page.click("#vat-settings button"));
  await page.waitForSelector("#message.error");
  const noDate = await page.textContent("#message");
  if (!noDate.includes("registered_on")) throw new Error(`the Flat Rate Scheme without its date, yet the form says: ${noDate}`);
  await page.selectOption("#vat-settings select[name=scheme]", "standard");
  await page.selectOption("#vat-settings select[name=basis]", "accrual");
  await answered("PUT", "/v1/business/vat-settings", 200, () => page.click("#vat-settings button"));
  await shows("#vat-settings-status", "Standard scheme, invoice basis (accrual).");

  // Standard scheme, accrual: box 1 is the invoice's £100.00 VAT, box 4 the expense's £24.10
  // reclaimable VAT, box 5 the difference to pay; boxes 6 and 7 the nets (£500.00, £120.50) in
  // whole pounds with the pence dropped; nothing from or to the EU.
  const boxes = { box1: "£100.00", box2: "£0.00", box3: "£100.00", box4: "£24.10", box5: "£75.90", box6: "£500", box7: "£120", box8: "£0", box9: "£0" };
  await page.fill("#vat-return input[name=start]", quarterStart);
  await page.fill("#vat-return input[name=end]", quarterEnd);
  const returned = await answered("GET", "/v1/business/vat-return", 200, () => page.click("#vat-return button"));
  const vatReturn = await returned.json();
  const expected = { box1: 10000, box2: 0, box3: 10000, box4: 2410, box5: 7590, box6: 500, box7: 120, box8: 0, box9: 0 };
  if (JSON.stringify(vatReturn.boxes) !== JSON.stringify(expected) || vatReturn.direction !== "payable")
    throw new Error(`the return for ${quarterStart} to ${quarterEnd} is ${JSON.stringify(vatReturn.boxes)}, ${vatReturn.direction}`);
  await page.waitForSelector("#vat-boxes:not([hidden])");
  for (const [box, text] of Object.entries(boxes)) await shows(`#vat-boxes [data-box=${box}]`, text);
  await shows("#vat-summary [data-field=direction]", "You pay HMRC £75.90");
  await shot("4g-vat-return");

  await answered("DELETE", `/v1/expenses/${expenseRow.id}`, 204, () => page.click(`${expense} button:text("Delete")`));
  await page.waitForSelector("text=No expenses yet.");
  // The shown return is worked out again without the expense.
  await shows("#vat-boxes [data-box=box4]", "£0.00");
  await shows("#vat-boxes [data-box=box5]", "£100.00");
  await shows("#vat-boxes [data-box=box7]", "£0");
  const gone = await page.evaluate(
    async (url) => (await fetch(url, { credentials: "include" })).status,
    `${api}/v1/files/${stored.id}/content`,
  );
  if (gone !== 404) throw new Error(`the deleted expense's receipt still answers ${gone}`);
  console.log(
    `browser: an expense with its receipt (${receipt.length} bytes, uploaded, downloaded back unchanged); ` +
      `the VAT return ${quarterStart} to ${quarterEnd}: box 1 £100.00, box 4 £24.10, box 5 £75.90 to pay, box 6 £500, box 7 £120; ` +
      `the expense deleted with its receipt, box 4 back to £0.00`,
  );

  // Passkeys: Chromium's virtual authenticator (a platform authenticator that verifies the
  // user) answers the real ceremony in the page.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  await page.waitForSelector("text=No passkey yet");
  await page.fill("#passkey-add input[name=name]", "Chromium virtual key");
  await answered("POST", "/v1/auth/passkeys", 201, () => page.click("#passkey-add button"));
  await page.waitForSelector('#passkeys li[data-passkey]:has-text("Chromium virtual key")');
  const codes = await page.locator("#recovery-codes li").count();
  if (codes !== 10) throw new Error(`the first passkey showed ${codes} recovery codes, not 10`);
  const held = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  if (held.length !== 1 || !held[0].isResidentCredential)
    throw new Error(`the authenticator holds ${JSON.stringify(held)}, not one discoverable passkey`);
  await shot("4h-passkey-added");
  await page.click("#signout");
  await page.waitForSelector("#signed-out:not([hidden])");
  // Usernameless: the authenticator names the account.
  await answered("POST", "/v1/auth/passkey/signin", 200, () => page.click("#passkey-signin"));
  await page.waitForSelector("#signed-in:not([hidden])");
  await page.waitForSelector(`#who:text("${email}")`);
  const used = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials[0];
  if (used.signCount < 1) throw new Error(`the passkey's counter is ${used.signCount} after signing in`);
  await page.waitForSelector('#passkeys li[data-passkey]:not(:has-text("last used never"))');
  // A password sign-in now asks for the second factor; the passkey answers it.
  await page.click("#signout");
  await page.waitForSelector("#signed-out:not([hidden])");
  await page.fill("#signin input[name=email]", email);
  await page.fill("#signin input[name=password]", password);
  await answered("POST", "/v1/auth/signin", 202, () => page.click("#signin button"));
  await page.waitForSelector("#mfa:not([hidden])");
  await answered("POST", "/v1/auth/signin/mfa", 200, () => page.click("#mfa-passkey"));
  await page.waitForSelector("#signed-in:not([hidden])");
  await shot("4i-passkey-second-factor");
  console.log(
    `browser: a passkey registered in Chromium's virtual authenticator (discoverable, 10 recovery codes shown), ` +
      `a usernameless sign-in with it (counter ${used.signCount}), and a password sign-in finished with it`,
  );

  await page.click("#signout");
  await page.waitForSelector("#signed-out:not([hidden])");
  await page.reload();
  await page.waitForSelector("#signed-out:not([hidden])");
  await shot("5-signed-out");
  console.log(`browser: sign-up, sign-in, add, Smart Add, complete and sign-out passed; screenshots in ${out}/`);

  // The API reference must render from the server alone: offline, or behind a policy that
  // lets nothing else through, a request to any other origin would leave the page blank.
  const context = await browser.newContext();
  // Read at the loopback address, as the API's own origin (the app's localhost origin exists for
  // WebAuthn, which refuses IP addresses).
  const docsBase = api.replace("//localhost:", "//127.0.0.1:");
  const apiOrigin = new URL(docsBase).origin;
  const foreign = [];
  await context.route("**/*", (route) => {
    if (new URL(route.request().url()).origin === apiOrigin) return route.continue();
    foreign.push(route.request().url());
    return route.abort("blockedbyclient");
  });
  const docs = await context.newPage();
  const refused = [];
  docs.on("console", (m) => {
    if (m.text().includes("Content Security Policy")) refused.push(m.text());
  });
  docs.on("pageerror", (e) => refused.push(String(e)));
  const contract = JSON.parse(readFileSync(new URL("../../../../openapi/openapi.json", import.meta.url), "utf8"));
  const summary = contract.paths["/v1/tasks"].post.summary;
  await docs.goto(`${docsBase}/docs`);
  await docs.waitForSelector(".opblock");
  const operation = docs
    .locator(".opblock-post")
    .filter({ has: docs.locator('.opblock-summary-path[data-path="/v1/tasks"]') })
    .filter({ has: docs.getByText(summary, { exact: true }) });
  // Swagger UI renders only the operations near the viewport, so scroll as a reader would,
  // letting each scroll render before looking again.
  for (let i = 0; i < 400 && (await operation.count()) === 0; i++) {
    await docs.evaluate(() => window.scrollBy(0, 800));
    await docs.waitForTimeout(25);
  }
  await operation.scrollIntoViewIfNeeded();
  await operation.locator(".opblock-summary-control").click();
  await operation.locator(".opblock-body").waitFor().catch(async (e) => {
    await docs.screenshot({ path: join(out, "6-api-reference-failed.png") });
    throw e;
  });
  await docs.screenshot({ path: join(out, "6-api-reference.png") });
  if (foreign.length) throw new Error(`the API reference asked other origins for ${foreign.join(", ")}`);
  if (refused.length) throw new Error(`the API reference broke its Content-Security-Policy or threw: ${refused.join(" | ")}`);
  await context.close();
  console.log(`browser: the API reference at ${docsBase}/docs shows "${summary}" with every other origin blocked`);
} finally {
  await browser.close();
  pushService.close();
  calendarServer.close();
}
