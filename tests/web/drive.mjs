// drive.mjs: the browser half of tests/web.sh. Drives Debian's chromium
// (headless, through playwright-core) against a spamsiftd the shell script
// started: logs in, finds the scanned messages in the history with their
// subjects, opens one, clicks "Learn as spam", then logs in with the read
// role and is refused. Prints "PASS what" or "FAIL what: why" per check and
// the screenshot paths; the shell script counts them.
//
// usage: node drive.mjs URL ARTIFACTS_DIR CHROMIUM ADMIN_SECRET READ_SECRET ZH_SUBJECT VI_SUBJECT
import { createRequire } from "node:module";
import process from "node:process";

const require = createRequire(process.env.PW_MODULES + "/");
const { chromium } = require("playwright-core");

const [url, art, exe, adminSecret, readSecret, zh, vi] = process.argv.slice(2);
let failed = 0;

function check(ok, what, why) {
  if (ok) console.log("PASS " + what);
  else {
    failed++;
    console.log("FAIL " + what + ": " + (why || ""));
  }
}

async function shot(page, name) {
  const path = art + "/" + name + ".png";
  await page.screenshot({ path, fullPage: true });
  console.log("screenshot " + path);
}

async function login(page, user, secret) {
  await page.goto(url + "/");
  await page.waitForSelector("#login-form", { state: "visible", timeout: 10000 });
  await page.fill("#login-user", user);
  await page.fill("#login-password", secret);
  await page.click("#login-submit");
  await page.waitForSelector("#history tbody tr.row", { timeout: 10000 });
}

async function rowId(page, subject) {
  const row = page.locator("#history tbody tr.row", { hasText: subject }).first();
  return row.getAttribute("data-id");
}

async function run() {
  const browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-proxy-server"],
  });
  const ctx = await browser.newContext({ locale: "en-US", viewport: { width: 1200, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));

  // the login, then the history with both subjects as they were written
  await login(page, "admin", adminSecret);
  const subjects = await page.locator("#history tbody td.subject").allTextContents();
  check(subjects.includes(zh), "history shows the Chinese subject", JSON.stringify(subjects));
  check(subjects.includes(vi), "history shows the Vietnamese subject", JSON.stringify(subjects));
  check((await page.textContent("#who")).includes("admin"), "the header names the admin");
  await shot(page, "history");

  // search narrows the list
  await page.fill("#f-q", vi.slice(0, 8));
  await page.click("#filter button[type=submit]");
  await page.waitForFunction(
    (n) => document.querySelectorAll("#history tbody tr.row").length === n,
    1,
    { timeout: 5000 }
  ).catch(() => {});
  const found = await page.locator("#history tbody td.subject").allTextContents();
  check(found.length === 1 && found[0] === vi, "search by subject finds one", JSON.stringify(found));
  await page.fill("#f-q", "");
  await page.click("#filter button[type=submit]");
  await page.waitForSelector("#history tbody tr.row >> nth=1");

  // one message: symbols with descriptions, features, then Learn as spam
  const id = await rowId(page, vi);
  await page.locator("#history tbody tr.row", { hasText: vi }).first().click();
  await page.waitForSelector("#m-symbols tbody tr");
  check((await page.textContent("#m-subject")) === vi, "the message page shows its subject");
  const sym = await page.locator("#m-symbols tbody tr").first().allTextContents();
  check(/SPAMSIFT_BAYES/.test(sym[0]) && /learned classifier/.test(sym[0]), "symbols with descriptions", sym[0]);
  check((await page.locator("#m-features tbody tr").count()) > 0, "the classifier's features are listed");
  await shot(page, "message");
  await page.click("#learn-spam");
  await page.waitForSelector("#m-result.ok", { timeout: 10000 });
  check(/learned|moved/.test(await page.textContent("#m-result")), "Learn as spam says it learned",
    await page.textContent("#m-result"));
  const api = await page.evaluate(async (i) => (await fetch("/api/history/" + i)).json(), id);
  check(api.feedback === "spam", "the API shows the entry learned as spam", JSON.stringify(api.feedback));
  console.log("learned-id " + id);

  // charts and status
  await page.click("#nav-charts");
  await page.waitForSelector("#c-actions svg rect");
  check((await page.locator("#c-symbols svg text", { hasText: "SPAMSIFT_BAYES" }).count()) > 0,
    "the top symbols chart names SPAMSIFT_BAYES");
  await shot(page, "charts");
  await page.click("#nav-status");
  await page.waitForSelector("#s-body table");
  const statusText = await page.textContent("#s-body");
  check(statusText.includes("admin:admin") && !statusText.includes(adminSecret) &&
    !statusText.includes(readSecret), "status shows users without their secrets");
  await shot(page, "status");
  const html = await page.content();
  check(!html.includes(adminSecret) && !html.includes(readSecret), "no secret anywhere in the page");

  // the read role sees the message but may not act on it
  await page.click("#logout");
  await page.waitForSelector("#login-form", { state: "visible" });
  await login(page, "viewer", readSecret);
  await page.goto(url + "/#/message/" + id);
  await page.waitForSelector("#m-symbols tbody tr");
  await page.click("#learn-ham");
  await page.waitForSelector("#m-result.error", { timeout: 10000 });
  check((await page.textContent("#m-result")).includes("Only an admin"), "read role: the page says no");
  const st = await page.evaluate(async (i) =>
    (await fetch("/api/history/" + i + "/learn-ham", { method: "POST", headers: { "X-Spamsift": "1" } })).status, id);
  check(st === 403, "read role: the API answers 403", String(st));
  const after = await page.evaluate(async (i) => (await fetch("/api/history/" + i)).json(), id);
  check(after.feedback === "spam", "read role changed nothing", JSON.stringify(after.feedback));
  await shot(page, "read-role");
  check(errors.length === 0, "no script errors in the page", errors.join("; "));

  // a Vietnamese browser gets the Vietnamese strings (i18n/vi.json)
  const vctx = await browser.newContext({ locale: "vi-VN", viewport: { width: 1200, height: 800 } });
  const vpage = await vctx.newPage();
  await vpage.goto(url + "/");
  await vpage.waitForSelector("#login-form", { state: "visible", timeout: 10000 });
  check((await vpage.textContent("#login-submit")) === "Đăng nhập", "Vietnamese login button",
    await vpage.textContent("#login-submit"));
  await vpage.fill("#login-user", "admin");
  await vpage.fill("#login-password", adminSecret);
  await vpage.click("#login-submit");
  await vpage.waitForSelector("#history tbody tr.row", { timeout: 10000 });
  check((await vpage.textContent("#nav-history")) === "Lịch sử", "Vietnamese navigation");
  await shot(vpage, "history-vi");
  await browser.close();
}

run()
  .catch((e) => {
    failed++;
    console.log("FAIL the browser run: " + e.message.split("\n")[0]);
  })
  .finally(() => process.exit(failed ? 1 : 0));
