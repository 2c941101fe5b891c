// The browser test of ketenhub-watch (run by run.sh, which starts the hub
// and the traffic): the page under traffic, a forced dead letter redriven
// from the page, the regional table with "< 5", the Termijnen table fed
// with termijn state (run.sh writes it), and a stopped push turning its
// edge red with a growing lag. Screenshots in $OUT.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { ROOT, OUT, WATCH, INGEST, RECEIVER, PUSH_PID } = process.env;
const page_url = `http://127.0.0.1:${WATCH}/`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function receiverRule(p, mode) {
  const r = await fetch(`http://127.0.0.1:${RECEIVER}/_control/rule?path=${encodeURIComponent(p)}&mode=${mode}`, { method: 'POST' });
  assert.equal(r.status, 200, `receiver rule ${p}=${mode}`);
}

async function sendExample() {
  const body = fs.readFileSync(path.join(ROOT, 'schemas/examples/aanmelding/valid/01-geplaatst-rotterdam.json'));
  const r = await fetch(`http://127.0.0.1:${INGEST}/v1/aanmeldingen`, {
    method: 'POST', body, headers: { Authorization: 'Bearer demo-12ab00-61d2f8ce', 'Content-Type': 'application/json' } });
  assert.ok(r.status === 202, `ingest answered ${r.status}`);
}

// Waits until fn() (run in the page) is truthy; fails with what it last saw.
async function until(page, what, fn, arg, ms = 60000) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 500 });
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, `failed-${what.replace(/\W+/g, '-')}.png`), fullPage: true });
    throw new Error(`timed out waiting for: ${what}`);
  }
}

async function flowUnderTraffic(page) {
  await until(page, 'non-zero rates from ingest into the event topics',
    () => [...document.querySelectorAll('.edge[data-from="svc:ingest"]')].some((e) => Number(e.dataset.rate) > 0));
  await until(page, 'non-zero rate into push and to the partners',
    () => [...document.querySelectorAll('.edge[data-from="svc:push"]')].some((e) => Number(e.dataset.rate) > 0), null, 90000);
  const label = await page.locator('.edge[data-from="svc:ingest"] text').allTextContents();
  assert.ok(label.some((t) => /\/s$/.test(t)), `rate labels on the diagram: ${label}`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(OUT, 'overzicht.png') });
}

async function deadLetterRedrive(page) {
  const capelle = '/gemeente/capelle';
  await receiverRule(capelle, 'status:400');
  await sendExample(); // a melding for GEMEENTE:GM0502, which now answers 400
  const row = '#deadletters tr[data-reason="DELIVERY_REJECTED"]';
  await until(page, 'a DELIVERY_REJECTED dead letter for GM0502 with a redrive button',
    (sel) => [...document.querySelectorAll(sel)].some((r) => r.textContent.includes('GEMEENTE:GM0502') && r.querySelector('button.redrive')), row);
  const text = await page.locator('#deadletters').innerText();
  assert.ok(!/111222333/.test(text), 'no BSN in the dead letter table');
  await receiverRule(capelle, 'ok');
  const before = fs.readFileSync(path.join(OUT, 'stack/partners.jsonl'), 'utf8').split('\n')
    .filter((l) => l.includes(capelle) && l.includes('"status":200')).length;
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push(`${d.type()}: ${d.message()}`); await (d.type() === 'prompt' ? d.accept('browser-test') : d.accept()); });
  const target = page.locator(row).filter({ hasText: 'GEMEENTE:GM0502' }).first();
  const id = await target.getAttribute('data-dl');
  await target.locator('button.redrive').click();
  await until(page, 'the dead letter marked as redriven by the operator',
    (dl) => (document.querySelector(`#deadletters tr[data-dl="${dl}"]`) || {}).textContent?.includes('opnieuw aangeboden door browser-test'), id);
  assert.ok(dialogs.some((d) => d.startsWith('confirm:') && d.includes('opnieuw aanbieden')), `asked for confirmation: ${dialogs}`);
  for (let i = 0; i < 60; i++) {
    const after = fs.readFileSync(path.join(OUT, 'stack/partners.jsonl'), 'utf8').split('\n')
      .filter((l) => l.includes(capelle) && l.includes('"status":200')).length;
    if (after > before) return;
    await sleep(500);
  }
  assert.fail('the redriven melding did not reach the partner');
}

