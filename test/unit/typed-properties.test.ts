import { describe, expect, expectTypeOf, it } from 'vitest';
import { Pem, type PemProperties, type StoredPem } from '../../src/index.js';
import { MockRKClient, MockRKQuery } from '../../src/testing/index.js';

/** An interface, not a type alias: it has no index signature, which PemProperties has. */
interface TrainRun {
  epochs: number;
  optimizer: 'adam' | 'sgd';
}

describe('typed PEM properties', () => {
  it('preparePem<P> types the properties it takes and gives, and the PEM is sent and read back as P', async () => {
    const rk = new MockRKClient('trainer');
    const pem = rk.preparePem<TrainRun>('train', { properties: { epochs: 3, optimizer: 'adam' } });
    expectTypeOf(pem).toEqualTypeOf<Pem<TrainRun>>();
    expectTypeOf(pem.Properties.epochs).toEqualTypeOf<number>();
    // @ts-expect-error a property TrainRun does not have
    rk.preparePem<TrainRun>('train', { properties: { epochs: 3, optimizer: 'adam', lr: 0.1 } });
    // @ts-expect-error a value of the wrong type
    rk.preparePem<TrainRun>('train', { properties: { epochs: '3', optimizer: 'adam' } });

    // A typed PEM goes wherever a PEM goes: sendPem, setTag, a predecessor.
    expect((await rk.sendPem(pem)).ok).toBe(true);
    expect((await rk.setTag('trainer', 'best', pem)).ok).toBe(true);
    const next = rk.preparePem('evaluate', { predecessor: pem });
    expect(next.Predecessor).toBe(pem.ID);

    const query = new MockRKQuery(rk);
    const back = await query.getPem<TrainRun>(pem.ID);
    expect(back.ok && back.value.Properties).toEqual({ epochs: 3, optimizer: 'adam' });
    if (back.ok) expectTypeOf(back.value.Properties.optimizer).toEqualTypeOf<'adam' | 'sgd'>();
    const listed = await query.getPems<TrainRun>({ filters: { Type: 'train' } });
    expect(listed.ok && listed.value.map((p) => p.Properties.epochs)).toEqual([3]);
    for await (const stored of query.pems<TrainRun>({ pageSize: 10 })) {
      expectTypeOf(stored).toEqualTypeOf<StoredPem<TrainRun>>();
      expect(stored.Properties.epochs).toBe(3);
    }
  });

  it('without P, P is what the properties given say, and any JSON object when none are given', () => {
    const rk = new MockRKClient('trainer');
    const pem = rk.preparePem('train', { properties: { epochs: 3 } });
    expectTypeOf(pem.Properties.epochs).toEqualTypeOf<number>();
    expect(pem.Properties).toEqual({ epochs: 3 });
    const bare = rk.preparePem('train');
    expectTypeOf(bare).toEqualTypeOf<Pem<PemProperties>>();
    expect(bare.Properties).toEqual({});
  });

  it('P is a type, not a check: properties that are not a JSON object are still refused at run time', () => {
    const rk = new MockRKClient('trainer');
    expect(() => rk.preparePem<object>('train', { properties: new Date() })).toThrow(/properties/);
  });
});
