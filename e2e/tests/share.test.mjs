// Sharing a card: "Save image" gives a PNG the page drew (title, knobs, result, verdict,
// timeline, and the short link in its footer), "Copy link" a short link that reopens the page at
// that card with its settings, "Copy image" (where the browser has ClipboardItem) the PNG on the
// clipboard. Links carry only the settings that differ from the defaults; old links carrying
// every setting still open; without a Clipboard API the link is shown to copy by hand.
//
// Contract: inside each card (data-testid="card-<letter>", id="card-<letter>") and in the
// statistics (id="stats") and herd (id="herd") panels, data-testid "copy-link", "save-image",
// "copy-image" (only where offered), "share-status" and "link-box"; the share row carries the
// link it last used (and drew in the image's footer) as data-link.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { artifactsDir } from '../lib/harness.mjs';
import { useLab, eventually, ALL_LETTERS } from './lab-page.mjs';

const lab = useLab();
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The share controls of a card (`A`…`N`) or a panel (`stats`, `herd`). */
function shareOf(p, which) {
  const root = p.page.locator(which.length === 1 ? `#card-${which}` : `#${which}`);
  return {
    root,
    row: root.locator('.share'),
    copyLink: root.getByTestId('copy-link'),
    saveImage: root.getByTestId('save-image'),
    copyImage: root.getByTestId('copy-image'),
    status: root.getByTestId('share-status'),
    linkBox: root.getByTestId('link-box'),
  };
}

/** What a card shows of its run: the result's fields, the verdict and the counters. */
function shown(p, letter) {
  return p.page.locator(`#card-${letter}`).evaluate((card) => {
    const out = {};
    for (const f of card.querySelectorAll('[data-testid="result"] [data-field]')) out[f.dataset.field] = f.textContent.trim();
    out.verdict = card.querySelector('[data-testid="verdict"]').textContent.trim();
    out.counters = card.querySelector('.counters').textContent.trim();
    return out;
  });
}

/** Clicks "Save image" and returns { name, png (Buffer), link (the footer's link) }. */
async function saveImage(p, which) {
  const s = shareOf(p, which);
  const [download] = await Promise.all([p.page.waitForEvent('download'), s.saveImage.click()]);
  const png = await fsp.readFile(await download.path());
  await eventually(async () => assert.equal(await s.status.innerText(), 'Image saved.'));
  return { name: download.suggestedFilename(), png, link: await s.row.getAttribute('data-link') };
}

/**
 * Decodes a PNG in the page and measures it: its size, the share of pixels that are not near
 * white, how many colours a sample of it has, and how many dark pixels its footer has.
 */
function measurePng(page, png) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    const footerTop = (c.height - 90) * c.width;
    let inked = 0;
    let footer = 0;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      if (r < 235 || g < 235 || b < 235) {
        inked++;
        if (i / 4 >= footerTop && r + g + b < 400) footer++;
      }
      if (i % 400 === 0) colours.add((r << 16) | (g << 8) | b);
    }
    return { width: c.width, height: c.height, inked: inked / (data.length / 4), footer, colours: colours.size };
  }, png.toString('base64'));
}

/** Asserts a PNG is one a person can read at its natural size. */
async function checkPng(p, { name, png }, what) {
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), `${what}: ${name} is a PNG`);
  const m = await measurePng(p.page, png);
  assert.equal(m.width, 1200, `${what}: 1200 px wide (${JSON.stringify(m)})`);
  assert.ok(m.height >= 300 && m.height <= 2400, `${what}: a sensible height (${JSON.stringify(m)})`);
  assert.ok(m.inked > 0.04, `${what}: not blank (${JSON.stringify(m)})`);
  assert.ok(m.colours >= 8, `${what}: drawn in colours (${JSON.stringify(m)})`);
  assert.ok(m.footer > 150, `${what}: the footer has its link written in it (${JSON.stringify(m)})`);
  return m;
}

/** The page's address without query or fragment. */
const base = (href) => href.split(/[?#]/)[0];

/** Whether an element's top is inside the viewport. */
function onScreen(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= -1 && r.top < window.innerHeight;
  });
}

