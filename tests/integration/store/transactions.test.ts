/**
 * The store contract's transactions: what a use case may rely on, whatever the database. Calls
 * made meanwhile from elsewhere neither see nor join a transaction; a nested one fails alone; a
 * read that decides a write holds when two decide at once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/contract.ts';
import { createStore } from '../../../src/store/index.ts';
import { scratchPostgresStore } from '../../support/postgres.ts';
import { cipher, createTestDb } from '../notify/fixtures.ts';

const now = new Date('2026-12-05T12:00:00.000Z');
const state = (name: string) => ({ state: name, crm: 'hubspot' as const, codeVerifier: null, expiresAt: '2099-01-01T00:00:00.000Z' });
const exists = async (store: Store, name: string) => {
  const row = await store.oauthStates.take(name);
  if (row) await store.oauthStates.save(state(name), now);
  return row !== undefined;
};

/**
 * Work of another request: its continuation was set up outside the transaction, and runs when
 * `go()` is called from inside it (as a webhook's would while a sync's transaction is open).
 */
function elsewhere() {
  let go!: () => void;
  const started = new Promise<void>((resolve) => {
    go = resolve;
  });
  return Object.assign(started, { go });
}

const stores: [string, () => Promise<Store>][] = [
  ['SQLite', async () => createStore(createTestDb(), cipher)],
  ['PostgreSQL', scratchPostgresStore],
];

describe.each(stores)('transactions on %s', (_name, open) => {
  const opened: Store[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });
  const openStore = async () => {
    const store = await open();
    opened.push(store);
    return store;
  };

  it('a call made elsewhere while a transaction is open is not part of it: it survives the rollback', async () => {
    const store = await openStore();
    const meanwhile = elsewhere();
    const saved = meanwhile.then(() => store.oauthStates.save(state('outside'), now));
    await expect(
      store.transaction(async () => {
        await store.oauthStates.save(state('inside'), now);
        meanwhile.go();
        await store.oauthStates.take('inside');
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    await saved;
    expect(await exists(store, 'outside')).toBe(true);
    expect(await exists(store, 'inside')).toBe(false);
  });

  it('a read made elsewhere does not see a transaction that is rolled back', async () => {
    const store = await openStore();
    const meanwhile = elsewhere();
    const seen = meanwhile.then(() => exists(store, 'uncommitted'));
    await store
      .transaction(async () => {
        await store.oauthStates.save(state('uncommitted'), now);
        meanwhile.go();
        await store.oauthStates.take('nothing');
        throw new Error('undo');
      })
      .catch(() => undefined);
    expect(await seen).toBe(false);
  });

  it('a nested transaction that fails is undone alone; the outer one commits', async () => {
    const store = await openStore();
    await store.transaction(async () => {
      await store.oauthStates.save(state('outer'), now);
      await expect(
        store.transaction(async () => {
          await store.oauthStates.save(state('inner'), now);
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
    });
    expect(await exists(store, 'outer')).toBe(true);
    expect(await exists(store, 'inner')).toBe(false);
  });

  it('two transactions deciding the same write at once: one writes, the other sees it', async () => {
    const store = await openStore();
    await store.oauthStates.save(state('once'), now);
    const takeOnce = () => store.transaction(async () => (await store.oauthStates.take('once')) !== undefined);
    const taken = await Promise.all([takeOnce(), takeOnce(), takeOnce()]);
    expect(taken.filter(Boolean)).toHaveLength(1);
  });
});

describe('transactions on SQLite', () => {
  it('refuse to wait for I/O while holding the write lock, and undo what they did', async () => {
    const store = createStore(createTestDb(), cipher);
    await expect(
      store.transaction(async () => {
        await store.oauthStates.save(state('slow'), now);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }),
    ).rejects.toThrow(/waited for I\/O/);
    expect(await exists(store, 'slow')).toBe(false);
  });

  it('refuse it too when entered from a setImmediate callback on a loop running late', async () => {
    const store = createStore(createTestDb(), cipher);
    // Two callbacks of one check phase: the first opens the transaction, whose work awaits a 5 ms
    // timer; the second keeps the loop busy past it, so the timer is due before the next check phase.
    const outcome = new Promise<unknown>((resolve) => {
      setImmediate(() => {
        store
          .transaction(async () => {
            await store.oauthStates.save(state('late'), now);
            await new Promise((wait) => setTimeout(wait, 5));
          })
          .then(resolve, resolve);
      });
      setImmediate(() => {
        const until = Date.now() + 20;
        while (Date.now() < until);
      });
    });
    expect(await outcome).toEqual(expect.objectContaining({ message: expect.stringMatching(/waited for I\/O/) }));
    expect(await exists(store, 'late')).toBe(false);
  });
});