async function regionalTable(page) {
  await until(page, 'the pair GM0502 x GM0599 in the regional table',
    () => [...document.querySelectorAll('#regio-tabel tbody tr')].some((r) => r.textContent.includes('GM0502') && r.textContent.includes('GM0599')));
  const cells = await page.locator('#regio-tabel tbody td.num').allTextContents();
  assert.ok(cells.length > 0);
  assert.ok(cells.includes('< 5'), `some cell reads "< 5": ${cells.slice(0, 20)}`);
  for (const c of cells) assert.ok(c === '< 5' || (/^\d+$/.test(c) && Number(c) % 5 === 0), `published count ${c}`);
  const csv = await (await fetch(`${page_url}api/v1/regio.csv`)).text();
  assert.match(csv, /^regel,maand,paar,a,b,aantal\n/);
  assert.match(csv, /,< 5\n/);
}

async function termijnTable(page) {
  await until(page, 'JZ29 in the Termijnen table',
    () => [...document.querySelectorAll('#termijn-tabel tbody tr')].some((r) => r.textContent.includes('JZ29')));
  const row = async (regio) => page.locator('#termijn-tabel tbody tr[data-regel="ZORGPLICHT_TERMIJN_VERSTREKEN"]')
    .filter({ has: page.locator('td', { hasText: new RegExp(`^${regio}$`) }) }).first().locator('td.num').allTextContents();
  assert.deepEqual(await row('JZ29'), ['10', '5'], 'Rotterdam: 12 open -> 10, 7 verlopen -> 5');
  assert.deepEqual(await row('JZ13'), ['< 5', '0'], 'Amsterdam: 2 open -> "< 5"');
  assert.deepEqual(await row('totaal'), ['10', '5'], 'the total is the rounded true total (14 -> 10)');
  const cells = await page.locator('#termijn-tabel tbody td.num').allTextContents();
  for (const c of cells) assert.ok(c === '< 5' || (/^\d+$/.test(c) && Number(c) % 5 === 0), `published count ${c}`);
  const heads = await page.locator('#termijn-tabel thead th').allTextContents();
  assert.ok(heads.includes('open') && heads.includes('verlopen'), `Dutch headers: ${heads}`);
  const text = await page.locator('#termijnen').innerText();
  assert.ok(!/123456782|12AB00|browser-r/.test(text), 'no BSN, school or pseudonym in the Termijnen table');
  assert.match(text, /zorgplicht: de school besluit niet/);
  const csv = await (await fetch(`${page_url}api/v1/termijnen.csv`)).text();
  assert.match(csv, /^regel,indeling,regio,open,verlopen\n/);
  assert.match(csv, /ZORGPLICHT_TERMIJN_VERSTREKEN,jeugdregio,JZ13,< 5,0\n/);
  assert.ok(!csv.includes('123456782'), 'no BSN in the CSV');
  await page.locator('#termijnen').screenshot({ path: path.join(OUT, 'termijnen.png') });
}

async function stoppedPush(page) {
  process.kill(Number(PUSH_PID), 'SIGSTOP');
  try {
    await until(page, 'a red edge into push', () => !!document.querySelector('.edge.err[data-to="svc:push"]'), null, 90000);
    const lag = async () => Number((await page.locator('#groepen tr[data-service="push"] td.num').first().innerText()).replace(/\D/g, ''));
    const first = await lag();
    await sleep(5000);
    const second = await lag();
    assert.ok(second > first, `push lag grows while stopped: ${first} -> ${second}`);
    assert.equal(await page.locator('#groepen tr[data-service="push"]').getAttribute('data-status'), 'STALL');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'storing.png') });
  } finally {
    process.kill(Number(PUSH_PID), 'SIGCONT');
  }
}

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let failed = 0;
  try {
    await page.goto(page_url);
    for (const [name, step] of [['flow under traffic', flowUnderTraffic], ['dead letter and redrive', deadLetterRedrive],
      ['regional table', regionalTable], ['termijnen table', termijnTable], ['stopped push', stoppedPush]]) {
      try {
        await step(page);
        console.log(`ok   ${name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name}: ${e.message}`);
      }
    }
    await page.screenshot({ path: path.join(OUT, 'pagina.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no script errors on the page');
  } finally {
    await browser.close();
  }
  console.log(`${failed ? 'FAILED' : 'passed'}: screenshots in ${OUT}`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