describe('share a card', () => {
  test('Save image: a PNG of the card whose footer link reopens the same card with the same result (artifacts share-card-B.png, share-stats.png, share-herd.png)', async () => {
    await lab.withLab(
      '',
      async (p, q) => {
        // A student moves one knob, then saves card B.
        await p.setSlider('max_steps', 2);
        await eventually(async () => assert.match((await shown(p, 'B')).answer, /exceeded 2 steps/));
        const image = await saveImage(p, 'B');
        assert.equal(image.name, 'card-B.png');
        const m = await checkPng(p, image, 'card B');
        await fsp.mkdir(artifactsDir(), { recursive: true });
        await fsp.writeFile(path.join(artifactsDir(), 'share-card-B.png'), image.png);

        // The footer's link is the short one: one parameter, and the card.
        assert.equal(image.link, `${base(await p.href())}?max_steps=2#card-B`);
        // Another visitor opens it: the page scrolls to card B, which shows the same run.
        await q.gotoUrl(image.link);
        await eventually(async () => assert.equal(await onScreen(q.page.locator('#card-B')), true, 'card B is on screen'));
        assert.deepEqual(await shown(q, 'B'), await shown(p, 'B'));
        assert.equal(await q.notice.count(), 0, 'the link shows no notice');
        // The image of the same card from the reopened page is the same picture.
        const again = await saveImage(q, 'B');
        assert.deepEqual(await measurePng(q.page, again.png), m, 'the reopened card draws the same image');

        // The statistics and the herd panels, once computed.
        await p.waitStats();
        await eventually(async () => assert.equal((await p.tableRows('herd-table')).length, 5), { timeout: 20000 });
        for (const panel of ['stats', 'herd']) {
          const img = await saveImage(p, panel);
          assert.equal(img.name, `${panel}.png`);
          await checkPng(p, img, panel);
          assert.equal(img.link, `${base(await p.href())}?max_steps=2#${panel}`);
          await fsp.writeFile(path.join(artifactsDir(), `share-${panel}.png`), img.png);
        }
      },
      { secondPage: true, acceptDownloads: true },
    );
  });

  test('every card A–N saves an image of itself, named after it', async () => {
    await lab.withLab(
      '',
      async (p) => {
        for (const l of ALL_LETTERS) {
          const img = await saveImage(p, l);
          assert.equal(img.name, `card-${l}.png`);
          await checkPng(p, img, `card ${l}`);
          assert.equal(img.link, `${base(await p.href())}#card-${l}`, `card ${l}: a default page's link has no query`);
        }
      },
      { acceptDownloads: true },
    );
  });

  test('Copy link: a default page has no query; one knob moved gives a one-parameter link', async () => {
    await lab.withLab(
      '',
      async (p) => {
        const href = await p.href();
        assert.equal(new URL(href).search, '', 'the default page has no query');
        assert.ok(!href.includes('?'), `not even a bare "?": ${href}`);
        const e = shareOf(p, 'E');
        await e.copyLink.click();
        await eventually(async () => assert.equal(await e.status.innerText(), 'Link copied.'));
        assert.equal(await p.page.evaluate(() => navigator.clipboard.readText()), `${base(href)}#card-E`);

        await p.setSlider('timeout', 0.1);
        await eventually(async () => assert.equal(new URL(await p.href()).search, '?timeout=0.1'));
        await e.copyLink.click();
        await eventually(async () =>
          assert.equal(await p.page.evaluate(() => navigator.clipboard.readText()), `${base(href)}?timeout=0.1#card-E`),
        );
        assert.equal(await e.linkBox.isVisible(), false, 'no fallback box when copying worked');
      },
      {
        beforeGoto: (p) =>
          p.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(lab.server.url).origin }),
      },
    );
  });

  test('Copy image puts the card\'s PNG on the clipboard', async () => {
    await lab.withLab(
      '',
      async (p) => {
        const d = shareOf(p, 'D');
        await d.copyImage.click();
        await eventually(async () => assert.equal(await d.status.innerText(), 'Image copied.'));
        const copied = await p.page.evaluate(async () => {
          const [item] = await navigator.clipboard.read();
          const blob = await item.getType('image/png');
          const img = await createImageBitmap(blob);
          return { types: item.types, width: img.width, height: img.height };
        });
        assert.deepEqual(copied.types, ['image/png']);
        assert.equal(copied.width, 1200);
        assert.ok(copied.height >= 300, `a card's height (${copied.height})`);
      },
      {
        beforeGoto: (p) =>
          p.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(lab.server.url).origin }),
      },
    );
  });

  test('an old link carrying every setting still opens, and the address bar becomes the short link', async () => {
    await lab.withLab(
      '',
      async (p, q) => {
        // A trace file records every setting, as links used to: that is an old long link.
        await p.setSlider('max_steps', 2);
        const [download] = await Promise.all([p.page.waitForEvent('download'), p.page.locator('#card-B').getByTestId('export').click()]);
        const old = JSON.parse(await fsp.readFile(await download.path(), 'utf8')).settings;
        assert.ok(old.split('&').length >= 30, `every setting: ${old}`);
        assert.ok(old.includes('max_steps=2') && old.includes('failures=2'), old);

        await q.goto(`?${old}#card-B`);
        assert.equal(await q.notice.count(), 0, 'an old link shows no notice');
        assert.deepEqual(await shown(q, 'B'), await shown(p, 'B'));
        await eventually(async () => assert.equal(new URL(await q.href()).search, '?max_steps=2'));
        assert.equal(new URL(await q.href()).hash, '#card-B', 'the card in the link is kept');
        await eventually(async () => assert.equal(await onScreen(q.page.locator('#card-B')), true, 'card B is on screen'));
      },
      { secondPage: true, acceptDownloads: true },
    );
  });

  test('without a Clipboard API, Copy link shows the link to copy by hand, Copy image is not offered, and nothing throws', async () => {
    await lab.withLab(
      'seed=5',
      async (p) => {
        const a = shareOf(p, 'A');
        assert.equal(await a.copyImage.count(), 0, 'no Copy image without ClipboardItem');
        assert.equal(await a.linkBox.isVisible(), false);
        await a.copyLink.click();
        await eventually(async () =>
          assert.match(await a.status.innerText(), /^Could not copy the link \(.+\): copy it from the box below\.$/),
        );
        await a.linkBox.waitFor();
        assert.equal(await a.linkBox.inputValue(), `${base(await p.href())}?seed=5#card-A`);
        // Save image still works: it needs no clipboard.
        await checkPng(p, await saveImage(p, 'A'), 'card A without a clipboard');
      },
      {
        acceptDownloads: true,
        // As on a page served over plain http from a LAN address, where neither exists.
        beforeGoto: (p) =>
          p.context.addInitScript(() => {
            delete Navigator.prototype.clipboard;
            delete window.ClipboardItem;
          }),
      },
    );
  });
});
