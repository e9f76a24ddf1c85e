// Card D: the human approval gate. Approve, Deny, ask again, and the link remembers.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, eventually } from './lab-page.mjs';

describe('approval gate (card D)', () => {
  const lab = useLab();

  async function expectPaused(p) {
    const d = p.card('D');
    await p.expectField('D', 'answer', /^Paused: send_email is waiting/);
    await p.expectField('D', 'blocked', '[]');
    assert.equal(await d.tone(), 'waiting');
    assert.equal(await d.approve.isVisible(), true);
    assert.equal(await d.deny.isVisible(), true);
    assert.equal(await d.askAgain.count(), 0);
    await p.expectQuery({ approval: undefined });
  }

  test('Approve sends the email, Ask again pauses it again', async () => {
    await lab.withLab('', async (p) => {
      const d = p.card('D');
      await expectPaused(p);
      const others = await p.snapshotAll();

      await d.approve.click();
      await p.expectField('D', 'answer', 'Email sent to all-staff@example.com.');
      await p.expectField('D', 'blocked', '[]');
      await p.expectQuery({ approval: 'approve' });
      assert.notEqual(await d.tone(), 'waiting');
      assert.equal(await d.approve.count(), 0, 'Approve is gone after the decision');
      assert.equal(await d.deny.count(), 0, 'Deny is gone after the decision');
      assert.equal(await d.askAgain.isVisible(), true);

      // The decision is D's alone.
      const after = await p.snapshotAll();
      for (const l of ['A', 'B', 'C', 'E', 'F']) assert.deepEqual(after[l], others[l], `card ${l} unchanged`);

      await d.askAgain.click();
      await expectPaused(p);
    });
  });

  test('Deny keeps send_email blocked; the link and a reload keep the decision', async () => {
    await lab.withLab('', async (p) => {
      const d = p.card('D');
      await d.deny.click();
      await p.expectQuery({ approval: 'deny' });
      await p.expectField('D', 'blocked', "['send_email']");
      await eventually(async () => assert.doesNotMatch(await d.field('answer'), /^Paused/));
      assert.notEqual(await d.tone(), 'waiting', 'a denied run is no longer waiting');
      assert.equal(await d.askAgain.isVisible(), true);
      const denied = await d.snapshot();

      await p.reload();
      assert.equal((await p.query()).approval, 'deny');
      assert.deepEqual(await d.snapshot(), denied, 'a reload shows the same denied run');

      // Change our mind: ask again, then approve.
      await d.askAgain.click();
      await expectPaused(p);
      await d.approve.click();
      await p.expectQuery({ approval: 'approve' });
      await p.expectField('D', 'answer', 'Email sent to all-staff@example.com.');

      // Moving a slider keeps the decision in the link and on the card.
      await p.setSlider('failures', 1);
      await p.expectQuery({ failures: '1', approval: 'approve' });
      await p.expectField('D', 'answer', 'Email sent to all-staff@example.com.');
    });
  });

  test('keyboard users can approve: the buttons are focusable and work with Enter', async () => {
    await lab.withLab('', async (p) => {
      const d = p.card('D');
      await d.approve.focus();
      await p.page.keyboard.press('Enter');
      await p.expectQuery({ approval: 'approve' });
      await p.expectField('D', 'blocked', '[]');
    });
  });
});
